"""The start-up check of the guard (`manage.py check`): turned on by the setting, it needs
its middleware to see views that only declare their queries."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

from eventbus.conf import bus_settings

MIDDLEWARE = "eventbus.ownership.middleware.ViewModuleMiddleware"


@register("eventbus")
def check_view_middleware(**kwargs: Any) -> list[CheckMessage]:
    """A warning when EVENTBUS['OWNERSHIP_GUARD'] is on and MIDDLEWARE lacks the guard's."""
    if not bus_settings.OWNERSHIP_GUARD or MIDDLEWARE in settings.MIDDLEWARE:
        return []
    return [
        Warning(
            "EVENTBUS['OWNERSHIP_GUARD'] is on but MIDDLEWARE lacks the guard's: a query that a "
            "view only declares (a DRF generic view's queryset) runs as no module's code, so "
            "the guard cannot see it cross.",
            hint=f"Add {MIDDLEWARE!r} last in MIDDLEWARE.",
            id="eventbus.W001",
        )
    ]

"""Start-up checks of the bus (`manage.py check`): every stored version stays readable."""

from typing import Any

from django.core.checks import CheckMessage, Error, register

from eventbus.contracts.upcasting import has_upcaster
from eventbus.events import latest_event_class, registered_events
from eventbus.subscriptions import all_subscriptions


@register("eventbus")
def check_versions(**kwargs: Any) -> list[CheckMessage]:
    """An error for each old registered version with no upcaster to the next one, and for
    each handler subscribed to an old version (handlers receive the newest)."""
    errors: list[CheckMessage] = []
    for cls in registered_events():
        newest_version = latest_event_class(cls.event_name).event_version
        for version in range(cls.event_version, newest_version):
            if not has_upcaster(cls.event_name, version):
                errors.append(
                    Error(
                        f"{cls.event_name!r} v{cls.event_version} is registered but nothing "
                        f"upcasts v{version} to v{version + 1}, so its stored messages "
                        "cannot be delivered.",
                        hint=f"Add @upcaster({cls.event_name!r}, from_version={version}).",
                        obj=cls,
                        id="eventbus.E001",
                    )
                )
    for sub in all_subscriptions():
        newest = latest_event_class(sub.event.event_name)
        if newest is not sub.event:
            errors.append(
                Error(
                    f"{sub.handler_id} subscribes to {sub.event.event_name!r} "
                    f"v{sub.event.event_version}, but v{newest.event_version} exists: "
                    "handlers receive the newest version.",
                    hint=f"Subscribe to {newest.__module__}.{newest.__qualname__}.",
                    obj=sub.func,
                    id="eventbus.E002",
                )
            )
    return errors

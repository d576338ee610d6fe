"""The start-up check that refuses OutboxTaskBackend on a Django without ``django.tasks``."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.utils.module_loading import import_string

from eventbus.tasks import SUPPORTED, TasksNeedDjango6


def _needs_django6(backend: str) -> bool:
    """Whether the dotted path is OutboxTaskBackend or a subclass (which cannot import)."""
    if backend.startswith("eventbus.tasks"):
        return True
    try:
        import_string(backend)
    except TasksNeedDjango6:
        return True
    except ImportError:
        return False  # another backend of django.tasks; not the bus's to judge
    return False


@register("eventbus")
def check_tasks_backend(**kwargs: Any) -> list[CheckMessage]:
    """eventbus.E020 for each TASKS alias whose backend is OutboxTaskBackend, before 6.0."""
    if SUPPORTED:
        return []
    return [
        Error(
            f"TASKS[{alias!r}]: {TasksNeedDjango6()}",
            hint="Upgrade Django to 6.0 or later, or remove it from TASKS on Django 5.2.",
            id="eventbus.E020",
        )
        for alias, options in getattr(settings, "TASKS", {}).items()
        if _needs_django6(str(options.get("BACKEND", "")))
    ]

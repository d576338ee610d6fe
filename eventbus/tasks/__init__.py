"""A backend for Django's tasks framework (``django.tasks``) built on the bus's outbox.

    TASKS = {"default": {"BACKEND": "eventbus.tasks.OutboxTaskBackend"}}

A task enqueued with this backend is an outbox row of the bus's internal event
``eventbus.task_enqueued``, written in the caller's transaction, with one delivery to the
built-in handler that runs it. Only ``eventbus worker`` runs it, with the retries, backoff,
dead letters, admin, stats and lifecycle signals of any delivery; that delivery record is
the task's result. See docs/django-tasks.md.

``django.tasks`` came with Django 6.0. On Django 5.2 this package still imports, but
``OutboxTaskBackend`` is refused: reaching for it raises TasksNeedDjango6 (an
ImproperlyConfigured), and ``manage.py check`` reports eventbus.E020 for a TASKS setting
that names it.
"""

from typing import TYPE_CHECKING, Any

import django
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from eventbus.tasks.backend import OutboxTaskBackend

__all__ = ["SUPPORTED", "OutboxTaskBackend", "TasksNeedDjango6", "configured", "known_queues"]

#: Whether this Django has ``django.tasks`` (6.0 or later), which OutboxTaskBackend is for.
SUPPORTED = django.VERSION >= (6, 0)


class TasksNeedDjango6(ImproperlyConfigured):
    """OutboxTaskBackend was asked for on a Django without ``django.tasks`` (before 6.0)."""

    def __init__(self) -> None:
        super().__init__(
            "eventbus.tasks.OutboxTaskBackend is a backend of django.tasks, which Django "
            f"added in 6.0; this is Django {django.get_version()}. Upgrade Django to 6.0 or "
            "later, or remove OutboxTaskBackend from settings.TASKS."
        )


def __getattr__(name: str) -> Any:
    """OutboxTaskBackend, imported when first asked for: on Django 5.2 a clear refusal."""
    if name == "OutboxTaskBackend":
        if not SUPPORTED:
            raise TasksNeedDjango6()
        from eventbus.tasks.backend import OutboxTaskBackend

        return OutboxTaskBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def configured() -> bool:
    """Whether settings.TASKS names an OutboxTaskBackend (or a subclass): only then is the
    task runner subscribed, so a project without tasks sees no task handler in its stats.
    Always False before Django 6.0 (``manage.py check`` says why, eventbus.E020)."""
    if not SUPPORTED:
        return False
    from django.conf import settings
    from django.utils.module_loading import import_string

    from eventbus.tasks.backend import OutboxTaskBackend

    return any(
        issubclass(import_string(alias["BACKEND"]), OutboxTaskBackend)
        for alias in getattr(settings, "TASKS", {}).values()
    )


def known_queues() -> set[str] | None:
    """The queue names the OutboxTaskBackends of settings.TASKS accept (none before Django
    6.0); None when one of them accepts any name (its QUEUES is empty)."""
    if not SUPPORTED:
        return set()
    from eventbus.tasks.backend import known_queues as backends_queues

    return backends_queues()

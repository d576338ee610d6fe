"""A backend for Django's tasks framework (``django.tasks``) built on the bus's outbox.

    TASKS = {"default": {"BACKEND": "eventbus.tasks.OutboxTaskBackend"}}

A task enqueued with this backend is an outbox row of the bus's internal event
``eventbus.task_enqueued``, written in the caller's transaction, with one delivery to the
built-in handler that runs it. Only ``eventbus worker`` runs it, with the retries, backoff,
dead letters, admin, stats and lifecycle signals of any delivery; that delivery record is
the task's result. See docs/django-tasks.md.
"""

from eventbus.tasks.backend import OutboxTaskBackend

__all__ = ["OutboxTaskBackend"]

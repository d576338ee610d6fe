"""OutboxTaskBackend: Django's task backend whose queue is the bus's outbox."""

import time
from typing import Any, ParamSpec, TypeVar

from django.db import DEFAULT_DB_ALIAS, transaction
from django.tasks import Task, TaskResult, TaskResultStatus, task_backends
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.exceptions import InvalidTask
from django.tasks.signals import task_enqueued

from eventbus.envelope import Envelope
from eventbus.publishing import write_traced
from eventbus.signals import announce, event_published
from eventbus.tasks.events import TaskEnqueued
from eventbus.tasks.loading import NotJSON, as_json
from eventbus.tasks.results import RUN_TASK, task_result
from eventbus.together import NewTask, write_task

P = ParamSpec("P")
R = TypeVar("R")


class InvalidTaskArguments(InvalidTask, TypeError):
    """A task's arguments cannot be stored as JSON; nothing was enqueued."""


class OutboxTaskBackend(BaseTaskBackend):
    """Enqueue writes the task to the outbox in the caller's transaction (its own one in
    autocommit): a rollback enqueues nothing. ``eventbus worker`` runs it, higher priority
    first, not before its ``run_after``, with the retries and dead letters of a delivery.
    Results are read back from any process. Tasks live in the default database."""

    supports_defer = True
    supports_priority = True
    supports_get_result = True
    supports_async_task = False  # run by the synchronous worker, inside its transaction

    def enqueue(self, task: "Task[P, R]", args: Any, kwargs: dict[str, Any]) -> "TaskResult[P, R]":
        """Validate the task as Django does (queue name, priority, ``run_after``) and its
        arguments as JSON, then write it. Raises InvalidTask (InvalidTaskArguments for
        arguments that are not JSON) and writes nothing."""
        self.validate_task(task)
        try:
            plain_args = as_json(list(args), what=f"The arguments of {task.module_path}")
            plain_kwargs = as_json(
                dict(kwargs), what=f"The keyword arguments of {task.module_path}"
            )
        except NotJSON as exc:
            raise InvalidTaskArguments(str(exc)) from None
        event = TaskEnqueued(
            task=task.module_path,
            backend=self.alias,
            args=plain_args,
            kwargs=plain_kwargs,
            priority=task.priority,
            queue_name=task.queue_name,
            run_after=task.run_after,
            takes_context=task.takes_context,
        )
        connection = transaction.get_connection(DEFAULT_DB_ALIAS)
        if connection.in_atomic_block:  # the caller's transaction: no savepoint needed
            return self._write(task, event)
        with transaction.atomic(using=DEFAULT_DB_ALIAS):
            return self._write(task, event)

    def _write(self, task: "Task[P, R]", event: TaskEnqueued) -> "TaskResult[P, R]":
        """Insert the task's outbox row and delivery; announce both once they commit. When
        tracing is on it runs in a ``create`` span, as publish() does, so the worker's
        ``process`` span of the task joins the trace of the request that enqueued it."""
        return write_traced(event, lambda envelope: self._insert(task, event, envelope))

    def _insert(
        self, task: "Task[P, R]", event: TaskEnqueued, envelope: Envelope
    ) -> "TaskResult[P, R]":
        started = time.perf_counter()
        new_task = NewTask(
            envelope,
            handler=RUN_TASK,
            priority=task.priority,
            queue=task.queue_name,
            due_at=task.run_after or envelope.occurred_at,
        )
        result: TaskResult[P, R] = TaskResult(
            task=task,
            id=str(envelope.event_id),
            status=TaskResultStatus.READY,
            enqueued_at=envelope.occurred_at,
            started_at=None,
            finished_at=None,
            last_attempted_at=None,
            args=event.args,
            kwargs=event.kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )

        def written() -> None:
            announce(event_published, envelope, duration=time.perf_counter() - started)
            transaction.on_commit(
                lambda: task_enqueued.send(type(self), task_result=result), using=DEFAULT_DB_ALIAS
            )

        write_task(DEFAULT_DB_ALIAS, new_task, written)
        return result

    def get_result(self, result_id: str) -> "TaskResult[..., Any]":
        """Read the task's result from its delivery record, in any process; raises
        TaskResultDoesNotExist for an id that names no task."""
        return task_result(result_id)


def known_queues() -> set[str] | None:
    """The queue names the OutboxTaskBackends of settings.TASKS accept; None when one of
    them accepts any name (its QUEUES is empty)."""
    names: set[str] = set()
    for backend in task_backends.all():
        if isinstance(backend, OutboxTaskBackend):
            if not backend.queues:
                return None
            names |= backend.queues
    return names

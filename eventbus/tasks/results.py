"""A task's result, read from its delivery record: Django's TaskResult of one enqueued task.

The result id is the event id of the task's outbox row. Its status follows the delivery's:
waiting (enqueued, or its ``run_after`` not come) and failed (to be retried) are READY,
succeeded is SUCCESSFUL, dead and discarded are FAILED. Each failed attempt is one of its
``errors``; the return value is the task's TaskReturn row.
"""

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.tasks import Task, TaskResult, TaskResultStatus
from django.tasks.base import TaskError
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils import timezone

from eventbus.models import Delivery, DeliveryAttempt, TaskReturn
from eventbus.process import process_name
from eventbus.tasks.events import TaskEnqueued
from eventbus.tasks.loading import load_task

#: The handler whose delivery runs a task (eventbus.tasks.runner.run_task).
RUN_TASK = "eventbus.tasks.runner.run_task"

#: A task's status by its delivery's status.
STATUSES = {
    Delivery.Status.WAITING: TaskResultStatus.READY,
    Delivery.Status.FAILED: TaskResultStatus.READY,
    Delivery.Status.SUCCEEDED: TaskResultStatus.SUCCESSFUL,
    Delivery.Status.DEAD: TaskResultStatus.FAILED,
    Delivery.Status.DISCARDED: TaskResultStatus.FAILED,
}

#: What stands in ``worker_ids`` for an attempt whose worker was not recorded (made before
#: the bus recorded it). Django counts a task's attempts by its ``worker_ids``.
WORKER_ID = "eventbus"


def task_result(
    result_id: str, *, using: str = DEFAULT_DB_ALIAS, running: bool = False
) -> "TaskResult[..., Any]":
    """The result of the task enqueued as event ``result_id``; raises TaskResultDoesNotExist
    for an id that names no task, TaskNotFound when the task's module path no longer names
    a task (its code is gone). ``running``: as seen by the attempt running now (status
    RUNNING, that attempt counted), for a task's context. One read-only query (the delivery
    with its event and return value), and one more for a task that failed an attempt (its
    errors)."""
    try:
        event_id = uuid.UUID(str(result_id))
    except ValueError:
        raise TaskResultDoesNotExist(result_id) from None
    delivery = (
        Delivery.objects.using(using)
        .select_related("message", "message__task_return")
        .filter(message_id=event_id, handler=RUN_TASK)
        .first()
    )
    if delivery is None:
        raise TaskResultDoesNotExist(result_id)
    event = TaskEnqueued.model_validate(delivery.message.payload)
    failures = (
        list(DeliveryAttempt.objects.using(using).filter(delivery=delivery).order_by("number"))
        if _failed_attempts(delivery)
        else []
    )
    returned = _returned(delivery) if delivery.status == Delivery.Status.SUCCEEDED else None
    status = TaskResultStatus.RUNNING if running else STATUSES[Delivery.Status(delivery.status)]
    attempts = delivery.attempts + (1 if running else 0)
    attempted_at = timezone.now() if running else delivery.updated_at
    started_at = failures[0].failed_at if failures else attempted_at
    finished = status in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)
    task = task_of(event)
    result: TaskResult[..., Any] = TaskResult(
        task=task,
        id=str(event_id),
        status=status,
        enqueued_at=delivery.message.occurred_at,
        started_at=started_at if attempts else None,
        finished_at=delivery.updated_at if finished else None,
        last_attempted_at=attempted_at if attempts else None,
        args=event.args,
        kwargs=event.kwargs,
        backend=event.backend,
        errors=[
            TaskError(exception_class_path=exception_path(f), traceback=f.traceback)
            for f in failures
        ],
        worker_ids=_worker_ids(failures, returned, attempts, running=running),
    )
    if status == TaskResultStatus.SUCCESSFUL:
        object.__setattr__(result, "_return_value", returned.value if returned else None)
    return result


def _worker_ids(
    failures: list[DeliveryAttempt], returned: TaskReturn | None, attempts: int, *, running: bool
) -> list[str]:
    """One entry per attempt, oldest first: the process that made it (a failed attempt's
    and the success's, as recorded; this process for the attempt running now)."""
    ids = [failure.worker or WORKER_ID for failure in failures]
    if returned is not None:
        ids.append(returned.worker or WORKER_ID)
    if running:
        ids.append(process_name())
    # As many as the attempts the delivery counts, whatever was recorded.
    return (ids + [WORKER_ID] * attempts)[:attempts]


def _returned(delivery: Delivery) -> TaskReturn | None:
    """The succeeded task's return value row, read with the delivery."""
    try:
        return delivery.message.task_return
    except TaskReturn.DoesNotExist:
        return None


def _failed_attempts(delivery: Delivery) -> int:
    """How many of the delivery's attempts failed, each one a DeliveryAttempt row: all of
    them, but the last one of a success."""
    succeeded = delivery.status == Delivery.Status.SUCCEEDED
    return max(delivery.attempts - (1 if succeeded else 0), 0)


def task_of(event: TaskEnqueued) -> "Task[..., Any]":
    """The enqueued task as it was enqueued (its priority, queue, run_after, backend)."""
    return replace(
        load_task(event.task),
        priority=event.priority,
        queue_name=event.queue_name,
        run_after=event.run_after,
        takes_context=event.takes_context,
        backend=event.backend,
    )


def starting_result(
    event: TaskEnqueued, *, result_id: str, enqueued_at: datetime
) -> "TaskResult[..., Any]":
    """The result as an attempt starting now sees it, made from the event without a query
    (what ``task_started`` carries): RUNNING; the errors of earlier attempts are not in it
    (``get_result`` reads them)."""
    now = timezone.now()
    return TaskResult(
        task=task_of(event),
        id=result_id,
        status=TaskResultStatus.RUNNING,
        enqueued_at=enqueued_at,
        started_at=now,
        finished_at=None,
        last_attempted_at=now,
        args=event.args,
        kwargs=event.kwargs,
        backend=event.backend,
        errors=[],
        worker_ids=[process_name()],
    )


def exception_path(failure: DeliveryAttempt) -> str:
    """The dotted path of the exception class of a failed attempt, read from its traceback
    (whose last line names it with its module, unless it is a builtin)."""
    short = failure.error.split(":", 1)[0]
    for line in reversed(failure.traceback.splitlines()):
        head = line.split(":", 1)[0]
        if head == short or head.endswith(f".{short}"):
            return head if "." in head else f"builtins.{head}"
    return f"builtins.{short}"

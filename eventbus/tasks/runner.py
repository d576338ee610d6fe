"""The built-in handler that runs an enqueued task, delivered to it by ``eventbus worker``.

It runs inside the delivery's transaction (a savepoint of the worker's batch): the task's
database effects, its return value and its success record commit together, and a task that
raises leaves nothing behind but its failed attempt, retried with backoff like any delivery.
"""

from django.db import connection
from django.tasks import TaskContext

from eventbus.context import current_envelope
from eventbus.exceptions import DoNotRetry
from eventbus.models import TaskReturn
from eventbus.process import process_name
from eventbus.subscriptions import subscriber
from eventbus.tasks.events import TaskEnqueued
from eventbus.tasks.loading import NotJSON, as_json, load_task
from eventbus.tasks.results import task_result
from eventbus.tasks.signals import send_started


@subscriber(TaskEnqueued)
def run_task(event: TaskEnqueued) -> None:
    """Import the task, send ``task_started``, call it with its arguments (and its context,
    as the attempt now running sees it, when it takes one) and store its return value.

    Raises what the task raises (the delivery is retried); DoNotRetry, so dead-lettered at
    once, when the task cannot be found or its return value is not JSON."""
    envelope = current_envelope()
    assert envelope is not None, "run by the delivery engine, which sets the envelope"
    task = load_task(event.task)
    send_started(event, envelope)
    if event.takes_context:
        context = TaskContext(task_result=task_result(str(envelope.event_id), running=True))
        value = task.call(context, *event.args, **event.kwargs)
    else:
        value = task.call(*event.args, **event.kwargs)
    try:
        stored = as_json(value, what=f"the return value of {event.task}")
    except NotJSON as exc:
        raise DoNotRetry(str(exc)) from None
    # One statement (INSERT ... ON CONFLICT DO UPDATE, on MariaDB ON DUPLICATE KEY UPDATE,
    # which names no conflict target): a task run again (a replay) replaces what its earlier
    # run returned.
    with_target = connection.features.supports_update_conflicts_with_target
    TaskReturn.objects.bulk_create(
        [TaskReturn(message_id=envelope.event_id, value=stored, worker=process_name())],
        update_conflicts=True,
        unique_fields=["message"] if with_target else None,
        update_fields=["value", "worker"],
    )

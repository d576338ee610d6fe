"""Django's task signals, sent for the tasks this backend runs.

``task_started`` goes out as the worker begins an attempt (from the runner, inside the
attempt's transaction, with the result as that attempt sees it: RUNNING). ``task_finished``
goes out once a task is done for good and that is committed: it succeeded, or it failed
with no attempt left (a dead letter), with the result read back as ``get_result`` gives it.
An attempt that fails and will be retried ends nothing. ``task_enqueued`` is sent by the
backend when the enqueuing transaction commits. The sender is OutboxTaskBackend.
"""

from typing import Any

from django.tasks.signals import task_finished, task_started

from eventbus.envelope import Envelope
from eventbus.signals import delivery_dead_lettered, delivery_succeeded
from eventbus.tasks.events import TaskEnqueued
from eventbus.tasks.results import RUN_TASK, starting_result, task_result


def send_started(event: TaskEnqueued, envelope: Envelope) -> None:
    """Send ``task_started`` for the attempt the runner is about to make."""
    from eventbus.tasks.backend import OutboxTaskBackend

    if task_started.has_listeners(OutboxTaskBackend):
        result = starting_result(
            event, result_id=str(envelope.event_id), enqueued_at=envelope.occurred_at
        )
        task_started.send(OutboxTaskBackend, task_result=result)


def _send_finished(sender: str, *, envelope: Envelope, handler_id: str, **extra: Any) -> None:
    from eventbus.tasks.backend import OutboxTaskBackend

    if handler_id == RUN_TASK and task_finished.has_listeners(OutboxTaskBackend):
        task_finished.send(OutboxTaskBackend, task_result=task_result(str(envelope.event_id)))


def connect() -> None:
    """Send ``task_finished`` on the bus's signals of a task's last delivery (once)."""
    for signal in (delivery_succeeded, delivery_dead_lettered):
        signal.connect(_send_finished, sender=TaskEnqueued.event_name)

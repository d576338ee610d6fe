"""The bus's internal event of one enqueued task: what the worker needs to run it."""

from datetime import datetime
from typing import Any

from eventbus.events import Event


class TaskEnqueued(Event):
    """A Django task enqueued through OutboxTaskBackend. Internal: written by the backend,
    never with publish(), never relayed to the broker (the enqueuing service's worker runs
    it), and not part of any module's contract (catalogue, schema lock, AsyncAPI)."""

    event_name = "eventbus.task_enqueued"
    event_version = 1
    internal = True

    task: str  # the task's module path, e.g. "orders.tasks.send_order_confirmation"
    backend: str  # the alias in settings.TASKS it was enqueued through
    args: list[Any]
    kwargs: dict[str, Any]
    priority: int = 0
    queue_name: str = "default"
    run_after: datetime | None = None
    takes_context: bool = False

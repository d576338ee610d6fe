"""write_together(): the outbox rows of several publishes and task enqueues in one statement.

    with transaction.atomic():
        order = ...
        with write_together():
            publish(OrderPlaced(...))
            send_order_confirmation.enqueue(order_id=order.pk)

Inside the block, ``publish()`` and ``enqueue()`` build their rows and return as usual, but
write nothing yet: the rows are written when the block ends, together (one statement on
PostgreSQL, so one round trip instead of one each; one after another elsewhere), still in
the caller's transaction. Their after-commit work (inline dispatch, signals, observers) is
scheduled then too. If the block raises, nothing of it is written or scheduled, as if it had
not run. A block inside another joins the outer one.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import DEFAULT_DB_ALIAS, connections

from eventbus.envelope import Envelope
from eventbus.exceptions import NotInTransactionError

if TYPE_CHECKING:
    from eventbus.storage import Store


@dataclass(frozen=True, slots=True)
class NewMessage:
    """An outbox row to insert (Store.insert_message's arguments)."""

    envelope: Envelope
    dispatched: bool
    notify: bool
    broker: str


@dataclass(frozen=True, slots=True)
class NewTask:
    """A task's outbox row and waiting delivery to insert (Store.insert_task's arguments)."""

    envelope: Envelope
    handler: str
    priority: int
    queue: str
    due_at: datetime


def _store(using: str) -> "Store":
    # Imported here: the stores need the models, and `from eventbus import write_together`
    # must work before the app registry is ready.
    from eventbus.storage import store_for

    return store_for(using)


@dataclass
class _Batch:
    using: str
    messages: list[NewMessage] = field(default_factory=list)
    tasks: list[NewTask] = field(default_factory=list)
    after: list[Callable[[], object]] = field(default_factory=list)

    def flush(self) -> None:
        if self.messages or self.tasks:
            _store(self.using).insert_many(self.messages, self.tasks)
        for written in self.after:
            written()


_open: ContextVar[_Batch | None] = ContextVar("eventbus_write_together", default=None)


@contextmanager
def write_together(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Defer the outbox writes of the block's publishes and enqueues on ``using`` to its end,
    and make them one statement. Raises NotInTransactionError outside ``atomic()``."""
    if not connections[using].in_atomic_block:
        raise NotInTransactionError(
            "write_together() was called outside a transaction. Open it inside "
            "`with transaction.atomic():`, around the publish() and enqueue() calls."
        )
    outer = _open.get()
    if outer is not None and outer.using == using:
        yield
        return
    batch = _Batch(using)
    token = _open.set(batch)
    try:
        yield
    finally:
        _open.reset(token)
    batch.flush()


def deferred(using: str) -> _Batch | None:
    """The open block for ``using`` in this context, if any (for publish and enqueue)."""
    batch = _open.get()
    return batch if batch is not None and batch.using == using else None


def write_message(using: str, message: NewMessage, written: Callable[[], object]) -> None:
    """Insert ``message`` now, or at the end of the open block; then call ``written``."""
    _write(using, written, messages=[message])


def write_task(using: str, task: NewTask, written: Callable[[], object]) -> None:
    """Insert ``task`` now, or at the end of the open block; then call ``written``."""
    _write(using, written, tasks=[task])


def _write(
    using: str,
    written: Callable[[], object],
    *,
    messages: Sequence[NewMessage] = (),
    tasks: Sequence[NewTask] = (),
) -> None:
    batch = deferred(using)
    if batch is None:
        _store(using).insert_many(messages, tasks)
        written()
        return
    batch.messages.extend(messages)
    batch.tasks.extend(tasks)
    batch.after.append(written)

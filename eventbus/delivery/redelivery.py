"""The redelivery drill: what at-least-once delivery can do to a handler, done on purpose.

Off unless a test turns it on (``pytest --eventbus-redeliver``, or the
``eventbus_redeliver`` marker of eventbus.testing, which enter ``redelivering()``). While
it is on, every path that runs a handler (the engine calls ``handle`` for each) does to it
what a broker and a crashing process may do:

- **crashed after the handler ran**: the handler runs in a savepoint of the engine's
  transaction, which is then rolled back before anything is recorded, as if the process had
  died after the handler's effects and before its success was written. The event is then
  delivered again, in the same engine call (a crash records no failure, so no retry is
  counted: the attempt, the signals and the delivery row are those of one delivery);
- **delivered twice**: after that delivery the handler runs once more, in the same
  transaction, before the success is recorded, as if the broker had redelivered the
  message and the bus's record of the first delivery were lost. The bus's own dedup cannot
  hide it: only the handler's idempotency can;
- **reordered**: a batch of events (the worker's claim, the consumer's messages, a retry
  of several deliveries) is delivered with its aggregates in reverse order of arrival, the
  events of one aggregate still in publish order, which is all an ordered subscription asks
  for (an event with no aggregate is an aggregate of its own).

So a handler's effects are applied twice, its rolled-back run must leave nothing behind
(side effects outside the transaction show up three times), and batches arrive in another
order. The test's own assertions must still hold. Process-wide, not per thread: a worker
thread started by a test is drilled too.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from django.db import transaction

from eventbus.envelope import Envelope
from eventbus.events import Event
from eventbus.subscriptions import Subscription

T = TypeVar("T")

__all__ = ["arrange", "drilling", "handle", "redelivering"]

_on = False


class _Crash(Exception):
    """The drill's crash after a handler's effects; never leaves ``handle``."""


def drilling() -> bool:
    """Whether the redelivery drill is on."""
    return _on


@contextmanager
def redelivering(on: bool = True) -> Iterator[None]:
    """Turn the drill on (or, with ``on=False``, off) for the block; restored after it."""
    global _on
    before, _on = _on, on
    try:
        yield
    finally:
        _on = before


def handle(sub: Subscription, event: Event, *, using: str) -> None:
    """Run ``sub``'s handler with ``event`` for the engine, in the engine's open transaction
    on ``using``: once, or under the drill crashed once and then delivered twice (see the
    module). Raises what the handler raises; the drill's crash never escapes."""
    if not _on:
        sub.handle(event)
        return
    try:
        with transaction.atomic(using=using):
            sub.handle(event)
            raise _Crash
    except _Crash:
        pass
    sub.handle(event)
    sub.handle(event)


def arrange(items: Sequence[T], envelope: Callable[[T], Envelope]) -> Sequence[T]:
    """``items`` (each of an ``envelope(item)``) in the order to deliver them: as they are,
    or under the drill with the aggregates in reverse order of first arrival and each
    aggregate's items in their own order."""
    if not _on:
        return items
    groups: dict[str, list[T]] = {}
    for item in items:
        of = envelope(item)
        groups.setdefault(of.aggregate_id or str(of.event_id), []).append(item)
    return [item for group in reversed(groups.values()) for item in group]

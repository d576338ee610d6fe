"""The bus's lifecycle, broadcast as blinker signals: connect metrics, logs or tracing here.

Each signal is sent with the event name as sender (connect with ``sender="orders.order_placed"``
for one event) and these keyword arguments:

``envelope``     the Envelope
``handler_id``   the handler's dotted path (delivery signals only)
``duration``     seconds: writing the outbox row (published), running the handler (delivery
                 signals), the broker round trip of the batch (relayed), storing and
                 delivering the batch (received)
``error``        "Type: message" (delivery_failed and delivery_dead_lettered only)

Signals are sent after the transaction that recorded the fact commits, never for work that
rolled back. A receiver that raises is logged and does not disturb the bus.

    from eventbus.signals import delivery_failed

    @delivery_failed.connect
    def count_failure(sender, *, envelope, handler_id, duration, error, **extra):
        FAILURES.labels(event=sender, handler=handler_id).inc()
"""

import logging
from functools import partial
from typing import Any

from blinker import NamedSignal, Namespace
from django.db import DEFAULT_DB_ALIAS, transaction

from eventbus.envelope import Envelope

logger = logging.getLogger("eventbus.signals")

_lifecycle = Namespace()

event_published: NamedSignal = _lifecycle.signal(
    "event_published", doc="An event's outbox row committed."
)
delivery_succeeded: NamedSignal = _lifecycle.signal(
    "delivery_succeeded", doc="A handler applied an event; its success record committed."
)
delivery_failed: NamedSignal = _lifecycle.signal(
    "delivery_failed", doc="A handler failed; it will be tried again."
)
delivery_dead_lettered: NamedSignal = _lifecycle.signal(
    "delivery_dead_lettered", doc="A delivery became a dead letter (bad data or no attempts left)."
)
message_relayed: NamedSignal = _lifecycle.signal(
    "message_relayed", doc="The broker confirmed an event the relay sent."
)
message_received: NamedSignal = _lifecycle.signal(
    "message_received", doc="An event from the broker was stored in this service's outbox."
)

LIFECYCLE = (
    event_published,
    delivery_succeeded,
    delivery_failed,
    delivery_dead_lettered,
    message_relayed,
    message_received,
)


def announce(
    signal: NamedSignal, envelope: Envelope, *, using: str = DEFAULT_DB_ALIAS, **data: Any
) -> None:
    """Send ``signal`` for ``envelope`` once the current transaction commits (at once outside
    one). Costs nothing while the signal has no receiver."""
    if signal.receivers:
        transaction.on_commit(partial(_send, signal, envelope, data), using=using)


def _send(signal: NamedSignal, envelope: Envelope, data: dict[str, Any]) -> None:
    """Like ``signal.send``, but a receiver that raises is logged and the others still run."""
    for receiver in signal.receivers_for(envelope.name):
        try:
            receiver(envelope.name, envelope=envelope, **data)
        except Exception:
            logger.exception("%r, a receiver of %s, failed", receiver, signal.name)

"""Follow one correlation id: every event it caused, in order, with each delivery's timing."""

from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS

from eventbus.boundaries.modules import code_owner
from eventbus.models import Delivery, OutboxMessage


@dataclass(frozen=True)
class TracedDelivery:
    """One handler's delivery of a traced event; ``after_ms`` is from the event's
    occurred_at to the delivery's last update (its success, or its latest failure)."""

    handler: str
    module: str
    status: str
    attempts: int
    after_ms: int
    last_error: str


@dataclass(frozen=True)
class TracedEvent:
    """An event of the trace: ``depth`` counts its causes within the trace (0: started by
    the request or command), ``offset_ms`` is its time after the first event."""

    message: OutboxMessage
    depth: int
    offset_ms: int
    deliveries: list[TracedDelivery] = field(default_factory=list)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def correlation_trace(*, correlation_id: str, using: str = DEFAULT_DB_ALIAS) -> list[TracedEvent]:
    """Every outbox message with ``correlation_id`` in the order it occurred (event ids are
    time-ordered), each with its depth in the causation chain and its deliveries in the
    order they were first attempted. Empty when no event carries the id. Read-only."""
    messages = list(
        OutboxMessage.objects.using(using)
        .filter(correlation_id=correlation_id)
        .order_by("occurred_at", "id")
    )
    if not messages:
        return []
    deliveries: dict[object, list[Delivery]] = {}
    for delivery in (
        Delivery.objects.using(using)
        .filter(message__in=[m.pk for m in messages])
        .order_by("created_at", "pk")
    ):
        deliveries.setdefault(delivery.message_id, []).append(delivery)
    by_id = {m.pk: m for m in messages}
    depths: dict[object, int] = {}

    def depth(message: OutboxMessage) -> int:
        if message.pk not in depths:
            depths[message.pk] = 0  # guards a (corrupt) causation cycle
            cause = message.causation_id
            parent = None if cause is None else by_id.get(cause)
            depths[message.pk] = 0 if parent is None else depth(parent) + 1
        return depths[message.pk]

    start = messages[0].occurred_at
    return [
        TracedEvent(
            message=m,
            depth=depth(m),
            offset_ms=_ms((m.occurred_at - start).total_seconds()),
            deliveries=[
                TracedDelivery(
                    handler=d.handler,
                    module=code_owner(d.handler),
                    status=d.status,
                    attempts=d.attempts,
                    after_ms=_ms((d.updated_at - m.occurred_at).total_seconds()),
                    last_error=d.last_error,
                )
                for d in deliveries.get(m.pk, [])
            ],
        )
        for m in messages
    ]

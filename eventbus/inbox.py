"""The receiving side of a broker: store what arrives, deliver it, then let it be acked.

A message from the broker becomes an outbox row of this service's database (broker
"received", the same event id) and is delivered to the local handlers in the same
transaction, with the same per-handler idempotency and retry rules as local delivery.
A message seen before (same event id) is skipped: redeliveries and duplicates change
nothing. Retries of failed deliveries are then the local worker's business.
"""

import logging
from dataclasses import dataclass, field

from django.db import transaction

from eventbus.batches import deliver_messages, relax_commit
from eventbus.envelope import Envelope
from eventbus.models import OutboxMessage
from eventbus.transports.amqp import Received
from eventbus.transports.wire import MalformedMessage, decode

logger = logging.getLogger("eventbus.inbox")


@dataclass
class InboxResult:
    stored: int = 0
    duplicates: int = 0
    rejected: list[tuple[Received, str]] = field(default_factory=list)


def read(received: Received) -> Envelope:
    """Decode and validate a message; raises MalformedMessage with the reason."""
    envelope = decode(received.message_id, received.body, received.headers)
    try:
        envelope.event()
    except Exception as exc:  # unknown event, no upcaster, payload failing validation
        raise MalformedMessage(f"{type(exc).__name__}: {exc}"[:1000]) from None
    return envelope


def receive(batch: list[Received], *, using: str = "default") -> InboxResult:
    """Store and deliver a batch in one transaction; returns what to dead-letter and why."""
    result = InboxResult()
    envelopes: dict[object, Envelope] = {}
    for received in batch:
        try:
            envelope = read(received)
        except MalformedMessage as exc:
            result.rejected.append((received, exc.reason))
            continue
        if envelope.event_id in envelopes:
            result.duplicates += 1
            continue
        envelopes[envelope.event_id] = envelope
    if not envelopes:
        return result
    with transaction.atomic(using=using):
        relax_commit(using)
        seen = set(
            OutboxMessage.objects.using(using)
            .filter(pk__in=list(envelopes))
            .values_list("pk", flat=True)
        )
        fresh = [_row(e) for key, e in envelopes.items() if key not in seen]
        result.duplicates += len(seen)
        if not fresh:
            return result
        # Another consumer may be storing the same redelivered message right now: the
        # conflict is skipped, and only rows still undispatched (ours) are delivered here.
        OutboxMessage.objects.using(using).bulk_create(fresh, ignore_conflicts=True)
        arrival = {row.pk: index for index, row in enumerate(fresh)}
        ours = sorted(
            OutboxMessage.objects.using(using).filter(
                pk__in=list(arrival), dispatched_at__isnull=True
            ),
            key=lambda row: arrival[row.pk],  # delivered in the order they arrived
        )
        if ours:
            deliver_messages(ours, using=using)
        result.stored = len(ours)
        result.duplicates += len(fresh) - len(ours)
    return result


def _row(envelope: Envelope) -> OutboxMessage:
    return OutboxMessage(
        id=envelope.event_id,
        name=envelope.name,
        version=envelope.version,
        occurred_at=envelope.occurred_at,
        producer=envelope.producer,
        correlation_id=envelope.correlation_id,
        causation_id=envelope.causation_id,
        aggregate_id=envelope.aggregate_id,
        payload=envelope.payload,
        broker=OutboxMessage.Broker.RECEIVED,
    )

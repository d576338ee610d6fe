"""The receiving side of a broker: store what arrives, deliver it, then let it be acked.

A message from the broker becomes an outbox row of this service's database (broker
"received", the same event id) and is delivered to the local handlers through the delivery
engine in the same transaction, with the same per-handler idempotency and retry rules as
local delivery. A message seen before (same event id) is skipped: redeliveries and
duplicates change nothing. Retries of failed deliveries are then the local worker's business.
"""

import logging
import time
import uuid
from dataclasses import dataclass, field

from django.db import transaction

from eventbus.broker.amqp import Received
from eventbus.broker.wire import MalformedMessage, decode
from eventbus.delivery.batch import deliver_held
from eventbus.envelope import Envelope
from eventbus.signals import announce, message_received
from eventbus.storage import store_for

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
    started = time.perf_counter()
    result = InboxResult()
    envelopes: dict[uuid.UUID, Envelope] = {}
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
    store = store_for(using)
    with transaction.atomic(using=using):
        store.relax_commit()
        # Another consumer may be storing the same redelivered message right now: the
        # conflict is skipped, and only the rows this transaction inserted are delivered.
        inserted = store.insert_received(list(envelopes.values()))
        ours = [e for key, e in envelopes.items() if key in inserted]  # in arrival order
        if ours:
            # Rows this transaction inserted have no delivery yet: no lookup needed.
            deliver_held(store, ours, delivered=set())
        result.stored = len(ours)
        result.duplicates += len(envelopes) - len(ours)
        duration = time.perf_counter() - started
        for envelope in ours:
            announce(message_received, envelope, using=using, duration=duration)
    return result

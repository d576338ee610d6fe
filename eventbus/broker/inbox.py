"""The receiving side of a broker: store what arrives, deliver it, then let it be acked.

A message from the broker becomes an outbox row of this service's database (broker
"received", the same event id) and is delivered to the local handlers through the delivery
engine in the same transaction, with the same per-handler idempotency and retry rules as
local delivery. A message seen before (same event id, same content) is skipped:
redeliveries and duplicates change nothing. Retries of failed deliveries are then the local
worker's business.

Nothing a message holds can stop the consumer: one that cannot be read (see
eventbus.broker.wire.decode), names an unknown event, carries a payload that does not
validate, claims a producer that does not own the event, or reuses a stored event id for
different content is returned to be dead-lettered with the reason. The batch is stored in
one transaction; if that still fails, each message is stored in its own, so only the one at
fault is dead-lettered. Only a database that cannot be reached stops the batch (it is
redelivered).
"""

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import InterfaceError, OperationalError, transaction

from eventbus import tracing
from eventbus.broker.amqp import Received
from eventbus.broker.wire import MalformedMessage, decode
from eventbus.conf import bus_settings
from eventbus.delivery.batch import deliver_held
from eventbus.envelope import Envelope
from eventbus.signals import announce, message_received
from eventbus.storage import store_for

logger = logging.getLogger("eventbus.inbox")

#: Database errors that say nothing about the message: the batch is left unacknowledged.
UNAVAILABLE = (OperationalError, InterfaceError)

Item = tuple[Received, Envelope]


@dataclass
class InboxResult:
    stored: int = 0
    duplicates: int = 0
    rejected: list[tuple[Received, str]] = field(default_factory=list)


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def read(received: Received) -> Envelope:
    """Decode and validate a message; raises MalformedMessage with the reason."""
    envelope = decode(
        received.message_id,
        received.body,
        received.headers,
        max_bytes=bus_settings.MAX_MESSAGE_BYTES,
        routing_key_received=received.routing_key,
        content_type=received.content_type,
        content_encoding=received.content_encoding,
    )
    try:
        event = envelope.event()
    except Exception as exc:  # unknown event, no upcaster, payload failing validation
        raise MalformedMessage(_why(exc)) from None
    if event.internal:
        raise MalformedMessage(
            f"{envelope.name!r} is internal to the bus: it never travels over the broker"
        )
    owner = type(event).producer()
    if envelope.producer != owner:
        raise MalformedMessage(
            f"header x-producer {envelope.producer!r} is not {owner!r}, the module that owns "
            f"{envelope.name!r}"
        )
    return envelope


def same_content(one: Envelope, other: Envelope) -> bool:
    """Whether two envelopes with one event id are the same message (a redelivery)."""
    return (one.name, one.version, one.payload) == (other.name, other.version, other.payload)


@dataclass
class _Stored:
    stored: int = 0
    duplicates: int = 0
    conflicts: list[Item] = field(default_factory=list)


def _store(items: Sequence[Item], using: str, started: float) -> _Stored:
    """Store and deliver ``items`` in one transaction; raises what the database raises."""
    done = _Stored()
    store = store_for(using)
    envelopes = {envelope.event_id: envelope for _, envelope in items}
    with transaction.atomic(using=using):
        # Another consumer may be storing the same redelivered message right now: the
        # conflict is skipped, and only the rows this transaction inserted are delivered.
        inserted = store.insert_received(list(envelopes.values()))
        ours = [e for key, e in envelopes.items() if key in inserted]  # in arrival order
        if ours:
            # Rows this transaction inserted have no delivery yet: no lookup needed.
            deliver_held(store, ours, delivered=set())
        seen_before = [item for item in items if item[1].event_id not in inserted]
        if seen_before:
            stored = store.stored_envelopes([e.event_id for _, e in seen_before])
            for item in seen_before:
                earlier = stored.get(item[1].event_id)
                if earlier is None or same_content(earlier, item[1]):
                    done.duplicates += 1
                else:
                    done.conflicts.append(item)
        done.stored = len(ours)
        duration = time.perf_counter() - started
        for envelope in ours:
            announce(message_received, envelope, using=using, duration=duration)
    return done


def _conflict(envelope: Envelope) -> str:
    return (
        f"event id {envelope.event_id} is already stored with different content "
        f"(a redelivery carries the same name, version and payload)"
    )


def receive(batch: list[Received], *, using: str = "default") -> InboxResult:
    """Store and deliver a batch; returns what to dead-letter and why.

    One transaction for the batch; if it raises (other than the database being
    unreachable, which propagates), each message again in its own transaction, and the
    ones that still raise are dead-lettered with the error. Returns once what it stored is
    on disk (the caller acknowledges the batch next). In a ``receive`` span when traced."""
    tracer = tracing.tracer()
    if tracer is None:
        return _receive(batch, using=using)
    traceparents = [
        received.headers.get("traceparent") if isinstance(received.headers, dict) else None
        for received in batch
    ]
    with tracing.receiving(tracer, traceparents, source=bus_settings.EXCHANGE):
        return _receive(batch, using=using)


def _receive(batch: list[Received], *, using: str) -> InboxResult:
    started = time.perf_counter()
    result = InboxResult()
    items: dict[uuid.UUID, Item] = {}
    for received in batch:
        try:
            envelope = read(received)
        except MalformedMessage as exc:
            result.rejected.append((received, exc.reason))
            continue
        except Exception as exc:  # a message must never stop the consumer
            logger.exception("could not read message %r", received.message_id)
            result.rejected.append((received, f"could not be read: {_why(exc)}"))
            continue
        earlier = items.get(envelope.event_id)
        if earlier is None:
            items[envelope.event_id] = (received, envelope)
        elif same_content(earlier[1], envelope):
            result.duplicates += 1
        else:
            result.rejected.append((received, _conflict(envelope)))
    if not items:
        return result
    try:
        outcomes = [_store(list(items.values()), using, started)]
    except UNAVAILABLE:
        raise
    except Exception:
        logger.exception("storing a batch of %d messages failed; storing each alone", len(items))
        outcomes = []
        for item in items.values():
            try:
                outcomes.append(_store([item], using, started))
            except UNAVAILABLE:
                raise
            except Exception as exc:
                logger.exception("could not store message %s", item[1].event_id)
                result.rejected.append((item[0], f"could not be stored: {_why(exc)}"))
    for outcome in outcomes:
        result.stored += outcome.stored
        result.duplicates += outcome.duplicates
        result.rejected.extend((received, _conflict(e)) for received, e in outcome.conflicts)
    if result.stored or result.duplicates:
        # The success records relaxed the commit, which made the effects visible without
        # waiting for the disk. The broker forgets a message once it is acknowledged, so
        # the commit must be on disk before that: a commit lost in a database crash would
        # lose the event (nothing sends it again). A duplicate may have been found stored
        # by another consumer's commit that is not on disk yet: the same flush covers it.
        store_for(using).flush_commits()
    return result

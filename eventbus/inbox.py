"""The receiving side of a broker: store what arrives, deliver it, then let it be acked.

A message from the broker becomes an outbox row of this service's database (broker
"received", the same event id) and is delivered to the local handlers in the same
transaction, with the same per-handler idempotency and retry rules as local delivery.
A message seen before (same event id) is skipped: redeliveries and duplicates change
nothing. Retries of failed deliveries are then the local worker's business.
"""

import logging
from dataclasses import dataclass, field

from django.db import connections, transaction

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
        # conflict is skipped, and only the rows this transaction inserted are delivered.
        inserted = _insert_new(fresh, using=using)
        ours = [row for row in fresh if row.pk in inserted]  # in the order they arrived
        if ours:
            # Rows this transaction inserted have no delivery yet: no lookup needed.
            deliver_messages([envelopes[row.pk] for row in ours], using=using, delivered=set())
        result.stored = len(ours)
        result.duplicates += len(fresh) - len(ours)
    return result


_COLUMNS = (
    ("id", "uuid"),
    ("name", "varchar"),
    ("version", "integer"),
    ("occurred_at", "timestamptz"),
    ("producer", "varchar"),
    ("correlation_id", "varchar"),
    ("causation_id", "uuid"),
    ("aggregate_id", "varchar"),
    ("payload", "jsonb"),
    ("broker", "varchar"),
)


def _insert_new(rows: list[OutboxMessage], *, using: str) -> set[object]:
    """Insert the rows, skipping ids that exist; return the ids this transaction inserted.

    PostgreSQL: one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING RETURNING``
    (ten array parameters, not ten per row, and no second query to learn which rows are
    ours). Elsewhere: bulk_create, then the rows still undispatched are ours.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        OutboxMessage.objects.using(using).bulk_create(rows, ignore_conflicts=True)
        return set(
            OutboxMessage.objects.using(using)
            .filter(pk__in=[row.pk for row in rows], dispatched_at__isnull=True)
            .values_list("pk", flat=True)
        )
    from psycopg.types.json import Jsonb

    table = connection.ops.quote_name(OutboxMessage._meta.db_table)
    names = ", ".join(name for name, _ in _COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for _, kind in _COLUMNS)
    params = [
        [Jsonb(getattr(row, name)) if kind == "jsonb" else getattr(row, name) for row in rows]
        for name, kind in _COLUMNS
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) "
            "ON CONFLICT (id) DO NOTHING RETURNING id",
            params,
        )
        return {row[0] for row in cursor.fetchall()}


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

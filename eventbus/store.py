"""The hot-path SQL of the bus: writing outbox rows and recording a handler's success.

These run on every publish and every delivery, so they are written as single raw
statements (values prepared by the model fields, so every backend stores them as the ORM
would). Everything that is not on the hot path uses the ORM.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field
from django.utils import timezone

from eventbus.envelope import Envelope
from eventbus.models import Delivery, OutboxMessage

#: The PostgreSQL channel a publish NOTIFYs in worker mode, and the worker LISTENs on.
NOTIFY_CHANNEL = "eventbus"

#: The columns an envelope is read from, in the order claims select them.
_ENVELOPE_COLUMNS = (
    "id",
    "name",
    "version",
    "occurred_at",
    "producer",
    "correlation_id",
    "causation_id",
    "aggregate_id",
    "payload",
)
_OUTBOX_COLUMNS = (*_ENVELOPE_COLUMNS, "broker", "dispatched_at")


def envelope_of(message: OutboxMessage) -> Envelope:
    """The envelope an outbox row holds."""
    return Envelope(
        event_id=message.id,
        name=message.name,
        version=message.version,
        occurred_at=message.occurred_at,
        producer=message.producer,
        correlation_id=message.correlation_id,
        causation_id=message.causation_id,
        payload=message.payload,
        aggregate_id=message.aggregate_id,
    )


@cache
def _insert_message_sql(vendor: str, notify: bool) -> str:
    meta = OutboxMessage._meta
    columns = ", ".join(_OUTBOX_COLUMNS)
    marks = ", ".join(["%s"] * len(_OUTBOX_COLUMNS))
    if notify and vendor == "postgresql":
        # The notification is sent when the transaction commits, and not at all on rollback;
        # as part of the insert it costs no extra round trip.
        return (
            f"WITH _notify AS (SELECT pg_notify('{NOTIFY_CHANNEL}', '')) "
            f"INSERT INTO {meta.db_table} ({columns}) SELECT {marks} FROM _notify"
        )
    return f"INSERT INTO {meta.db_table} ({columns}) VALUES ({marks})"


@cache
def _field(column: str) -> "Field[Any, Any]":  # quoted: generic in the stubs only
    """The outbox model field of a column (none of _OUTBOX_COLUMNS is a relation)."""
    field = OutboxMessage._meta.get_field(column)
    assert isinstance(field, Field)
    return field


def insert_message(
    envelope: Envelope,
    *,
    dispatched: bool,
    using: str,
    notify: bool = False,
    broker: str = "",
) -> None:
    """Insert the envelope's outbox row in the caller's transaction.

    ``dispatched`` marks it done at once (an event nobody subscribes to in this process).
    ``notify`` wakes the workers listening on PostgreSQL when the transaction commits.
    ``broker`` is "pending" for an event the relay must send to the broker.
    """
    connection = connections[using]
    values = {
        "id": envelope.event_id,
        "name": envelope.name,
        "version": envelope.version,
        "occurred_at": envelope.occurred_at,
        "producer": envelope.producer,
        "correlation_id": envelope.correlation_id,
        "causation_id": envelope.causation_id,
        "aggregate_id": envelope.aggregate_id,
        "payload": envelope.payload,
        "broker": broker,
        "dispatched_at": envelope.occurred_at if dispatched else None,
    }
    params = [_field(name).get_db_prep_save(values[name], connection) for name in _OUTBOX_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(_insert_message_sql(connection.vendor, notify), params)


@cache
def _success_sql(vendor: str, mark_dispatched: bool) -> list[str]:
    delivery = Delivery._meta.db_table
    outbox = OutboxMessage._meta.db_table
    insert_columns = (
        "message_id, handler, status, attempts, last_error, last_traceback, "
        "next_attempt_at, created_at, updated_at"
    )
    update = f"UPDATE {outbox} SET dispatched_at = %s WHERE id = %s"
    if vendor == "postgresql":
        # One round trip: the handler's commit need not wait for its fsync (the outbox row
        # is durable already, so a lost commit is redelivered), and the outbox row is
        # marked dispatched in the same statement when this was its last handler.
        ctes = ["_async AS (SELECT set_config('synchronous_commit', 'off', true))"]
        if mark_dispatched:
            ctes.append(f"_dispatched AS ({update})")
        return [
            f"WITH {', '.join(ctes)} INSERT INTO {delivery} ({insert_columns}) "
            "SELECT %s, %s, 'succeeded', %s, '', '', NULL, %s, %s FROM _async"
        ]
    statements = [
        f"INSERT INTO {delivery} ({insert_columns}) "
        "VALUES (%s, %s, 'succeeded', %s, '', '', NULL, %s, %s)"
    ]
    if mark_dispatched:
        statements.append(update)
    return statements


def transaction_untouched(using: str) -> bool:
    """True when the current outermost transaction has not sent a statement yet.

    PostgreSQL only (psycopg opens the server transaction lazily, at the first statement):
    then a handler that just ran did nothing in the database, and its success can be
    recorded by one statement in autocommit mode instead of BEGIN, statement, COMMIT.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or len(connection.savepoint_ids) > 0:
        return False
    info = getattr(connection.connection, "info", None)
    status = getattr(info, "transaction_status", None)
    return status is not None and int(status) == 0  # psycopg.pq.TransactionStatus.IDLE


def record_first_success(
    envelope: Envelope, handler_id: str, *, mark_dispatched: bool, using: str
) -> None:
    """Record that a handler applied an event on its first attempt.

    Runs in the handler's transaction, so the record commits with the handler's effects; or
    alone in autocommit mode when the handler touched no row (see transaction_untouched).
    Raises IntegrityError when a delivery row exists already (another process delivered it):
    the caller's transaction must then roll back so the effect is not applied twice.
    """
    connection = connections[using]
    now = timezone.now()
    message_id = OutboxMessage._meta.pk.get_db_prep_save(envelope.event_id, connection)
    now_db = Delivery._meta.get_field("created_at").get_db_prep_save(now, connection)
    insert_params = [message_id, handler_id, 1, now_db, now_db]
    statements = _success_sql(connection.vendor, mark_dispatched)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            params = ([now_db, message_id] if mark_dispatched else []) + insert_params
            cursor.execute(statements[0], params)
            return
        cursor.execute(statements[0], insert_params)
        if mark_dispatched:
            cursor.execute(statements[1], [now_db, message_id])


@dataclass(frozen=True)
class Claimed:
    """Outbox rows locked for the caller's transaction, and the (event id, handler id)
    pairs among them that have a delivery row already (a dead process recorded them
    before it could mark its row dispatched)."""

    envelopes: list[Envelope]
    delivered: set[tuple[uuid.UUID, str]]


def claim_outbox(
    *,
    using: str,
    limit: int | None = None,
    occurred_before: datetime | None = None,
    ids: list[uuid.UUID] | None = None,
) -> Claimed:
    """Lock undispatched outbox rows for this transaction, oldest first, skipping rows
    another worker holds: the first ``limit`` ones (older than ``occurred_before`` if
    given), or those among ``ids``. Call inside a transaction.

    On PostgreSQL this is one hand-written statement, a single round trip that also turns
    off ``synchronous_commit`` for the transaction (what it consumes is durable in the
    outbox already) and returns each row's delivered handlers (one index probe per row).
    The ORM spent thirty times PostgreSQL's time compiling the query and building rows.
    It is served by the partial index on undispatched rows, so its cost follows the
    backlog, not the delivered history.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        pending = OutboxMessage.objects.using(using).filter(dispatched_at__isnull=True)
        if occurred_before is not None:
            pending = pending.filter(occurred_at__lte=occurred_before)
        if ids is not None:
            pending = pending.filter(pk__in=ids)
        pending = pending.order_by("id")
        messages = list(pending[:limit] if limit is not None else pending)
        return Claimed(
            [envelope_of(m) for m in messages], deliveries_of([m.pk for m in messages], using=using)
        )
    sql, params = claim_outbox_sql(limit=limit, occurred_before=occurred_before, ids=ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    envelopes, delivered = _envelopes(rows, connection, with_handlers=True)
    return Claimed(envelopes, delivered)


def _envelopes(
    rows: list[tuple[Any, ...]], connection: BaseDatabaseWrapper, *, with_handlers: bool
) -> tuple[list[Envelope], set[tuple[uuid.UUID, str]]]:
    """Envelopes straight from claimed rows (no model instances: 2 ms a batch of 100),
    and with ``with_handlers`` the delivered handlers in each row's last column."""
    payload_field = OutboxMessage._meta.get_field("payload")
    load_payload = payload_field.from_db_value
    payload_column = payload_field.get_col(OutboxMessage._meta.db_table)
    envelopes: list[Envelope] = []
    delivered: set[tuple[uuid.UUID, str]] = set()
    for row in rows:
        event_id, name, version, occurred, producer, correlation, causation, aggregate, payload = (
            row[:9]
        )
        envelopes.append(
            Envelope(
                event_id=event_id,
                name=name,
                version=version,
                occurred_at=occurred,
                producer=producer,
                correlation_id=correlation,
                causation_id=causation,
                payload=load_payload(payload, payload_column, connection),  # JSON read as text
                aggregate_id=aggregate,
            )
        )
        if with_handlers:
            delivered.update((event_id, handler) for handler in row[9])
    return envelopes, delivered


def claim_relay(*, using: str, limit: int) -> list[Envelope]:
    """Lock up to ``limit`` rows waiting for the relay, oldest first, skipping rows another
    relay holds. PostgreSQL: one statement that also relaxes the commit (a lost "sent" mark
    only means a message is sent again, and consumers deduplicate)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        pending = OutboxMessage.objects.using(using).filter(broker=OutboxMessage.Broker.PENDING)
        return [envelope_of(m) for m in pending.order_by("id")[:limit]]
    sql = (
        "WITH _async AS (SELECT set_config('synchronous_commit', 'off', true)) "
        f"SELECT {', '.join(_ENVELOPE_COLUMNS)} FROM {OutboxMessage._meta.db_table}, _async "
        "WHERE broker = 'pending' ORDER BY id LIMIT %s FOR UPDATE OF "
        f"{OutboxMessage._meta.db_table} SKIP LOCKED"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return _envelopes(cursor.fetchall(), connection, with_handlers=False)[0]


def mark_relayed(event_ids: list[uuid.UUID], *, using: str) -> None:
    """Mark rows sent: the broker confirmed them. In the relay's claim transaction."""
    if not event_ids:
        return
    now = timezone.now()
    connection = connections[using]
    if connection.vendor != "postgresql":
        OutboxMessage.objects.using(using).filter(pk__in=event_ids).update(
            broker=OutboxMessage.Broker.SENT, relayed_at=now
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {OutboxMessage._meta.db_table} SET broker = 'sent', relayed_at = %s "
            "WHERE id = ANY(%s::uuid[])",
            [now, array_literal(event_ids)],
        )


def claim_outbox_sql(
    *,
    limit: int | None = None,
    occurred_before: datetime | None = None,
    ids: list[uuid.UUID] | None = None,
) -> tuple[str, list[datetime | str | int]]:
    """The PostgreSQL statement claim_outbox runs, with its parameters (for EXPLAIN too)."""
    outbox, delivery = OutboxMessage._meta.db_table, Delivery._meta.db_table
    conditions = ["dispatched_at IS NULL"]
    params: list[datetime | str | int] = []
    if occurred_before is not None:
        conditions.append("occurred_at <= %s")
        params.append(occurred_before)
    if ids is not None:
        conditions.append("id = ANY(%s::uuid[])")
        params.append(array_literal(ids))
    limit_clause = ""
    if limit is not None:
        limit_clause = " LIMIT %s"
        params.append(limit)
    columns = ", ".join(_ENVELOPE_COLUMNS)
    sql = (
        "WITH _async AS (SELECT set_config('synchronous_commit', 'off', true)), "
        f"_claimed AS (SELECT {columns} FROM {outbox} WHERE {' AND '.join(conditions)} "
        f"ORDER BY id{limit_clause} FOR UPDATE SKIP LOCKED) "
        f"SELECT _claimed.*, ARRAY(SELECT handler FROM {delivery} d "
        "WHERE d.message_id = _claimed.id) FROM _claimed, _async ORDER BY _claimed.id"
    )
    return sql, params


def array_literal(values: list[uuid.UUID] | list[str]) -> str:
    """A PostgreSQL array literal, passed as one text parameter and cast in SQL: Django's
    client-side binding quotes a list element by element in Python, which cost more than
    the statement itself for a batch of ids."""
    items = []
    for value in values:
        text = str(value)
        items.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(items) + "}"


def deliveries_of(message_ids: list[uuid.UUID], *, using: str) -> set[tuple[uuid.UUID, str]]:
    """The (event id, handler id) pairs that have a delivery row, among these events.

    One indexed lookup per id, whatever the size of the deliveries table (an EXISTS in the
    claim was tried: PostgreSQL may hash it, scanning every delivery row on every claim).
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        rows = Delivery.objects.using(using).filter(message_id__in=message_ids)
        return set(rows.values_list("message_id", "handler"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT message_id, handler FROM {Delivery._meta.db_table} "
            "WHERE message_id = ANY(%s::uuid[])",
            [array_literal(message_ids)],
        )
        return {(message_id, handler) for message_id, handler in cursor.fetchall()}


@cache
def _batch_done_sql() -> str:
    delivery = Delivery._meta.db_table
    outbox = OutboxMessage._meta.db_table
    # One round trip for the whole batch: the outbox rows marked and one delivery row per
    # success, from two parallel arrays (a data-modifying CTE runs whether read or not).
    return (
        f"WITH _dispatched AS (UPDATE {outbox} SET dispatched_at = %s WHERE id = ANY(%s::uuid[])) "
        f"INSERT INTO {delivery} (message_id, handler, status, attempts, last_error, "
        "last_traceback, next_attempt_at, created_at, updated_at) "
        "SELECT m, h, 'succeeded', 1, '', '', NULL, %s, %s "
        "FROM unnest(%s::uuid[], %s::text[]) AS t(m, h)"
    )


def record_batch_done(
    message_ids: list[uuid.UUID], succeeded: list[tuple[uuid.UUID, str]], *, using: str
) -> None:
    """Mark a worker batch's outbox rows dispatched and record its successful deliveries.

    ``succeeded`` holds (event id, handler id) pairs. Runs in the batch's transaction, so
    the marks and the records commit with the handlers' effects. Raises IntegrityError when
    one of the deliveries is recorded already. One statement on PostgreSQL.
    """
    connection = connections[using]
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _batch_done_sql(),
                [
                    now,
                    array_literal(message_ids),
                    now,
                    now,
                    array_literal([event_id for event_id, _ in succeeded]),
                    array_literal([handler for _, handler in succeeded]),
                ],
            )
        return
    Delivery.objects.using(using).bulk_create(
        Delivery(
            message_id=event_id,
            handler=handler,
            status=Delivery.Status.SUCCEEDED,
            attempts=1,
            created_at=now,
            updated_at=now,
        )
        for event_id, handler in succeeded
    )
    OutboxMessage.objects.using(using).filter(pk__in=message_ids).update(dispatched_at=now)


def mark_dispatched(event_id: uuid.UUID, *, using: str, at: datetime | None = None) -> None:
    """Mark an outbox row as having a delivery record for every subscriber."""
    OutboxMessage.objects.using(using).filter(pk=event_id, dispatched_at__isnull=True).update(
        dispatched_at=at or timezone.now()
    )

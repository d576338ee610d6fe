"""The store on PostgreSQL: the hot path in single hand-written statements.

Each publish, claim and success record is one round trip. Claims lock with ``FOR UPDATE
SKIP LOCKED``, so any number of workers share the outbox without holding the same row.
Transactions that consume durable outbox rows turn off ``synchronous_commit``: a commit lost
in a crash is delivered again; the consumer, whose input is a broker message, flushes them
(``flush_commits``) before it acknowledges. Arrays travel as one text literal cast in SQL
(Django's client-side binding quotes a list element by element, which costs more than the
statement).
Everything off the hot path is inherited from the portable store.
"""

import json
import select
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.psycopg_any import is_psycopg3

from eventbus.envelope import Envelope
from eventbus.models import Delivery, OutboxMessage
from eventbus.storage.base import Claimed, DeliveryKey
from eventbus.storage.portable import (
    ENVELOPE_FIELDS,
    OUTBOX_FIELDS,
    SUCCESS_FIELDS,
    PortableStore,
    columns,
    envelope_from_row,
    success_defaults,
)
from eventbus.together import NewMessage, NewTask

#: The channel a publish NOTIFYs (when workers deliver) and workers LISTEN on.
NOTIFY_CHANNEL = "eventbus"

_RELAX = "SELECT set_config('synchronous_commit', 'off', true)"
#: The outbox's primary key column (the event id).
_ID = columns(OutboxMessage, ["id"])


def array_literal(values: Collection[uuid.UUID] | Collection[str]) -> str:
    """A PostgreSQL array literal, passed as one text parameter and cast in SQL."""
    items = []
    for value in values:
        text = str(value)
        items.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(items) + "}"


@cache
def _insert_message_sql(notify: bool) -> str:
    table = OutboxMessage._meta.db_table
    marks = ", ".join(["%s"] * len(OUTBOX_FIELDS))
    insert = f"INSERT INTO {table} ({columns(OutboxMessage, OUTBOX_FIELDS)})"
    if notify:
        # Sent when the transaction commits, not at all on rollback; part of the insert, so
        # it costs no round trip of its own.
        return (
            f"WITH _notify AS (SELECT pg_notify('{NOTIFY_CHANNEL}', '')) "
            f"{insert} SELECT {marks} FROM _notify"
        )
    return f"{insert} VALUES ({marks})"


#: The delivery fields a task's insert writes besides its message id: a success's, and the
#: task's priority and queue.
TASK_DELIVERY_FIELDS = (*SUCCESS_FIELDS[1:], "priority", "queue")


@cache
def _insert_task_sql() -> str:
    """A task's outbox row and its waiting delivery in one statement, which also notifies
    the listening workers when it commits."""
    outbox, delivery = OutboxMessage._meta.db_table, Delivery._meta.db_table
    marks = ", ".join(["%s"] * len(OUTBOX_FIELDS))
    task_marks = ", ".join(["%s"] * len(TASK_DELIVERY_FIELDS))
    return (
        f"WITH _notify AS (SELECT pg_notify('{NOTIFY_CHANNEL}', '')), "
        f"_message AS (INSERT INTO {outbox} ({columns(OutboxMessage, OUTBOX_FIELDS)}) "
        f"SELECT {marks} FROM _notify RETURNING {_ID}) "
        f"INSERT INTO {delivery} ({columns(Delivery, ('message', *TASK_DELIVERY_FIELDS))}) "
        f"SELECT {_ID}, {task_marks} FROM _message"
    )


@cache
def _insert_many_sql(messages: int, tasks: int, notify: bool) -> str:
    """``messages`` outbox rows, then ``tasks`` tasks (each an outbox row and a waiting
    delivery), in one statement; the final SELECT notifies listening workers on commit."""
    outbox, delivery = OutboxMessage._meta.db_table, Delivery._meta.db_table
    row = "(" + ", ".join(["%s"] * len(OUTBOX_FIELDS)) + ")"
    task_row = "(" + ", ".join(["%s"] * (1 + len(TASK_DELIVERY_FIELDS))) + ")"
    ctes = [
        f"_m AS (INSERT INTO {outbox} ({columns(OutboxMessage, OUTBOX_FIELDS)}) "
        f"VALUES {', '.join([row] * (messages + tasks))})"
    ]
    if tasks:
        ctes.append(
            f"_d AS (INSERT INTO {delivery} "
            f"({columns(Delivery, ('message', *TASK_DELIVERY_FIELDS))}) "
            f"VALUES {', '.join([task_row] * tasks)})"
        )
    final = f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')" if notify else "SELECT 1"
    return f"WITH {', '.join(ctes)} {final}"


@cache
def _insert_received_sql() -> str:
    table = OutboxMessage._meta.db_table
    fields = (*ENVELOPE_FIELDS, "broker")
    types = {
        "id": "uuid",
        "causation_id": "uuid",
        "version": "integer",
        "occurred_at": "timestamptz",
        "payload": "jsonb",
    }
    arrays = ", ".join(f"%s::{types.get(name, 'text')}[]" for name in fields)
    return (
        f"INSERT INTO {table} ({columns(OutboxMessage, fields)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({_ID}) DO NOTHING RETURNING {_ID}"
    )


@cache
def _claim_sql(*, limited: bool, before: bool, among: bool) -> str:
    outbox, delivery = OutboxMessage._meta.db_table, Delivery._meta.db_table
    dispatched = OutboxMessage._meta.get_field("dispatched_at").column
    conditions = [f"{dispatched} IS NULL"]
    if before:
        conditions.append(f"{OutboxMessage._meta.get_field('occurred_at').column} <= %s")
    if among:
        conditions.append(f"{_ID} = ANY(%s::uuid[])")
    message_id = Delivery._meta.get_field("message").column
    handler = Delivery._meta.get_field("handler").column
    # One index probe per claimed row for its delivered handlers: an EXISTS over the
    # deliveries may be hashed, scanning every delivery row on every claim.
    return (
        f"WITH _async AS ({_RELAX}), "
        f"_claimed AS (SELECT {columns(OutboxMessage, ENVELOPE_FIELDS)} FROM {outbox} "
        f"WHERE {' AND '.join(conditions)} ORDER BY {_ID}{' LIMIT %s' if limited else ''} "
        "FOR UPDATE SKIP LOCKED) "
        f"SELECT _claimed.*, ARRAY(SELECT {handler} FROM {delivery} d "
        f"WHERE d.{message_id} = _claimed.{_ID}) FROM _claimed, _async ORDER BY _claimed.{_ID}"
    )


def claim_outbox_statement(*, limit: int) -> tuple[str, list[Any]]:
    """The statement PostgresStore.claim_outbox runs for a batch, with its parameters (for
    EXPLAIN)."""
    return _claim_sql(limited=True, before=False, among=False), [limit]


@cache
def _claim_relay_sql() -> str:
    table = OutboxMessage._meta.db_table
    return (
        f"WITH _async AS ({_RELAX}) SELECT {columns(OutboxMessage, ENVELOPE_FIELDS)} "
        f"FROM {table}, _async WHERE {OutboxMessage._meta.get_field('broker').column} = %s "
        f"ORDER BY {_ID} LIMIT %s FOR UPDATE OF {table} SKIP LOCKED"
    )


@cache
def _success_sql(*, dispatch: bool, commit: bool) -> str:
    """First successes from two parallel arrays, and the dispatched marks, in one statement
    (a data-modifying CTE runs whether it is read or not). The commit is relaxed: the
    outbox row the handler consumed is durable already. With ``commit``, the COMMIT follows
    in the same query string (the simple query protocol runs both, and stops at the first
    error: a failed insert commits nothing)."""
    outbox, delivery = OutboxMessage._meta.db_table, Delivery._meta.db_table
    ctes = [f"_async AS ({_RELAX})"]
    if dispatch:
        dispatched_at = OutboxMessage._meta.get_field("dispatched_at").column
        ctes.append(
            f"_dispatched AS (UPDATE {outbox} SET {dispatched_at} = %s "
            f"WHERE {_ID} = ANY(%s::uuid[]) AND {dispatched_at} IS NULL)"
        )
    marks = ", ".join(["%s"] * (len(SUCCESS_FIELDS) - 2))
    return (
        f"WITH {', '.join(ctes)} INSERT INTO {delivery} ({columns(Delivery, SUCCESS_FIELDS)}) "
        f"SELECT m, h, {marks} FROM unnest(%s::uuid[], %s::text[]) AS t(m, h), _async"
        + ("; COMMIT" if commit else "")
    )


class PostgresStore(PortableStore):
    """Hand-written single statements for publish, claims, relay marks and successes."""

    def insert_message(
        self, envelope: Envelope, *, dispatched: bool, notify: bool, broker: str
    ) -> None:
        params = self._outbox_params(
            envelope, broker=broker, dispatched_at=envelope.occurred_at if dispatched else None
        )
        with self.connection.cursor() as cursor:
            cursor.execute(_insert_message_sql(notify), params)

    def insert_task(
        self, envelope: Envelope, *, handler: str, priority: int, queue: str, due_at: datetime
    ) -> None:
        params = self._outbox_params(
            envelope, broker=OutboxMessage.Broker.NONE.value, dispatched_at=envelope.occurred_at
        )
        at = envelope.occurred_at
        params += [handler, Delivery.Status.WAITING.value, 0, "", "", due_at, at, at]
        params += [priority, queue]
        with self.connection.cursor() as cursor:
            cursor.execute(_insert_task_sql(), params)

    def insert_many(self, messages: Sequence[NewMessage], tasks: Sequence[NewTask]) -> None:
        """Every row in one statement: one round trip, however many events and tasks (their
        delivery rows reference outbox rows inserted by the same statement)."""
        if len(messages) + len(tasks) <= 1:
            super().insert_many(messages, tasks)
            return
        params: list[Any] = []
        for message in messages:
            envelope = message.envelope
            dispatched_at = envelope.occurred_at if message.dispatched else None
            params += self._outbox_params(
                envelope, broker=message.broker, dispatched_at=dispatched_at
            )
        none = OutboxMessage.Broker.NONE.value
        for task in tasks:
            at = task.envelope.occurred_at
            params += self._outbox_params(task.envelope, broker=none, dispatched_at=at)
        for task in tasks:
            at = task.envelope.occurred_at
            params += [task.envelope.event_id, task.handler, Delivery.Status.WAITING.value]
            params += [0, "", "", task.due_at, at, at, task.priority, task.queue]
        notify = bool(tasks) or any(message.notify for message in messages)
        with self.connection.cursor() as cursor:
            cursor.execute(_insert_many_sql(len(messages), len(tasks), notify), params)

    def insert_received(self, envelopes: Sequence[Envelope]) -> set[uuid.UUID]:
        if not envelopes:
            return set()
        received = OutboxMessage.Broker.RECEIVED.value
        params: list[list[Any]] = [
            [e.event_id for e in envelopes],
            [e.name for e in envelopes],
            [e.version for e in envelopes],
            [e.occurred_at for e in envelopes],
            [e.producer for e in envelopes],
            [e.correlation_id for e in envelopes],
            [e.causation_id for e in envelopes],
            [e.aggregate_id for e in envelopes],
            # JSON text, cast to jsonb in SQL: no driver-specific adapter (psycopg 3 or 2).
            [json.dumps(e.payload) for e in envelopes],
            [e.traceparent for e in envelopes],
            [received] * len(envelopes),
        ]
        with self.connection.cursor() as cursor:
            cursor.execute(_insert_received_sql(), params)
            return {row[0] for row in cursor.fetchall()}

    def claim_outbox(
        self,
        *,
        limit: int | None = None,
        occurred_before: datetime | None = None,
        ids: Collection[uuid.UUID] | None = None,
    ) -> Claimed:
        """One statement that also relaxes the commit and returns each row's delivered
        handlers; served by the partial index on undispatched rows, so its cost follows the
        backlog, not the delivered history."""
        params: list[Any] = []
        if occurred_before is not None:
            params.append(occurred_before)
        if ids is not None:
            params.append(array_literal(ids))
        if limit is not None:
            params.append(limit)
        sql = _claim_sql(
            limited=limit is not None, before=occurred_before is not None, among=ids is not None
        )
        connection = self.connection
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        envelopes = [envelope_from_row(row, connection) for row in rows]
        delivered = {(row[0], handler) for row in rows for handler in row[len(ENVELOPE_FIELDS)]}
        return Claimed(envelopes, delivered)

    def claim_relay(self, *, limit: int) -> list[Envelope]:
        connection = self.connection
        with connection.cursor() as cursor:
            cursor.execute(_claim_relay_sql(), [OutboxMessage.Broker.PENDING.value, limit])
            return [envelope_from_row(row, connection) for row in cursor.fetchall()]

    def mark_relayed(self, event_ids: Collection[uuid.UUID], *, at: datetime) -> None:
        if not event_ids:
            return
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {OutboxMessage._meta.db_table} SET "
                f"{columns(OutboxMessage, ['broker'])} = %s, "
                f"{columns(OutboxMessage, ['relayed_at'])} = %s WHERE {_ID} = ANY(%s::uuid[])",
                [OutboxMessage.Broker.SENT.value, at, array_literal(event_ids)],
            )

    def deliveries_of(self, event_ids: Collection[uuid.UUID]) -> set[DeliveryKey]:
        if not event_ids:
            return set()
        message_id = Delivery._meta.get_field("message").column
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {message_id}, {Delivery._meta.get_field('handler').column} "
                f"FROM {Delivery._meta.db_table} WHERE {message_id} = ANY(%s::uuid[])",
                [array_literal(event_ids)],
            )
            return {(event_id, handler) for event_id, handler in cursor.fetchall()}

    def record_succeeded(
        self,
        *,
        new: Sequence[DeliveryKey] = (),
        existing: Sequence[int] = (),
        dispatched: Collection[uuid.UUID] = (),
        at: datetime,
        commit: bool = False,
    ) -> None:
        """First successes and dispatched marks in one statement, which also relaxes the
        commit, and with ``commit`` (see Store.record_succeeded) sends the COMMIT too: the
        handler's transaction costs one round trip less. Done only where it is safe: the
        outermost atomic block, no savepoint, a client-side binding cursor (Django's
        default; a server-side binding one takes one statement a query)."""
        if existing:
            super().record_succeeded(existing=existing, at=at)
        if not new:
            if dispatched:
                super().record_succeeded(dispatched=dispatched, at=at)
            return
        defaults = success_defaults()
        params: list[Any] = []
        if dispatched:
            params += [at, array_literal(dispatched)]
        params += [
            defaults["status"],
            defaults["attempts"],
            defaults["last_error"],
            defaults["last_traceback"],
            defaults["next_attempt_at"],
            at,
            at,
            array_literal([event_id for event_id, _ in new]),
            array_literal([handler for _, handler in new]),
        ]
        sql = _success_sql(dispatch=bool(dispatched), commit=commit and self._commits_here())
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)

    def _commits_here(self) -> bool:
        """Whether a statement may carry the COMMIT of the open transaction: it is an
        outermost atomic block (no savepoint, no enclosing block) on a cursor that binds on
        the client, so its query goes by the simple protocol, which takes two statements."""
        connection = self.connection
        return (
            len(connection.atomic_blocks) == 1
            and not connection.savepoint_ids
            and not connection.needs_rollback
            and connection.settings_dict["OPTIONS"].get("server_side_binding") is not True
        )

    def relax_commit(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")

    def flush_commits(self) -> None:
        """One statement, its own transaction: given a transaction id, it commits with a
        commit record, and synchronously, so it returns once the WAL is on disk up to that
        record, with every relaxed commit before it."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('synchronous_commit', 'on', true), pg_current_xact_id()"
            )

    def transaction_untouched(self) -> bool:
        """psycopg (3 and 2 alike) opens the server transaction at the first statement: an
        idle connection in an outermost atomic block has sent nothing yet."""
        connection = self.connection
        if len(connection.savepoint_ids) > 0:
            return False
        info = getattr(connection.connection, "info", None)
        status = getattr(info, "transaction_status", None)
        return status is not None and int(status) == 0  # IDLE, in psycopg 3 and psycopg2

    def listener(self) -> "_PostgresListener":
        return _PostgresListener(self.using)


class _PostgresListener:
    """LISTEN on a connection of its own (the worker's queries keep theirs), with psycopg 3
    or psycopg2, whichever Django's backend runs on. The connection is in autocommit mode
    (Django's default), so the LISTEN takes effect at once."""

    def __init__(self, using: str) -> None:
        self._connection: BaseDatabaseWrapper = connections.create_connection(using)
        self._connection.ensure_connection()
        self._raw: Any = self._connection.connection
        with self._connection.wrap_database_errors, self._raw.cursor() as cursor:
            cursor.execute(f"LISTEN {NOTIFY_CHANNEL}")

    def wait(self, seconds: float) -> bool:
        """Whether a NOTIFY came within ``seconds``; raises Django's OperationalError when the
        connection is lost."""
        with self._connection.wrap_database_errors:
            if is_psycopg3:
                for _ in self._raw.notifies(timeout=max(seconds, 0.0), stop_after=1):
                    return True
                return False
            return self._wait_psycopg2(seconds)

    def _wait_psycopg2(self, seconds: float) -> bool:
        """psycopg2 reads notifications when asked to ``poll()``; wait for the socket first."""
        self._raw.poll()
        if not self._raw.notifies:
            readable, _, _ = select.select([self._raw], [], [], max(seconds, 0.0))
            if readable:
                self._raw.poll()  # raises OperationalError if the server has gone
        heard = bool(self._raw.notifies)
        self._raw.notifies.clear()
        return heard

    def close(self) -> None:
        self._connection.close()

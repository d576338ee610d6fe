"""The store on MariaDB 10.6+: the portable store, with claims that lock one table, and the
worker's hot path (the outbox claim, the successes) in hand-written statements.

MariaDB has ``FOR UPDATE SKIP LOCKED``, so any number of workers share the outbox, but no
``FOR UPDATE OF``: a locking read of a join locks the rows of every table in it. The claims
of due deliveries and ``lock_delivery`` therefore lock the delivery rows alone and read
their events' outbox rows afterwards, without a lock (an outbox row's envelope never changes).
Locking the outbox rows too would make a due retry skip, or wait for, an event another
worker holds for an unrelated reason, and could deadlock with it.

What MariaDB cannot do, it leaves at the interface's defaults: no relaxed commits (its
``innodb_flush_log_at_trx_commit`` is server-wide, not per transaction), and no listener (it
has no LISTEN/NOTIFY: the worker polls every ``--poll`` seconds).

The outbox claim is one ``SELECT ... FOR UPDATE SKIP LOCKED`` read without model instances,
then one plain read of the claimed events' delivered handlers; a batch's successes are one
INSERT whose rows come from one JSON parameter (``JSON_TABLE``), the counterpart of
PostgreSQL's ``unnest`` of arrays: the driver quotes one string instead of eleven values a
row (which cost more than the statement).

It expects the READ COMMITTED isolation level (Django's default for MySQL and MariaDB):
under REPEATABLE READ a locking read also takes gap locks, which block publishers inserting
outbox rows behind a claim.
"""

import json
import uuid
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.db.models import Q

from eventbus.envelope import Envelope
from eventbus.models import DUE, Delivery, OutboxMessage
from eventbus.storage.base import Claimed, DeliveryKey, DeliveryRow
from eventbus.storage.portable import (
    ENVELOPE_FIELDS,
    SUCCESS_FIELDS,
    PortableStore,
    columns,
    envelope_from_row,
    envelope_of,
    row_of,
    success_defaults,
)

#: The outbox's primary key column (the event id).
_ID = columns(OutboxMessage, ["id"])


@cache
def _claim_sql(*, limited: bool, before: bool, among: int) -> str:
    """The outbox claim: undispatched rows in id order, through the index led by
    ``dispatched_at`` (eventbus migration 0008), skipping rows another worker holds."""
    conditions = [f"{columns(OutboxMessage, ['dispatched_at'])} IS NULL"]
    if before:
        conditions.append(f"{columns(OutboxMessage, ['occurred_at'])} <= %s")
    if among:
        conditions.append(f"{_ID} IN ({', '.join(['%s'] * among)})")
    return (
        f"SELECT {columns(OutboxMessage, ENVELOPE_FIELDS)} FROM {OutboxMessage._meta.db_table} "
        f"WHERE {' AND '.join(conditions)} ORDER BY {_ID}{' LIMIT %s' if limited else ''} "
        "FOR UPDATE SKIP LOCKED"
    )


@cache
def _deliveries_sql(count: int) -> str:
    message_id = Delivery._meta.get_field("message").column
    return (
        f"SELECT {message_id}, {columns(Delivery, ['handler'])} FROM {Delivery._meta.db_table} "
        f"WHERE {message_id} IN ({', '.join(['%s'] * count)})"
    )


@cache
def _success_sql() -> str:
    """First successes: the (event id, handler) pairs from one JSON array of pairs, the
    other values the same for every row."""
    handler = Delivery._meta.get_field("handler")
    assert isinstance(handler.max_length, int)
    marks = ", ".join(["%s"] * (len(SUCCESS_FIELDS) - 2))
    return (
        f"INSERT INTO {Delivery._meta.db_table} ({columns(Delivery, SUCCESS_FIELDS)}) "
        f"SELECT j.m, j.h, {marks} FROM JSON_TABLE(%s, '$[*]' COLUMNS ("
        f"m CHAR(36) PATH '$[0]', h VARCHAR({handler.max_length}) PATH '$[1]')) AS j"
    )


class MariaDBStore(PortableStore):
    """The portable store whose delivery claims lock the delivery rows alone, with the
    outbox claim and first successes in single hand-written statements."""

    def claim_outbox(
        self,
        *,
        limit: int | None = None,
        occurred_before: datetime | None = None,
        ids: Collection[uuid.UUID] | None = None,
    ) -> Claimed:
        params: list[Any] = []
        if occurred_before is not None:
            params.append(self._time(occurred_before))
        if ids is not None:
            if not ids:
                return Claimed([], set())
            params += [str(i) for i in ids]
        if limit is not None:
            params.append(limit)
        sql = _claim_sql(
            limited=limit is not None,
            before=occurred_before is not None,
            among=len(ids) if ids is not None else 0,
        )
        connection = self.connection
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        envelopes = [envelope_from_row(_converted(row), connection) for row in rows]
        return Claimed(envelopes, self.deliveries_of([e.event_id for e in envelopes]))

    def deliveries_of(self, event_ids: Collection[uuid.UUID]) -> set[DeliveryKey]:
        if not event_ids:
            return set()
        with self.connection.cursor() as cursor:
            cursor.execute(_deliveries_sql(len(event_ids)), [str(i) for i in event_ids])
            return {(uuid.UUID(str(m)), h) for m, h in cursor.fetchall()}

    def record_succeeded(
        self,
        *,
        new: Sequence[DeliveryKey] = (),
        existing: Sequence[int] = (),
        dispatched: Collection[uuid.UUID] = (),
        at: datetime,
        commit: bool = False,
    ) -> None:
        """First successes in one statement, then the portable store's dispatched marks and
        retried rows; ``commit`` is left to the caller's block."""
        if new:
            defaults = success_defaults()
            when = self._time(at)
            params = [
                defaults["status"],
                defaults["attempts"],
                defaults["last_error"],
                defaults["last_traceback"],
                defaults["next_attempt_at"],
                when,
                when,
                json.dumps([[str(event_id), handler] for event_id, handler in new]),
            ]
            with self.connection.cursor() as cursor:
                cursor.execute(_success_sql(), params)
        if existing or dispatched:
            super().record_succeeded(existing=existing, dispatched=dispatched, at=at)

    def _time(self, at: datetime) -> Any:
        """``at`` as the database takes a time (naive UTC, by the field's own preparation)."""
        return Delivery._meta.get_field("created_at").get_db_prep_save(at, self.connection)

    def claim_due(
        self, *, limit: int, now: datetime, queues: Collection[str] | None = None
    ) -> list[tuple[DeliveryRow, Envelope]]:
        due = Delivery.objects.using(self.using).filter(status__in=DUE, next_attempt_at__lte=now)
        if queues is not None:
            due = due.filter(Q(queue="") | Q(queue__in=list(queues)))
        ordered = due.order_by("-priority", "next_attempt_at", "id")
        claimed = list(ordered.select_for_update(skip_locked=True)[:limit])
        envelopes = self._envelopes({d.message_id for d in claimed})
        return [(row_of(d), envelopes[d.message_id]) for d in claimed]

    def lock_delivery(self, delivery_id: int) -> tuple[DeliveryRow, Envelope] | None:
        rows = Delivery.objects.using(self.using).select_for_update().filter(pk=delivery_id)
        delivery = rows.first()
        if delivery is None:
            return None
        return row_of(delivery), self._envelopes({delivery.message_id})[delivery.message_id]

    def _envelopes(self, event_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Envelope]:
        """The envelopes of these events, read without a lock."""
        if not event_ids:
            return {}
        rows = OutboxMessage.objects.using(self.using).filter(pk__in=list(event_ids))
        return {row.pk: envelope_of(row) for row in rows}


def _converted(row: Sequence[Any]) -> list[Any]:
    """A raw outbox row as the ORM would read it: MySQLdb gives UUIDs as text and times
    naive (Django keeps them in UTC)."""
    values = list(row)
    values[0] = uuid.UUID(values[0])
    if values[2] is not None and not isinstance(values[2], int):
        values[2] = int(values[2])
    if values[3] is not None and values[3].tzinfo is None:
        values[3] = values[3].replace(tzinfo=UTC)
    if values[6] is not None:
        values[6] = uuid.UUID(values[6])
    return values

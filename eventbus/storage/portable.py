"""The store on any database Django supports: the ORM, and plain INSERTs on the hot path.

SQLite in development and tests. It has no ``SKIP LOCKED``: a claim takes the rows, and the
database-wide write lock keeps a second writer out, so one worker is enough there.
"""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Field, Q, QuerySet

from eventbus.envelope import Envelope
from eventbus.models import DUE, Delivery, DeliveryAttempt, OutboxMessage
from eventbus.process import process_name
from eventbus.storage.base import Claimed, DeliveryKey, DeliveryRow, Failure, Store

#: The outbox fields an envelope is read from, in the order raw reads select them.
ENVELOPE_FIELDS = (
    "id",
    "name",
    "version",
    "occurred_at",
    "producer",
    "correlation_id",
    "causation_id",
    "aggregate_id",
    "payload",
    "traceparent",
)
#: The outbox fields a publish writes.
OUTBOX_FIELDS = (*ENVELOPE_FIELDS, "broker", "dispatched_at")
#: The delivery fields a first success writes.
SUCCESS_FIELDS = (
    "message_id",
    "handler",
    "status",
    "attempts",
    "last_error",
    "last_traceback",
    "next_attempt_at",
    "created_at",
    "updated_at",
)


def field_of(model: Any, name: str) -> "Field[Any, Any]":
    """A concrete field of ``model`` (a column, not a reverse relation)."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def columns(model: Any, names: Sequence[str]) -> str:
    """The database columns of ``names`` on ``model``, comma-separated."""
    return ", ".join(model._meta.get_field(name).column for name in names)


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
        traceparent=message.traceparent,
    )


def envelope_from_row(row: Sequence[Any], connection: BaseDatabaseWrapper) -> Envelope:
    """An envelope from a raw row of ENVELOPE_FIELDS (no model instance: a tenth of the
    cost); the payload is decoded as the JSON field decodes it."""
    (
        event_id,
        name,
        version,
        occurred,
        producer,
        correlation,
        causation,
        aggregate,
        payload,
        traceparent,
    ) = row[: len(ENVELOPE_FIELDS)]
    load_payload, column = _payload_reader()
    return Envelope(
        event_id=event_id,
        name=name,
        version=version,
        occurred_at=occurred,
        producer=producer,
        correlation_id=correlation,
        causation_id=causation,
        payload=load_payload(payload, column, connection),
        aggregate_id=aggregate,
        traceparent=traceparent,
    )


@cache
def _payload_reader() -> tuple[Any, Any]:
    """The payload field's decoder (Django reads JSON as text on some backends) and the
    column expression it is given."""
    field = field_of(OutboxMessage, "payload")
    return field.from_db_value, field.get_col(OutboxMessage._meta.db_table)  # type: ignore[attr-defined]


def row_of(delivery: Delivery) -> DeliveryRow:
    return DeliveryRow(delivery.pk, delivery.handler, delivery.status, delivery.attempts)


@cache
def success_defaults() -> dict[str, Any]:
    """The values a first success writes besides its key and times, from the model."""

    return {
        "status": Delivery.Status.SUCCEEDED.value,
        "attempts": 1,
        "last_error": field_of(Delivery, "last_error").get_default(),
        "last_traceback": field_of(Delivery, "last_traceback").get_default(),
        "next_attempt_at": None,
    }


#: Fields whose preparation of a str or an int is the identity on every backend.
_PLAIN = frozenset({"CharField", "TextField", "IntegerField", "PositiveIntegerField"})


@cache
def _preparers(names: tuple[str, ...]) -> list[Any]:
    """The outbox fields' ``get_db_prep_save``, looked up once; None for a plain field (its
    value, a str or an int of the envelope, goes as it is: a third of a publish's Python
    went to preparing them)."""
    fields = [field_of(OutboxMessage, name) for name in names]
    return [None if f.get_internal_type() in _PLAIN else f.get_db_prep_save for f in fields]


@cache
def _success_preparers() -> tuple[Any, Any]:
    """How a time and an event id are prepared for the database, by their fields."""
    return (
        field_of(Delivery, "created_at").get_db_prep_save,
        field_of(OutboxMessage, "id").get_db_prep_save,
    )


@cache
def _success_constants() -> list[Any]:
    defaults = success_defaults()
    return [defaults[name] for name in SUCCESS_FIELDS[2:7]]


@cache
def _mark_sql(count: int) -> str:
    """Mark rows dispatched: a plain UPDATE (the ORM's costs ten times more in Python)."""
    table = OutboxMessage._meta.db_table
    marks = ", ".join(["%s"] * count)
    dispatched_at = columns(OutboxMessage, ["dispatched_at"])
    return (
        f"UPDATE {table} SET {dispatched_at} = %s "
        f"WHERE {columns(OutboxMessage, ['id'])} IN ({marks}) AND {dispatched_at} IS NULL"
    )


@cache
def _insert_sql(model: Any, names: tuple[str, ...]) -> str:
    marks = ", ".join(["%s"] * len(names))
    return f"INSERT INTO {model._meta.db_table} ({columns(model, names)}) VALUES ({marks})"


class PortableStore(Store):
    """The store through the ORM; the two statements of every publish and every first
    success are plain INSERTs with values prepared by the model fields."""

    @property
    def connection(self) -> BaseDatabaseWrapper:
        return connections[self.using]

    def _outbox_params(
        self, envelope: Envelope, *, broker: str, dispatched_at: datetime | None
    ) -> list[Any]:
        """The values of OUTBOX_FIELDS for ``envelope``, prepared by their model fields."""
        connection = self.connection
        values = self._outbox_values(envelope, broker=broker, dispatched_at=dispatched_at)
        return [
            values[name] if prepare is None else prepare(values[name], connection)
            for name, prepare in zip(OUTBOX_FIELDS, _preparers(OUTBOX_FIELDS), strict=True)
        ]

    def _outbox_values(
        self, envelope: Envelope, *, broker: str, dispatched_at: datetime | None
    ) -> dict[str, Any]:
        return {
            "id": envelope.event_id,
            "name": envelope.name,
            "version": envelope.version,
            "occurred_at": envelope.occurred_at,
            "producer": envelope.producer,
            "correlation_id": envelope.correlation_id,
            "causation_id": envelope.causation_id,
            "aggregate_id": envelope.aggregate_id,
            "payload": envelope.payload,
            "traceparent": envelope.traceparent,
            "broker": broker,
            "dispatched_at": dispatched_at,
        }

    # --- the outbox ---------------------------------------------------------------------

    def insert_message(
        self, envelope: Envelope, *, dispatched: bool, notify: bool, broker: str
    ) -> None:
        params = self._outbox_params(
            envelope, broker=broker, dispatched_at=envelope.occurred_at if dispatched else None
        )
        with self.connection.cursor() as cursor:
            cursor.execute(_insert_sql(OutboxMessage, OUTBOX_FIELDS), params)

    def insert_task(
        self, envelope: Envelope, *, handler: str, priority: int, queue: str, due_at: datetime
    ) -> None:
        self.insert_message(
            envelope, dispatched=True, notify=True, broker=OutboxMessage.Broker.NONE.value
        )
        Delivery.objects.using(self.using).create(
            message_id=envelope.event_id,
            handler=handler,
            status=Delivery.Status.WAITING,
            attempts=0,
            last_error="",
            next_attempt_at=due_at,
            created_at=envelope.occurred_at,
            updated_at=envelope.occurred_at,
            priority=priority,
            queue=queue,
        )

    def insert_received(self, envelopes: Sequence[Envelope]) -> set[uuid.UUID]:
        rows = OutboxMessage.objects.using(self.using)
        ids = [e.event_id for e in envelopes]
        before = set(rows.filter(pk__in=ids).values_list("pk", flat=True))
        rows.bulk_create(
            [
                OutboxMessage(
                    **self._outbox_values(
                        e, broker=OutboxMessage.Broker.RECEIVED, dispatched_at=None
                    )
                )
                for e in envelopes
                if e.event_id not in before
            ],
            ignore_conflicts=True,
        )
        return {i for i in ids if i not in before}

    def stored_envelopes(self, event_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Envelope]:
        rows = OutboxMessage.objects.using(self.using).filter(pk__in=list(event_ids))
        return {row.pk: envelope_of(row) for row in rows}

    def claim_outbox(
        self,
        *,
        limit: int | None = None,
        occurred_before: datetime | None = None,
        ids: Collection[uuid.UUID] | None = None,
    ) -> Claimed:
        pending = OutboxMessage.objects.using(self.using).filter(dispatched_at__isnull=True)
        if occurred_before is not None:
            pending = pending.filter(occurred_at__lte=occurred_before)
        if ids is not None:
            pending = pending.filter(pk__in=list(ids))
        pending = self._skip_locked(pending.order_by("id"))
        messages = list(pending[:limit] if limit is not None else pending)
        envelopes = [envelope_of(m) for m in messages]
        return Claimed(envelopes, self.deliveries_of([e.event_id for e in envelopes]))

    def mark_dispatched(self, event_ids: Collection[uuid.UUID], *, at: datetime) -> None:
        self.record_succeeded(dispatched=event_ids, at=at)

    def claim_relay(self, *, limit: int) -> list[Envelope]:
        pending = OutboxMessage.objects.using(self.using).filter(
            broker=OutboxMessage.Broker.PENDING
        )
        return [envelope_of(m) for m in self._skip_locked(pending.order_by("id"))[:limit]]

    def mark_relayed(self, event_ids: Collection[uuid.UUID], *, at: datetime) -> None:
        if event_ids:
            OutboxMessage.objects.using(self.using).filter(pk__in=list(event_ids)).update(
                broker=OutboxMessage.Broker.SENT, relayed_at=at
            )

    # --- deliveries ---------------------------------------------------------------------

    def deliveries_of(self, event_ids: Collection[uuid.UUID]) -> set[DeliveryKey]:
        if not event_ids:
            return set()
        rows = Delivery.objects.using(self.using).filter(message_id__in=list(event_ids))
        return set(rows.values_list("message_id", "handler"))

    def claim_due(
        self, *, limit: int, now: datetime, queues: Collection[str] | None = None
    ) -> list[tuple[DeliveryRow, Envelope]]:
        due = Delivery.objects.using(self.using).filter(status__in=DUE, next_attempt_at__lte=now)
        if queues is not None:
            due = due.filter(Q(queue="") | Q(queue__in=list(queues)))
        # Served by the partial index on due rows: the sort is over what is due now.
        ordered = due.order_by("-priority", "next_attempt_at", "id")
        claimed = self._skip_locked(ordered, of=("self",))
        return [
            (row_of(d), envelope_of(d.message)) for d in claimed.select_related("message")[:limit]
        ]

    def lock_delivery(self, delivery_id: int) -> tuple[DeliveryRow, Envelope] | None:
        delivery = (
            Delivery.objects.using(self.using)
            .select_for_update(of=("self",))
            .select_related("message")
            .filter(pk=delivery_id)
            .first()
        )
        return None if delivery is None else (row_of(delivery), envelope_of(delivery.message))

    def lock_delivery_of(self, event_id: uuid.UUID, handler: str) -> DeliveryRow | None:
        delivery = (
            Delivery.objects.using(self.using)
            .select_for_update()
            .filter(message_id=event_id, handler=handler)
            .first()
        )
        return None if delivery is None else row_of(delivery)

    def record_succeeded(
        self,
        *,
        new: Sequence[DeliveryKey] = (),
        existing: Sequence[int] = (),
        dispatched: Collection[uuid.UUID] = (),
        at: datetime,
        commit: bool = False,
    ) -> None:
        """The ORM's portable statements; ``commit`` is left to the caller's block."""
        connection = self.connection
        # Only event ids and the time need the fields' preparation; the defaults are plain
        # strings, numbers and NULL on every backend.
        prep_time, prep_id = _success_preparers()
        when = prep_time(at, connection)
        with connection.cursor() as cursor:
            if new:
                constant = _success_constants()
                rows = [[prep_id(i, connection), h, *constant, when, when] for i, h in new]
                if len(rows) == 1:
                    cursor.execute(_insert_sql(Delivery, SUCCESS_FIELDS), rows[0])
                else:
                    cursor.executemany(_insert_sql(Delivery, SUCCESS_FIELDS), rows)
            ids = [prep_id(i, connection) for i in dispatched]
            for start in range(0, len(ids), 500):  # within any database's parameter limit
                chunk = ids[start : start + 500]
                cursor.execute(_mark_sql(len(chunk)), [when, *chunk])
        if existing:
            defaults = success_defaults()
            Delivery.objects.using(self.using).filter(pk__in=list(existing)).update(
                status=defaults["status"],
                attempts=F("attempts") + 1,
                last_error=defaults["last_error"],
                next_attempt_at=None,
                updated_at=at,
            )

    def record_failed(
        self, row: DeliveryRow | None, key: DeliveryKey, failure: Failure
    ) -> DeliveryRow:
        status = Delivery.Status.FAILED if failure.next_attempt_at else Delivery.Status.DEAD
        delivery = self._save(
            row,
            key,
            at=failure.at,
            status=status,
            attempts=(row.attempts if row else 0) + 1,
            last_error=failure.error,
            last_traceback=failure.traceback,
            next_attempt_at=failure.next_attempt_at,
        )
        DeliveryAttempt.objects.using(self.using).create(
            delivery_id=delivery.id,
            number=delivery.attempts,
            error=failure.error,
            traceback=failure.traceback,
            failed_at=failure.at,
            worker=process_name(),
        )
        return delivery

    def record_waiting(
        self, row: DeliveryRow | None, key: DeliveryKey, *, note: str, at: datetime, until: datetime
    ) -> DeliveryRow:
        return self._save(
            row,
            key,
            at=at,
            status=Delivery.Status.WAITING,
            attempts=row.attempts if row else 0,
            last_error=note,
            next_attempt_at=until,
        )

    def _save(
        self, row: DeliveryRow | None, key: DeliveryKey, *, at: datetime, **values: Any
    ) -> DeliveryRow:
        """The one write of a delivery row's state: an UPDATE of ``row``, or an INSERT."""
        rows = Delivery.objects.using(self.using)
        if row is not None:
            rows.filter(pk=row.id).update(updated_at=at, **values)
            return DeliveryRow(row.id, row.handler, values["status"], values["attempts"])
        delivery = rows.create(
            message_id=key[0], handler=key[1], created_at=at, updated_at=at, **values
        )
        return row_of(delivery)

    def blocking_event(
        self,
        *,
        aggregate_id: str,
        before: uuid.UUID,
        handlers: Collection[str],
        unsettled: Collection[str],
        settled: Collection[uuid.UUID] = (),
    ) -> uuid.UUID | None:
        earlier = OutboxMessage.objects.using(self.using).filter(
            aggregate_id=aggregate_id, id__lt=before
        )
        undispatched = Q(dispatched_at__isnull=True) & ~Q(id__in=list(settled))
        failing = Q(deliveries__handler__in=list(handlers), deliveries__status__in=list(unsettled))
        first: uuid.UUID | None = (
            earlier.filter(undispatched | failing)
            .order_by("id")
            .values_list("id", flat=True)
            .first()
        )
        return first

    # --- helpers ------------------------------------------------------------------------

    def _skip_locked(self, queryset: QuerySet[Any], of: tuple[str, ...] = ()) -> QuerySet[Any]:
        """Lock the rows for this transaction, skipping rows another worker holds, where
        the database can (SQLite's write lock is database-wide: nothing to skip)."""
        if self.connection.features.has_select_for_update_skip_locked:
            return queryset.select_for_update(skip_locked=True, of=of)
        return queryset

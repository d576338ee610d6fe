"""What the worker does in one transaction: claim a batch of rows and deliver them.

Claims use ``SELECT ... FOR UPDATE SKIP LOCKED`` where the database has it (PostgreSQL), so
any number of workers share the work without two of them holding the same row; the row
locks last until the batch commits, and the handlers' effects, their delivery records and
the outbox rows' dispatched marks commit together. A worker killed mid-batch therefore
leaves nothing half-done: the whole batch is delivered again by the next claim.

Outbox batches are delivered optimistically, every handler in the one transaction with no
savepoints; if any handler fails, that work is rolled back and the batch is delivered
again carefully, each handler in a savepoint of its own, so the failure is recorded and
the other handlers' effects stand.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connections, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from eventbus import store
from eventbus.context import handling
from eventbus.dispatch import (
    Outcome,
    new_failed_delivery,
    new_waiting_delivery,
    retry_locked,
)
from eventbus.envelope import Envelope
from eventbus.events import Event
from eventbus.models import Delivery, OutboxMessage
from eventbus.ordering import blocking_event
from eventbus.store import envelope_of
from eventbus.subscriptions import Subscription, subscriptions_for


@dataclass
class BatchResult:
    """What one batch did: messages dispatched and deliveries by resulting status."""

    messages: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def count(self, status: str, n: int = 1) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + n

    @property
    def deliveries(self) -> int:
        return sum(self.statuses.values())


class _HandlerFailed(Exception):
    """Leaves the optimistic pass: a handler failed, deliver the batch carefully."""

    def __init__(self, key: tuple[uuid.UUID, str], error: Exception) -> None:
        super().__init__(key, error)
        self.key = key  # (event id, handler id): not run again, its failure is recorded
        self.error = error
        self.batch: list[uuid.UUID] = []  # the ids of the batch, to claim them again


def claim[M: Model](queryset: QuerySet[M], *, using: str, of: tuple[str, ...] = ()) -> QuerySet[M]:
    """Lock the rows for this transaction, skipping rows another worker holds (PostgreSQL)."""
    if connections[using].features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=of)
    return queryset  # SQLite: the write lock is database-wide; one worker is enough


def relax_commit(using: str) -> None:
    """PostgreSQL: this transaction's commit need not wait for its fsync. Every row it
    consumes is already durable in the outbox, so a commit lost in a crash is redelivered."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def deliver_outbox_batch(
    *, using: str, batch_size: int, occurred_before: datetime | None = None
) -> BatchResult:
    """Claim up to ``batch_size`` undispatched outbox rows, oldest first, and deliver them.

    ``occurred_before`` limits the claim to rows older than that (inline mode, where the
    worker only finishes what a dead process left). Returns what was done.

    The optimistic pass runs in the claim's transaction with no savepoint (two round trips
    fewer per batch). If a handler fails, that whole transaction rolls back and the same
    rows are claimed again (those no other worker took meanwhile) for the careful pass.
    """
    try:
        with transaction.atomic(using=using):
            claimed = store.claim_outbox(
                using=using, limit=batch_size, occurred_before=occurred_before
            )
            return _run_pass(_Pass(using, claimed.delivered), claimed.envelopes)
    except _HandlerFailed as failed:
        with transaction.atomic(using=using):
            claimed = store.claim_outbox(using=using, ids=failed.batch)
            careful = _Pass(using, claimed.delivered, careful=True, known_failure=failed)
            return _run_pass(careful, claimed.envelopes)


def _run_pass(pass_: "_Pass", envelopes: list[Envelope]) -> BatchResult:
    result = BatchResult()
    if envelopes:
        pass_.run(envelopes, result)
        result.messages = len(envelopes)
    return result


def deliver_messages(
    messages: list[OutboxMessage] | list[Envelope],
    *,
    using: str,
    delivered: set[tuple[uuid.UUID, str]] | None = None,
) -> BatchResult:
    """Deliver rows the caller holds (claimed, or just inserted) and mark them dispatched.

    Runs in the caller's transaction, which must be open. Handlers that already have a
    delivery row for a message (a dead process recorded it before it could mark its row
    dispatched) are skipped; pass ``delivered`` (the set of (event id, handler id) pairs,
    empty for rows this transaction just inserted) to spare the lookup.
    """
    envelopes = [m if isinstance(m, Envelope) else envelope_of(m) for m in messages]
    if delivered is None:
        delivered = store.deliveries_of([e.event_id for e in envelopes], using=using)
    result = BatchResult()
    try:
        with transaction.atomic(using=using):
            _Pass(using, delivered).run(envelopes, result)
    except _HandlerFailed as failed:
        result = BatchResult()
        _Pass(using, delivered, careful=True, known_failure=failed).run(envelopes, result)
    result.messages = len(envelopes)
    return result


class _Pass:
    """One pass over a claimed batch, inside the batch's transaction."""

    def __init__(
        self,
        using: str,
        existing: set[tuple[uuid.UUID, str]],
        *,
        careful: bool = False,
        known_failure: _HandlerFailed | None = None,
    ) -> None:
        self.using = using
        self.existing = existing
        self.careful = careful
        self.known_failure = known_failure
        self.succeeded: list[tuple[uuid.UUID, str]] = []  # (event id, handler id)
        self.settled: set[uuid.UUID] = set()  # delivered in this transaction
        self.held: dict[tuple[str, str], uuid.UUID] = {}  # (module, aggregate) -> blocker

    def run(self, envelopes: list[Envelope], result: BatchResult) -> None:
        try:
            self._run_all(envelopes, result)
        except _HandlerFailed as failed:
            failed.batch = [e.event_id for e in envelopes]
            raise

    def _run_all(self, envelopes: list[Envelope], result: BatchResult) -> None:
        for envelope in envelopes:
            subs = [
                s
                for s in subscriptions_for(envelope.name)
                if (envelope.event_id, s.handler_id) not in self.existing
            ]
            if subs:
                self._deliver(envelope, subs, result)
            self.settled.add(envelope.event_id)
        ids = [e.event_id for e in envelopes]
        store.record_batch_done(ids, self.succeeded, using=self.using)
        result.count(Delivery.Status.SUCCEEDED, len(self.succeeded))

    def _deliver(self, envelope: Envelope, subs: list[Subscription], result: BatchResult) -> None:
        try:
            event = envelope.event()
        except Exception as exc:
            if not self.careful:
                raise _HandlerFailed((envelope.event_id, ""), exc) from exc
            for sub in subs:  # unreadable: a dead letter for every handler
                result.count(new_failed_delivery(sub, envelope, exc, using=self.using).status)
            return
        for sub in subs:
            blocker = self._blocker(sub, envelope)
            if blocker is not None:
                new_waiting_delivery(sub, envelope, blocker, using=self.using)
                self._hold(sub, envelope)
                result.count(Delivery.Status.WAITING)
            elif self._run(sub, envelope, event, result):
                self.succeeded.append((envelope.event_id, sub.handler_id))
            else:
                self._hold(sub, envelope)

    def _run(
        self, sub: Subscription, envelope: Envelope, event: Event, result: BatchResult
    ) -> bool:
        if not self.careful:
            try:
                with handling(envelope):
                    sub(event)
            except Exception as exc:
                raise _HandlerFailed((envelope.event_id, sub.handler_id), exc) from exc
            return True
        known = self.known_failure
        if known is not None and known.key == (envelope.event_id, sub.handler_id):
            # It failed a moment ago in the optimistic pass: record that, do not run it twice.
            result.count(new_failed_delivery(sub, envelope, known.error, using=self.using).status)
            return False
        try:
            with transaction.atomic(using=self.using), handling(envelope):
                sub(event)
        except Exception as exc:
            result.count(new_failed_delivery(sub, envelope, exc, using=self.using).status)
            return False
        return True

    def _blocker(self, sub: Subscription, envelope: Envelope) -> uuid.UUID | None:
        if not sub.ordered or not envelope.aggregate_id:
            return None
        held = self.held.get((sub.module, envelope.aggregate_id))
        if held is not None:
            return held
        return blocking_event(sub, envelope, using=self.using, settled=self.settled)

    def _hold(self, sub: Subscription, envelope: Envelope) -> None:
        if sub.ordered and envelope.aggregate_id:
            self.held.setdefault((sub.module, envelope.aggregate_id), envelope.event_id)


def retry_due_batch(*, using: str, batch_size: int) -> list[Outcome]:
    """Claim up to ``batch_size`` failed or waiting deliveries that are due and attempt each.

    One transaction; each handler runs in a savepoint, so one failure does not undo the
    others' effects.
    """
    with transaction.atomic(using=using):
        due = (
            Delivery.objects.using(using)
            .filter(
                status__in=[Delivery.Status.FAILED, Delivery.Status.WAITING],
                next_attempt_at__lte=timezone.now(),
            )
            .order_by("next_attempt_at", "id")
        )
        deliveries = list(
            claim(due, using=using, of=("self",)).select_related("message")[:batch_size]
        )
        if not deliveries:
            return []
        relax_commit(using)
        return [retry_locked(d, using=using) for d in deliveries]

"""Batches: many deliveries in one transaction, for the worker and the broker consumer.

A claimed batch is delivered optimistically, every handler in the claim's transaction with
no savepoint; the successes and the outbox rows' dispatched marks are written in one
statement at the end, and commit with the handlers' effects. If any handler fails, that
whole transaction rolls back and the batch is delivered again carefully, each handler in a
savepoint, so the failure is recorded and the other handlers' effects stand. A worker killed
mid-batch leaves nothing half-done: the next claim delivers the whole batch again.
"""

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, transaction

from eventbus.delivery import redelivery
from eventbus.delivery.engine import (
    DUE_STATUSES,
    FORCED_STATUSES,
    SKIPPED,
    HandlerFailed,
    Job,
    Outcome,
    Session,
    deliver,
    read,
)
from eventbus.envelope import Envelope
from eventbus.events import Event
from eventbus.storage import DeliveryKey, DeliveryRow, Store, store_for
from eventbus.subscriptions import subscriptions_for


@dataclass
class BatchResult:
    """What one batch did: messages dispatched and the outcome of each delivery."""

    messages: int = 0
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def deliveries(self) -> int:
        return len(self.outcomes)

    @property
    def statuses(self) -> dict[str, int]:
        return dict(Counter(o.status for o in self.outcomes))


def deliver_envelopes(
    session: Session, envelopes: Sequence[Envelope], delivered: set[DeliveryKey]
) -> BatchResult:
    """Deliver each envelope to its handlers that have no delivery row yet (``delivered``
    holds the pairs that do), then write the successes and mark every envelope dispatched.
    In the caller's transaction."""
    result = BatchResult(messages=len(envelopes))
    for envelope in redelivery.arrange(envelopes, _itself):
        subs = [
            s
            for s in subscriptions_for(envelope.name)
            if (envelope.event_id, s.handler_id) not in delivered
        ]
        if subs:
            event = read(envelope)
            for sub in subs:
                result.outcomes.append(deliver(Job(envelope, sub.handler_id, event), session))
        session.settled.add(envelope.event_id)
    session.flush(dispatched=[e.event_id for e in envelopes])
    return result


def _itself(envelope: Envelope) -> Envelope:
    return envelope


def _second(row: tuple[DeliveryRow, Envelope]) -> Envelope:
    return row[1]


def deliver_outbox_batch(
    *, using: str, batch_size: int, occurred_before: datetime | None = None
) -> BatchResult:
    """Claim up to ``batch_size`` undispatched outbox rows, oldest first, and deliver them.

    ``occurred_before`` limits the claim to rows older than that (inline mode, where the
    worker only finishes what a dead process left). If the optimistic pass fails, the same
    rows (those no other worker took meanwhile) are claimed again for the careful pass.
    """
    store = store_for(using)
    ids: list[uuid.UUID] = []
    try:
        with transaction.atomic(using=using):
            claimed = store.claim_outbox(limit=batch_size, occurred_before=occurred_before)
            ids = [e.event_id for e in claimed.envelopes]
            return deliver_envelopes(
                Session(store, careful=False), claimed.envelopes, claimed.delivered
            )
    except HandlerFailed as failed:
        with transaction.atomic(using=using):
            claimed = store.claim_outbox(ids=ids)
            session = Session(store, careful=True, known_failure=failed)
            return deliver_envelopes(session, claimed.envelopes, claimed.delivered)


def deliver_held(
    store: Store, envelopes: Sequence[Envelope], delivered: set[DeliveryKey]
) -> BatchResult:
    """Deliver rows the caller holds in its open transaction (just inserted by the consumer,
    or claimed): optimistically in a savepoint, carefully if a handler fails."""
    try:
        with transaction.atomic(using=store.using):
            return deliver_envelopes(Session(store, careful=False), envelopes, delivered)
    except HandlerFailed as failed:
        session = Session(store, careful=True, known_failure=failed)
        return deliver_envelopes(session, envelopes, delivered)


def retry_rows(
    store: Store,
    rows: Sequence[tuple[DeliveryRow, Envelope]],
    *,
    runs: frozenset[str] = DUE_STATUSES,
) -> list[Outcome]:
    """Attempt delivery rows the caller has locked, each handler in a savepoint of the
    caller's transaction; the successes are written together at the end."""
    session = Session(store, careful=True)
    events: dict[uuid.UUID, Event | Exception] = {}
    outcomes = []
    for row, envelope in redelivery.arrange(rows, _second):
        event = events.get(envelope.event_id)
        if event is None:
            event = events[envelope.event_id] = read(envelope)
        job = Job(envelope, row.handler, event, row=row, runs=runs)
        outcomes.append(deliver(job, session))
    session.flush()
    return outcomes


def redeliver(delivery_id: int, *, using: str = DEFAULT_DB_ALIAS, force: bool = False) -> Outcome:
    """Try one delivery again now, in a transaction of its own: a failed or waiting one, or
    with ``force`` also a dead or discarded one (dead-letter retry, the admin); never one
    that succeeded.

    The row is locked for the attempt, so two processes never run it at once; a delivery
    that succeeded meanwhile is skipped unless forced. Returns the outcome ("skipped" also
    for an id that does not exist)."""
    store = store_for(using)
    with transaction.atomic(using=using):
        locked = store.lock_delivery(delivery_id)
        if locked is None:
            return Outcome("", SKIPPED)
        return retry_rows(store, [locked], runs=FORCED_STATUSES if force else DUE_STATUSES)[0]

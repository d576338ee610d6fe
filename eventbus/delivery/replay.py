"""Replaying one stored event to one handler, through the delivery engine."""

from django.db import DEFAULT_DB_ALIAS, transaction

from eventbus.delivery.engine import EVERY_STATUS, SKIPPED, Job, Outcome, Session, deliver, read
from eventbus.models import OutboxMessage
from eventbus.storage import envelope_of, store_for
from eventbus.subscriptions import Subscription


def deliver_to(
    message: OutboxMessage, sub: Subscription, *, using: str = DEFAULT_DB_ALIAS, again: bool = False
) -> Outcome:
    """Deliver one stored event to one handler, in a transaction of its own. Idempotent
    unless ``again``.

    Without ``again`` a handler that already has a delivery row for the event is skipped
    (a failing one is left to its retries). With ``again`` the handler runs even if it
    succeeded before, and the delivery row counts the new attempt: for rebuilding a read
    model, with a handler that is idempotent.

    Another process may deliver the same pair meanwhile (the inline dispatch of an event
    just published, a worker): whichever records first stands, and here that ends as
    skipped, this run's effects rolled back (the engine's careful session).
    """
    store = store_for(using)
    envelope = envelope_of(message)
    with transaction.atomic(using=using):
        row = store.lock_delivery_of(envelope.event_id, sub.handler_id)
        if row is not None and not again:
            return Outcome(sub.handler_id, SKIPPED)
        session = Session(store, careful=True)
        outcome = deliver(Job(envelope, sub.handler_id, read(envelope), row, EVERY_STATUS), session)
        session.flush()
        return outcome

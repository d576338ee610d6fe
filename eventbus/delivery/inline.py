"""Inline dispatch: after the publisher commits, the event's blinker signal is sent, and each
receiver (one per handler) delivers through the engine in a transaction of its own."""

from django.db import DEFAULT_DB_ALIAS

from eventbus.delivery.engine import Job, Outcome, OwnTransactionSession, deliver
from eventbus.envelope import Envelope
from eventbus.events import Event
from eventbus.storage import store_for
from eventbus.subscriptions import Subscription, event_signal, subscriptions_for


def dispatch(
    envelope: Envelope,
    event: Event,
    *,
    using: str = DEFAULT_DB_ALIAS,
    dispatched_by: str | None = None,
) -> list[Outcome]:
    """Deliver a just-committed envelope to each subscriber of this process, in subscription
    order, by sending its signal. The last handler's record marks the outbox row
    dispatched, so a crash before that leaves the row for the worker (or `eventbus retry`).
    ``dispatched_by`` names that handler when the caller knows it (publish() looked the
    subscribers up already); otherwise they are looked up here."""
    if dispatched_by is None:
        subs = subscriptions_for(envelope.name)
        if not subs:
            return []
        dispatched_by = subs[-1].handler_id
    results = event_signal(envelope.name).send(
        envelope.name, envelope=envelope, event=event, using=using, dispatched_by=dispatched_by
    )
    return [outcome for _, outcome in results]


def receive(
    sub: Subscription,
    *,
    envelope: Envelope,
    event: Event | Exception,
    using: str = DEFAULT_DB_ALIAS,
    dispatched_by: str | None = None,
    **extra: object,
) -> Outcome:
    """The receiver of one handler: deliver ``envelope`` to it through the engine, as a
    first attempt in a transaction of its own. Never raises."""
    session = OwnTransactionSession(store_for(using), dispatched_by=dispatched_by)
    return deliver(Job(envelope, sub.handler_id, event), session)

"""Delivering envelopes to handlers, tracked per (event, handler).

Guarantees: a handler's effects and its success record commit together, so a redelivered
event is skipped by a handler that applied it; a failing handler is recorded with its error
(one DeliveryAttempt row per failure) and retried later with backoff, and never affects the
publisher or the other handlers; after its last attempt, or at once for bad data, the
delivery is a dead letter. Ordered handlers wait for earlier events of the same aggregate.
"""

import logging
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.utils import timezone
from pydantic import ValidationError

from eventbus import store
from eventbus.backoff import next_attempt_at
from eventbus.conf import bus_settings
from eventbus.context import handling
from eventbus.envelope import Envelope
from eventbus.events import Event
from eventbus.exceptions import DoNotRetry, UnknownEventError
from eventbus.models import Delivery, DeliveryAttempt, OutboxMessage
from eventbus.ordering import WAIT_RECHECK, blocking_event, waiting_note
from eventbus.store import envelope_of
from eventbus.subscriptions import Subscription, subscription, subscriptions_for

logger = logging.getLogger("eventbus.dispatch")


@dataclass(frozen=True)
class Outcome:
    handler_id: str
    status: str  # a Delivery.Status value, or "skipped" when nothing was to be done
    error: str = ""


def max_attempts(sub: Subscription | None) -> int:
    if sub is not None and sub.max_attempts is not None:
        return sub.max_attempts
    return bus_settings.MAX_ATTEMPTS


# --- first attempts ----------------------------------------------------------------------


def deliver_new(
    envelope: Envelope, event: Event, *, using: str = DEFAULT_DB_ALIAS
) -> list[Outcome]:
    """Deliver a just-committed envelope to each subscriber (no delivery rows exist yet).

    Runs after the publisher's commit, each handler in its own transaction. The last
    handler's transaction also marks the outbox row dispatched, so a crash before that
    leaves the row for the worker (or `eventbus retry`) to finish.
    """
    subs = subscriptions_for(envelope.name)
    return [
        first_attempt(sub, envelope, event, mark_dispatched=index == len(subs) - 1, using=using)
        for index, sub in enumerate(subs)
    ]


def first_attempt(
    sub: Subscription, envelope: Envelope, event: Event, *, mark_dispatched: bool, using: str
) -> Outcome:
    """Run one handler for an event it has no delivery row for, in its own transaction."""
    blocker = blocking_event(sub, envelope, using=using)
    if blocker is not None:
        return _record_new_waiting(
            sub, envelope, blocker, mark_dispatched=mark_dispatched, using=using
        )
    recorded = False
    outermost = not transaction.get_connection(using).in_atomic_block
    try:
        with transaction.atomic(using=using), handling(envelope):
            sub(event)
            untouched = outermost and store.transaction_untouched(using)
            if not untouched:
                recorded = True
                store.record_first_success(
                    envelope, sub.handler_id, mark_dispatched=mark_dispatched, using=using
                )
        if untouched:  # no effects to commit with: the record alone, one statement
            recorded = True
            store.record_first_success(
                envelope, sub.handler_id, mark_dispatched=mark_dispatched, using=using
            )
        return Outcome(sub.handler_id, Delivery.Status.SUCCEEDED)
    except IntegrityError as exc:
        if recorded:  # another process recorded this delivery first: its effect stands
            logger.info("%s already delivered %s", sub.handler_id, envelope.event_id)
            if mark_dispatched:
                store.mark_dispatched(envelope.event_id, using=using)
            return Outcome(sub.handler_id, "skipped")
        return _record_new_failure(sub, envelope, exc, mark_dispatched=mark_dispatched, using=using)
    except Exception as exc:
        return _record_new_failure(sub, envelope, exc, mark_dispatched=mark_dispatched, using=using)


def _record_new_failure(
    sub: Subscription, envelope: Envelope, exc: Exception, *, mark_dispatched: bool, using: str
) -> Outcome:
    try:
        with transaction.atomic(using=using):
            delivery = new_failed_delivery(sub, envelope, exc, using=using)
            if mark_dispatched:
                store.mark_dispatched(envelope.event_id, using=using)
    except Exception:
        # The database itself is failing; the undispatched outbox row is the record.
        logger.exception("could not record the failure of %s", sub.handler_id)
        return Outcome(sub.handler_id, Delivery.Status.FAILED, describe(exc)[0])
    return Outcome(sub.handler_id, delivery.status, delivery.last_error)


def new_failed_delivery(
    sub: Subscription, envelope: Envelope, exc: BaseException, *, using: str
) -> Delivery:
    """Insert the delivery row of a failed first attempt, with its attempt row."""
    now = timezone.now()
    delivery = Delivery(
        message_id=envelope.event_id, handler=sub.handler_id, created_at=now, updated_at=now
    )
    record_failure(delivery, sub, exc, now=now, using=using, envelope=envelope)
    return delivery


def _record_new_waiting(
    sub: Subscription, envelope: Envelope, blocker: uuid.UUID, *, mark_dispatched: bool, using: str
) -> Outcome:
    with transaction.atomic(using=using):
        delivery = new_waiting_delivery(sub, envelope, blocker, using=using)
        if mark_dispatched:
            store.mark_dispatched(envelope.event_id, using=using)
    return Outcome(sub.handler_id, Delivery.Status.WAITING, delivery.last_error)


def new_waiting_delivery(
    sub: Subscription, envelope: Envelope, blocker: uuid.UUID, *, using: str
) -> Delivery:
    """Insert a delivery that waits for an earlier event of its aggregate (no attempt used)."""
    now = timezone.now()
    delivery = Delivery(
        message_id=envelope.event_id,
        handler=sub.handler_id,
        status=Delivery.Status.WAITING,
        last_error=waiting_note(blocker, envelope),
        next_attempt_at=now + WAIT_RECHECK,
        created_at=now,
        updated_at=now,
    )
    delivery.save(using=using, force_insert=True)
    logger.info("%s on %s %s", sub.handler_id, envelope.event_id, delivery.last_error)
    return delivery


# --- later attempts ----------------------------------------------------------------------


def redeliver(delivery_id: int, *, using: str = DEFAULT_DB_ALIAS, force: bool = False) -> Outcome:
    """Try a failed or waiting (or, with ``force``, dead) delivery again, in one transaction.

    The delivery row is locked for the attempt, so two processes never run it at once; a
    delivery that succeeded meanwhile is skipped. The handler runs in a savepoint: its
    effects roll back on failure while the failure itself is recorded.
    """
    with transaction.atomic(using=using):
        delivery = (
            Delivery.objects.using(using)
            .select_for_update(of=("self",))
            .select_related("message")
            .get(pk=delivery_id)
        )
        return retry_locked(delivery, using=using, force=force)


def retry_locked(delivery: Delivery, *, using: str, force: bool = False) -> Outcome:
    """Attempt a delivery whose row the caller has locked, inside the caller's transaction."""
    retryable = {Delivery.Status.FAILED, Delivery.Status.WAITING}
    if force:
        retryable |= {Delivery.Status.DEAD, Delivery.Status.DISCARDED}
    if delivery.status not in retryable:
        return Outcome(delivery.handler, "skipped")
    now = timezone.now()
    sub = subscription(delivery.handler)
    if sub is None:
        gone = UnknownEventError(f"{delivery.handler} is no longer subscribed in this process")
        record_failure(delivery, None, gone, now=now, using=using)
        return Outcome(delivery.handler, delivery.status, delivery.last_error)
    envelope = envelope_of(delivery.message)
    blocker = blocking_event(sub, envelope, using=using)
    if blocker is not None:
        delivery.status = Delivery.Status.WAITING
        delivery.last_error = waiting_note(blocker, envelope)
        delivery.next_attempt_at = now + WAIT_RECHECK
        delivery.updated_at = now
        delivery.save(using=using)
        return Outcome(delivery.handler, delivery.status, delivery.last_error)
    try:
        with transaction.atomic(using=using), handling(envelope):
            sub(envelope.event())
    except Exception as exc:
        logger.warning("%s failed again on %s: %s", sub.handler_id, envelope.event_id, exc)
        record_failure(delivery, sub, exc, now=now, using=using, envelope=envelope)
    else:
        delivery.attempts += 1
        delivery.status = Delivery.Status.SUCCEEDED
        delivery.next_attempt_at = None
        delivery.last_error = ""
        delivery.updated_at = now
        delivery.save(using=using)
    return Outcome(delivery.handler, delivery.status, delivery.last_error)


def deliver_missing(message: OutboxMessage, *, using: str = DEFAULT_DB_ALIAS) -> list[Outcome]:
    """Finish an outbox row whose dispatch never completed (a process died after commit).

    Handlers that already have a delivery row are left alone; the others get a first
    attempt; the row is then marked dispatched.
    """
    envelope = envelope_of(message)
    done = set(
        Delivery.objects.using(using)
        .filter(message_id=message.pk)
        .values_list("handler", flat=True)
    )
    pending = [s for s in subscriptions_for(message.name) if s.handler_id not in done]
    outcomes: list[Outcome] = []
    try:
        event = envelope.event()
    except Exception as exc:
        for sub in pending:  # unreadable payload: every handler gets a dead letter
            outcomes.append(
                _record_new_failure(sub, envelope, exc, mark_dispatched=False, using=using)
            )
    else:
        for sub in pending:
            outcomes.append(first_attempt(sub, envelope, event, mark_dispatched=False, using=using))
    store.mark_dispatched(message.pk, using=using)
    return outcomes


def deliver_to(
    message: OutboxMessage, sub: Subscription, *, using: str = DEFAULT_DB_ALIAS, again: bool = False
) -> Outcome:
    """Deliver one stored event to one handler (replay). Idempotent unless ``again``.

    Without ``again`` a handler that already has a delivery row for the event is skipped
    (a failing one is left to its retries). With ``again`` the handler runs even if it
    succeeded before, and the delivery row records the new attempt: for rebuilding a read
    model, with a handler that is idempotent.
    """
    envelope = envelope_of(message)
    with transaction.atomic(using=using):
        existing = (
            Delivery.objects.using(using)
            .select_for_update()
            .filter(message_id=message.pk, handler=sub.handler_id)
            .first()
        )
        if existing is None:
            try:
                event = envelope.event()
            except Exception as exc:
                delivery = new_failed_delivery(sub, envelope, exc, using=using)
                return Outcome(sub.handler_id, delivery.status, delivery.last_error)
            return first_attempt(sub, envelope, event, mark_dispatched=False, using=using)
        if not again:
            return Outcome(sub.handler_id, "skipped")
        existing.message = message
        existing.status = Delivery.Status.FAILED  # run it once more, as a retry would
        return retry_locked(existing, using=using, force=True)


# --- shared ------------------------------------------------------------------------------


def record_failure(
    delivery: Delivery,
    sub: Subscription | None,
    exc: BaseException,
    *,
    now: datetime,
    using: str,
    envelope: Envelope | None = None,
) -> None:
    """Count a failed attempt on ``delivery`` (saved, inserted if new) and keep its error.

    The delivery becomes a dead letter after its last attempt or at once for bad data
    (DoNotRetry, an unknown event, a payload that fails validation); otherwise it is due
    again after the backoff delay.
    """
    error, trace = describe(exc)
    if envelope is not None:
        logger.warning(
            "%s failed on %s %s: %s", delivery.handler, envelope.name, envelope.event_id, error
        )
    delivery.attempts += 1
    delivery.last_error = error
    delivery.last_traceback = trace
    delivery.updated_at = now
    if is_permanent(exc) or delivery.attempts >= max_attempts(sub):
        delivery.status = Delivery.Status.DEAD
        delivery.next_attempt_at = None
    else:
        delivery.status = Delivery.Status.FAILED
        delivery.next_attempt_at = next_attempt_at(now, delivery.attempts)
    delivery.save(using=using, force_insert=delivery.pk is None)
    DeliveryAttempt.objects.using(using).create(
        delivery=delivery, number=delivery.attempts, error=error, traceback=trace, failed_at=now
    )


def describe(exc: BaseException) -> tuple[str, str]:
    error = f"{type(exc).__name__}: {exc}"
    return error[:2000], "".join(traceback.format_exception(exc))


def is_permanent(exc: BaseException) -> bool:
    """Bad data is not retried: DoNotRetry, an unknown event, a payload that fails validation."""
    return isinstance(exc, DoNotRetry | UnknownEventError | ValidationError)

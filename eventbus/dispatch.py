"""Delivering envelopes to handlers: each in its own transaction, tracked per (event, handler).

Guarantees: a handler's effects and its success record commit together, so a redelivered
event is skipped by a handler that applied it; a failing handler is recorded with its error
and retried later with backoff, and never affects the publisher or the other handlers.
"""

import logging
import traceback
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
from eventbus.models import Delivery, OutboxMessage
from eventbus.subscriptions import Subscription, subscription, subscriptions_for

logger = logging.getLogger("eventbus.dispatch")


@dataclass(frozen=True)
class Outcome:
    handler_id: str
    status: str  # a Delivery.Status value, or "skipped" when it had succeeded before
    error: str = ""


def max_attempts(sub: Subscription | None) -> int:
    if sub is not None and sub.max_attempts is not None:
        return sub.max_attempts
    return int(bus_settings.MAX_ATTEMPTS)


def deliver_new(
    envelope: Envelope, event: Event, *, using: str = DEFAULT_DB_ALIAS
) -> list[Outcome]:
    """Deliver a just-committed envelope to each subscriber (no delivery rows exist yet).

    Runs after the publisher's commit. The last handler's transaction also marks the outbox
    row dispatched, so a crash before that leaves the row for `eventbus retry` to finish.
    """
    subs = subscriptions_for(envelope.name)
    outcomes = []
    for index, sub in enumerate(subs):
        last = index == len(subs) - 1
        outcomes.append(_first_attempt(sub, envelope, event, mark_dispatched=last, using=using))
    return outcomes


def _first_attempt(
    sub: Subscription, envelope: Envelope, event: Event, *, mark_dispatched: bool, using: str
) -> Outcome:
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
        return _record_first_failure(
            sub, envelope, exc, mark_dispatched=mark_dispatched, using=using
        )
    except Exception as exc:
        return _record_first_failure(
            sub, envelope, exc, mark_dispatched=mark_dispatched, using=using
        )


def _record_first_failure(
    sub: Subscription, envelope: Envelope, exc: Exception, *, mark_dispatched: bool, using: str
) -> Outcome:
    error, trace = _describe(exc)
    logger.warning(
        "%s failed on %s %s: %s", sub.handler_id, envelope.name, envelope.event_id, error
    )
    now = timezone.now()
    delivery = Delivery(
        message_id=envelope.event_id,
        handler=sub.handler_id,
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    _apply_failure(delivery, sub, error, trace, now=now, permanent=_is_permanent(exc))
    try:
        with transaction.atomic(using=using):
            delivery.save(using=using, force_insert=True)
            if mark_dispatched:
                store.mark_dispatched(envelope.event_id, using=using, at=now)
    except Exception:
        # The database itself is failing; the undispatched outbox row is the record.
        logger.exception("could not record the failure of %s", sub.handler_id)
    return Outcome(sub.handler_id, delivery.status, error)


def redeliver(delivery_id: int, *, using: str = DEFAULT_DB_ALIAS, force: bool = False) -> Outcome:
    """Try a failed (or, with ``force``, dead) delivery again, in one transaction.

    The delivery row is locked for the attempt, so two processes never run it at once; a
    delivery that succeeded meanwhile is skipped. The handler runs in a savepoint: its
    effects roll back on failure while the failure itself is recorded.
    """
    with transaction.atomic(using=using):
        delivery = (
            Delivery.objects.using(using)
            .select_for_update()
            .select_related("message")
            .get(pk=delivery_id)
        )
        retryable = {Delivery.Status.FAILED} | ({Delivery.Status.DEAD} if force else set())
        if delivery.status not in retryable:
            return Outcome(delivery.handler, "skipped")
        sub = subscription(delivery.handler)
        now = timezone.now()
        if sub is None:
            _apply_failure(
                delivery,
                None,
                f"{delivery.handler} is no longer subscribed in this process",
                "",
                now=now,
                permanent=True,
            )
            delivery.save(using=using)
            return Outcome(delivery.handler, delivery.status, delivery.last_error)
        envelope = envelope_of(delivery.message)
        try:
            with transaction.atomic(using=using), handling(envelope):
                sub(envelope.event())
        except Exception as exc:
            error, trace = _describe(exc)
            logger.warning("%s failed again on %s: %s", sub.handler_id, envelope.event_id, error)
            _apply_failure(delivery, sub, error, trace, now=now, permanent=_is_permanent(exc))
        else:
            delivery.attempts += 1
            delivery.status = Delivery.Status.SUCCEEDED
            delivery.next_attempt_at = None
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
                _record_first_failure(sub, envelope, exc, mark_dispatched=False, using=using)
            )
    else:
        for sub in pending:
            outcomes.append(
                _first_attempt(sub, envelope, event, mark_dispatched=False, using=using)
            )
    store.mark_dispatched(message.pk, using=using)
    return outcomes


def envelope_of(message: OutboxMessage) -> Envelope:
    return Envelope(
        event_id=message.id,
        name=message.name,
        version=message.version,
        occurred_at=message.occurred_at,
        producer=message.producer,
        correlation_id=message.correlation_id,
        causation_id=message.causation_id,
        payload=message.payload,
    )


def _apply_failure(
    delivery: Delivery,
    sub: Subscription | None,
    error: str,
    trace: str,
    *,
    now: datetime,
    permanent: bool,
) -> None:
    delivery.attempts += 1
    delivery.last_error = error
    delivery.last_traceback = trace
    delivery.updated_at = now
    if permanent or delivery.attempts >= max_attempts(sub):
        delivery.status = Delivery.Status.DEAD
        delivery.next_attempt_at = None
    else:
        delivery.status = Delivery.Status.FAILED
        delivery.next_attempt_at = next_attempt_at(now, delivery.attempts)


def _describe(exc: BaseException) -> tuple[str, str]:
    error = f"{type(exc).__name__}: {exc}"
    return error[:2000], "".join(traceback.format_exception(exc))


def _is_permanent(exc: BaseException) -> bool:
    """Bad data is not retried: DoNotRetry, an unknown event, a payload that fails validation."""
    return isinstance(exc, DoNotRetry | UnknownEventError | ValidationError)

"""Operator actions on the bus, shared by the admin and the `eventbus` command."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS
from django.db.models import QuerySet
from django.utils import timezone

from eventbus.dispatch import Outcome, deliver_missing, redeliver
from eventbus.models import Delivery, OutboxMessage

# A message still undispatched this long after it occurred lost its inline dispatch
# (the process died between commit and dispatch): `retry` finishes it.
UNDISPATCHED_GRACE = timedelta(seconds=60)


def due_delivery_ids(*, using: str = DEFAULT_DB_ALIAS, limit: int | None = None) -> list[int]:
    """Failed deliveries whose next attempt time has come, oldest first."""
    qs = (
        Delivery.objects.using(using)
        .filter(status=Delivery.Status.FAILED, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)
    )
    return list(qs[:limit] if limit else qs)


def stranded_messages(
    *, using: str = DEFAULT_DB_ALIAS, grace: timedelta = UNDISPATCHED_GRACE
) -> list[OutboxMessage]:
    """Outbox rows whose inline dispatch never finished within the grace period."""
    cutoff = timezone.now() - grace
    return list(
        OutboxMessage.objects.using(using)
        .filter(dispatched_at__isnull=True, occurred_at__lte=cutoff)
        .order_by("occurred_at")
    )


def retry_deliveries(
    ids: Iterable[int], *, using: str = DEFAULT_DB_ALIAS, force: bool = False
) -> list[Outcome]:
    """Run each delivery again (see dispatch.redeliver); ``force`` includes dead letters."""
    return [redeliver(pk, using=using, force=force) for pk in list(ids)]


def retry_due(
    *, using: str = DEFAULT_DB_ALIAS, grace: timedelta = UNDISPATCHED_GRACE
) -> list[Outcome]:
    """Deliver what is due: failed deliveries past their next attempt time, then outbox rows
    stranded without dispatch. Safe to run repeatedly and from cron."""
    outcomes = retry_deliveries(due_delivery_ids(using=using), using=using)
    for message in stranded_messages(using=using, grace=grace):
        outcomes.extend(deliver_missing(message, using=using))
    return outcomes


def discard_dead_letters(ids: Iterable[int], *, using: str = DEFAULT_DB_ALIAS) -> int:
    """Mark dead deliveries discarded: kept for the record, never retried; returns how many.

    Ids that are not dead letters are left alone. Updates 500 ids per statement, each in
    autocommit, so a long list neither holds a long lock nor exceeds a query's parameters.
    """
    pks, now, count = list(ids), timezone.now(), 0
    for start in range(0, len(pks), 500):
        count += (
            Delivery.objects.using(using)
            .filter(pk__in=pks[start : start + 500], status=Delivery.Status.DEAD)
            .update(status=Delivery.Status.DISCARDED, updated_at=now)
        )
    return count


# --- dead letters --------------------------------------------------------------------------


def dead_letters(
    *, handler: str | None = None, event: str | None = None, using: str = DEFAULT_DB_ALIAS
) -> QuerySet[Delivery]:
    """Dead deliveries, oldest first, with their message; ``handler`` matches an exact
    handler id or a prefix of it (``orders.handlers``), ``event`` an exact event name."""
    qs = Delivery.objects.using(using).filter(status=Delivery.Status.DEAD)
    if handler:
        qs = qs.filter(handler__startswith=handler)
    if event:
        qs = qs.filter(message__name=event)
    return qs.select_related("message").order_by("pk")


def not_dead_letters(ids: Iterable[int], *, using: str = DEFAULT_DB_ALIAS) -> list[int]:
    """The ids among ``ids`` that are no dead letter (no such delivery, or not dead), sorted."""
    wanted = set(ids)
    found = set(dead_letters(using=using).filter(pk__in=wanted).values_list("pk", flat=True))
    return sorted(wanted - found)


@dataclass(frozen=True)
class DeadLetterRetry:
    """What retrying one dead letter came to: its delivery id and the attempt's outcome."""

    delivery_id: int
    outcome: Outcome


def retry_dead_letters(
    ids: Iterable[int],
    *,
    using: str = DEFAULT_DB_ALIAS,
    on_progress: Callable[[int], object] | None = None,
) -> list[DeadLetterRetry]:
    """Run each dead letter again now, each in its own transaction (dispatch.redeliver with
    ``force``). One that fails again is recorded as a new attempt and is dead again when
    out of attempts. ``on_progress(1)`` is called after each."""
    results = []
    for pk in list(ids):
        results.append(DeadLetterRetry(pk, redeliver(pk, using=using, force=True)))
        if on_progress is not None:
            on_progress(1)
    return results

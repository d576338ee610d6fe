"""Operator actions on the bus, shared by the admin and the `eventbus` command."""

from collections.abc import Iterable
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS
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
    """Mark dead deliveries discarded: kept for the record, never retried; returns how many."""
    return (
        Delivery.objects.using(using)
        .filter(pk__in=list(ids), status=Delivery.Status.DEAD)
        .update(status=Delivery.Status.DISCARDED, updated_at=timezone.now())
    )

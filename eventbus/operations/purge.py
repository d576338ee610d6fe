"""Outbox retention: delete delivered events older than a cutoff, in short transactions."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from eventbus.conf import bus_settings
from eventbus.models import Delivery, DeliveryAttempt, OutboxMessage

CHUNK_SIZE = 1000
SETTLED = (Delivery.Status.SUCCEEDED, Delivery.Status.DISCARDED)


@dataclass(frozen=True)
class PurgeResult:
    """What a purge removed (or, dry, would remove): messages and, by cascade, their
    deliveries and failed attempts."""

    messages: int
    deliveries: int
    attempts: int
    dry_run: bool


def default_retention() -> timedelta:
    return timedelta(days=bus_settings.RETENTION_DAYS)


def purgeable(*, older_than: timedelta, using: str = DEFAULT_DB_ALIAS) -> QuerySet[OutboxMessage]:
    """Outbox rows dispatched more than ``older_than`` ago whose deliveries are all
    succeeded or discarded (rows without deliveries included). Undispatched rows, rows still
    waiting for the relay to send them to the broker, and rows with a failed, waiting or
    dead delivery never match."""
    unsettled = (
        Delivery.objects.using(using).filter(message=OuterRef("pk")).exclude(status__in=SETTLED)
    )
    return (
        OutboxMessage.objects.using(using)
        .filter(dispatched_at__lt=timezone.now() - older_than)
        .exclude(broker=OutboxMessage.Broker.PENDING)
        .exclude(Exists(unsettled))
    )


def purge(
    *,
    older_than: timedelta | None = None,
    dry_run: bool = False,
    using: str = DEFAULT_DB_ALIAS,
    chunk_size: int = CHUNK_SIZE,
    on_progress: Callable[[int], object] | None = None,
) -> PurgeResult:
    """Delete purgeable outbox rows (see ``purgeable``; ``older_than`` defaults to
    EVENTBUS['RETENTION_DAYS']), with their deliveries and attempts by cascade.

    Works through ``chunk_size`` ids at a time in id order, each chunk in its own
    transaction, so no lock is held for long. Within a chunk the outbox rows and their
    deliveries are locked (PostgreSQL) and the condition checked again before deleting, so
    a delivery that changed or appeared since the ids were read keeps its message.
    ``on_progress(n)`` is called with each chunk's deleted messages. A dry run counts.
    """
    candidates = purgeable(older_than=older_than or default_retention(), using=using)
    if dry_run:
        return PurgeResult(
            messages=candidates.count(),
            deliveries=Delivery.objects.using(using).filter(message__in=candidates).count(),
            attempts=DeliveryAttempt.objects.using(using)
            .filter(delivery__message__in=candidates)
            .count(),
            dry_run=True,
        )
    removed: dict[str, int] = {}
    last = None
    while True:
        page = candidates.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        ids = list(page.values_list("pk", flat=True)[:chunk_size])
        if not ids:
            break
        last = ids[-1]
        deleted = _delete_chunk(candidates, ids, using=using)
        for label, count in deleted.items():
            removed[label] = removed.get(label, 0) + count
        if on_progress is not None:
            on_progress(deleted.get(OutboxMessage._meta.label, 0))
    return PurgeResult(
        messages=removed.get(OutboxMessage._meta.label, 0),
        deliveries=removed.get(Delivery._meta.label, 0),
        attempts=removed.get(DeliveryAttempt._meta.label, 0),
        dry_run=False,
    )


def _delete_chunk(
    candidates: QuerySet[OutboxMessage], ids: list[uuid.UUID], *, using: str
) -> dict[str, int]:
    with transaction.atomic(using=using):
        # Lock the rows (no new delivery can reference a locked message), then re-check.
        list(OutboxMessage.objects.using(using).filter(pk__in=ids).select_for_update().values("pk"))
        list(
            Delivery.objects.using(using)
            .filter(message_id__in=ids)
            .select_for_update()
            .values("pk")
        )
        still = list(candidates.filter(pk__in=ids).values_list("pk", flat=True))
        _, per_model = OutboxMessage.objects.using(using).filter(pk__in=still).delete()
    return per_model

"""Dead letters and forced retries: list them, run them again through the engine, discard them."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS
from django.db.models import QuerySet
from django.utils import timezone

from eventbus.delivery.batch import redeliver
from eventbus.delivery.engine import Outcome
from eventbus.models import Delivery


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
class Retried:
    """What retrying one delivery came to: its id and the attempt's outcome."""

    delivery_id: int
    outcome: Outcome


def retry_deliveries(
    ids: Iterable[int],
    *,
    using: str = DEFAULT_DB_ALIAS,
    on_progress: Callable[[int], object] | None = None,
) -> list[Retried]:
    """Run each delivery again now (failed, waiting, dead or discarded; a success is left
    alone), each in
    its own transaction through the delivery engine. One that fails again is recorded as a
    new attempt, and is dead again when out of attempts. They run in the order their events
    were published, so an ordered handler gets the earlier event first. ``on_progress(1)``
    after each."""
    wanted = list(ids)
    in_order = list(
        Delivery.objects.using(using)
        .filter(pk__in=wanted)
        .order_by("message_id", "pk")
        .values_list("pk", flat=True)
    )
    found = set(in_order)
    missing = [pk for pk in wanted if pk not in found]  # reported as skipped
    results = []
    for pk in in_order + missing:
        results.append(Retried(pk, redeliver(pk, using=using, force=True)))
        if on_progress is not None:
            on_progress(1)
    return results


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

"""Replay: deliver stored events of one name again to one handler, oldest first.

For a new read model (every event it never had, once) or, with ``again``, to rebuild one.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q, QuerySet
from django.utils import timezone

from eventbus.delivery.replay import deliver_to
from eventbus.exceptions import EventBusError
from eventbus.models import Delivery, OutboxMessage
from eventbus.subscriptions import Subscription, subscriptions_for

CHUNK_SIZE = 500


class ReplayError(EventBusError):
    """A replay that cannot start: the handler does not subscribe to the event."""


@dataclass(frozen=True)
class ReplayResult:
    """How many stored events a replay considered and what became of them, by status.

    Statuses are Delivery.Status values, ``skipped`` (the handler already had a delivery
    for the event) or, in a dry run, ``to deliver``.
    """

    event: str
    handler: str
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def replay_subscription(event: str, handler: str) -> Subscription:
    """The subscription of ``handler`` to ``event`` in this process; raises ReplayError
    naming the event's subscribers when there is none."""
    subs = subscriptions_for(event)
    for sub in subs:
        if sub.handler_id == handler:
            return sub
    if not subs:
        raise ReplayError(f"{event} has no subscribers in this process; nothing can replay it.")
    listed = "\n  ".join(s.handler_id for s in subs)
    raise ReplayError(f"{handler} does not subscribe to {event}. Its subscribers are:\n  {listed}")


def replay_window(
    event: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> QuerySet[OutboxMessage]:
    """Stored events named ``event`` that occurred at or after ``since`` and before ``until``."""
    qs = OutboxMessage.objects.using(using).filter(name=event)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    if until is not None:
        qs = qs.filter(occurred_at__lt=until)
    return qs


def replay(
    *,
    event: str,
    handler: str,
    since: datetime | None = None,
    until: datetime | None = None,
    again: bool = False,
    dry_run: bool = False,
    using: str = DEFAULT_DB_ALIAS,
    chunk_size: int = CHUNK_SIZE,
    on_progress: Callable[[int], object] | None = None,
) -> ReplayResult:
    """Deliver the stored events named ``event`` in [since, until) to ``handler``, oldest
    first, through the delivery engine: each delivery in its own transaction, recorded
    like any other (a failure is retried later, or is a dead letter).

    Without ``again`` an event the handler already has a delivery for is skipped; with it
    the handler runs again even where it succeeded. ``until`` defaults to now, so events the
    handler publishes while replaying are not replayed in turn. Reads ``chunk_size`` rows
    at a time by (occurred_at, id), so memory stays flat however many rows match.
    ``on_progress(n)`` is called after each chunk. Raises ReplayError when the handler does
    not subscribe to the event.
    """
    sub = replay_subscription(event, handler)
    window = replay_window(event, since=since, until=until or timezone.now(), using=using)
    counts: Counter[str] = Counter()
    for chunk in _chunks(window, chunk_size):
        delivered = (
            set()
            if again
            else set(
                Delivery.objects.using(using)
                .filter(handler=handler, message_id__in=[m.pk for m in chunk])
                .values_list("message_id", flat=True)
            )
        )
        for message in chunk:
            if message.pk in delivered:
                counts["skipped"] += 1
            elif dry_run:
                counts["to deliver"] += 1
            else:
                counts[deliver_to(message, sub, using=using, again=again).status] += 1
        if on_progress is not None:
            on_progress(len(chunk))
    return ReplayResult(event=event, handler=handler, dry_run=dry_run, counts=dict(counts))


def _chunks(window: QuerySet[OutboxMessage], size: int) -> Iterator[list[OutboxMessage]]:
    """Keyset pagination by (occurred_at, id): no open cursor and no OFFSET."""
    ordered = window.order_by("occurred_at", "id")
    chunk = list(ordered[:size])
    while chunk:
        yield chunk
        last = chunk[-1]
        chunk = list(
            ordered.filter(
                Q(occurred_at__gt=last.occurred_at)
                | Q(occurred_at=last.occurred_at, id__gt=last.id)
            )[:size]
        )

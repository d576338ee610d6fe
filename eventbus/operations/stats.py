"""Bus statistics: the outbox backlog, deliveries per handler and status, the workers, the
broker consumers, and the gauges the metrics collector reads at each scrape."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, Min, Q
from django.utils import timezone

from eventbus.models import DUE, Consumer, Delivery, OutboxMessage, Worker
from eventbus.subscriptions import all_subscriptions


@dataclass(frozen=True)
class HandlerStats:
    """Deliveries of one handler by status; ``oldest_unsettled_at`` is when the oldest
    failed or waiting delivery was first attempted."""

    handler: str
    subscribed: bool
    succeeded: int = 0
    failed: int = 0
    waiting: int = 0
    dead: int = 0
    discarded: int = 0
    oldest_unsettled_at: datetime | None = None


@dataclass(frozen=True)
class WorkerStats:
    name: str
    hostname: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime


@dataclass(frozen=True)
class ConsumerStats:
    name: str
    hostname: str
    pid: int
    queues: list[str]
    started_at: datetime
    heartbeat_at: datetime


@dataclass(frozen=True)
class BusStats:
    """A snapshot taken at ``at``."""

    at: datetime
    backlog: int
    oldest_pending_at: datetime | None
    handlers: list[HandlerStats] = field(default_factory=list)
    workers: list[WorkerStats] = field(default_factory=list)
    consumers: list[ConsumerStats] = field(default_factory=list)

    def since(self, moment: datetime | None) -> timedelta | None:
        return None if moment is None else self.at - moment


def stats(*, using: str = DEFAULT_DB_ALIAS) -> BusStats:
    """Four read-only queries: the undispatched backlog, deliveries grouped by (handler,
    status), the registered workers and the registered consumers. Handlers subscribed in this process
    appear even with no delivery; handlers with deliveries but no subscription are marked
    not subscribed (their failed deliveries cannot succeed here)."""
    now = timezone.now()
    backlog = (
        OutboxMessage.objects.using(using)
        .filter(dispatched_at__isnull=True)
        .aggregate(count=Count("pk"), oldest=Min("occurred_at"))
    )
    grouped = (
        Delivery.objects.using(using)
        .order_by()
        .values("handler", "status")
        .annotate(count=Count("pk"), oldest=Min("created_at"))
    )
    subscribed = {s.handler_id for s in all_subscriptions()}
    counts: dict[str, dict[str, int]] = {h: {} for h in subscribed}
    oldest: dict[str, datetime] = {}
    for row in grouped:
        counts.setdefault(row["handler"], {})[row["status"]] = row["count"]
        if row["status"] in (Delivery.Status.FAILED, Delivery.Status.WAITING):
            previous = oldest.get(row["handler"])
            oldest[row["handler"]] = min(row["oldest"], previous or row["oldest"])
    handlers = [
        HandlerStats(
            handler=h,
            subscribed=h in subscribed,
            oldest_unsettled_at=oldest.get(h),
            **by_status,
        )
        for h, by_status in sorted(counts.items())
    ]
    return BusStats(
        at=now,
        backlog=backlog["count"],
        oldest_pending_at=backlog["oldest"],
        handlers=handlers,
        workers=workers(using=using),
        consumers=consumers(using=using),
    )


def workers(*, using: str = DEFAULT_DB_ALIAS) -> list[WorkerStats]:
    """The registered workers, oldest first: one query."""
    return [
        WorkerStats(w.name, w.hostname, w.pid, w.started_at, w.heartbeat_at)
        for w in Worker.objects.using(using).order_by("started_at")
    ]


def consumers(*, using: str = DEFAULT_DB_ALIAS) -> list[ConsumerStats]:
    """The registered broker consumers, oldest first: one query."""
    return [
        ConsumerStats(c.name, c.hostname, c.pid, list(c.queues), c.started_at, c.heartbeat_at)
        for c in Consumer.objects.using(using).order_by("started_at")
    ]


@dataclass(frozen=True)
class GaugeStats:
    """What the metrics collector reports at each scrape, taken at ``at``: the undispatched
    backlog, rows still to relay, the oldest undispatched row received from the broker (the
    consumer's lag), deliveries due again now, and dead letters per handler."""

    at: datetime
    backlog: int
    oldest_pending_at: datetime | None
    relay_pending: int
    oldest_received_pending_at: datetime | None
    due: int
    dead_letters: dict[str, int] = field(default_factory=dict)


def gauge_stats(*, using: str = DEFAULT_DB_ALIAS) -> GaugeStats:
    """Two aggregate queries, read-only, each over the rows a partial index keeps (the
    undispatched or unrelayed outbox rows; the unsettled deliveries)."""
    now = timezone.now()
    undispatched = Q(dispatched_at__isnull=True)
    unrelayed = Q(broker=OutboxMessage.Broker.PENDING)
    outbox = (
        OutboxMessage.objects.using(using)
        .filter(undispatched | unrelayed)
        .aggregate(
            backlog=Count("pk", filter=undispatched),
            oldest=Min("occurred_at", filter=undispatched),
            relay_pending=Count("pk", filter=unrelayed),
            oldest_received=Min(
                "occurred_at", filter=undispatched & Q(broker=OutboxMessage.Broker.RECEIVED)
            ),
        )
    )
    due = 0
    dead: dict[str, int] = {}
    grouped = (
        Delivery.objects.using(using)
        .exclude(status=Delivery.Status.SUCCEEDED)
        .order_by()
        .values("handler", "status")
        .annotate(
            count=Count("pk"),
            due=Count("pk", filter=Q(status__in=DUE, next_attempt_at__lte=now)),
        )
    )
    for row in grouped:
        due += row["due"]
        if row["status"] == Delivery.Status.DEAD:
            dead[row["handler"]] = row["count"]
    return GaugeStats(
        at=now,
        backlog=outbox["backlog"],
        oldest_pending_at=outbox["oldest"],
        relay_pending=outbox["relay_pending"],
        oldest_received_pending_at=outbox["oldest_received"],
        due=due,
        dead_letters=dead,
    )

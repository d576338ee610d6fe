"""The last hour minute by minute: the outbox backlog, deliveries, and commit-to-handler latency.

Three read-only queries, each a range scan of an index over the window alone, however much
history the tables hold: events published in the window (``eventbus_outbox_occurred``),
events dispatched in it (``eventbus_outbox_dispatched``), and the deliveries of the events
dispatched in it or still undispatched (those rows, then each one's deliveries through the
unique (message, handler) index). Bucketing is Django's ``TruncMinute`` in UTC, so it is the
same SQL shape on SQLite, PostgreSQL and MariaDB, with no time zone tables needed.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    Value,
    When,
)
from django.db.models.functions import TruncMinute

from eventbus.models import Delivery, OutboxMessage

#: Upper bounds (ms) of the latency buckets; one more bucket holds everything slower.
LATENCY_BOUNDS_MS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 60_000)


def latency_label(bucket: int) -> str:
    """ "≤ 50 ms", "≤ 2.5 s", or "> 60 s" for the last bucket."""
    if bucket >= len(LATENCY_BOUNDS_MS):
        return f"> {_duration(LATENCY_BOUNDS_MS[-1])}"
    return f"≤ {_duration(LATENCY_BOUNDS_MS[bucket])}"


def _duration(ms: int) -> str:
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:g} s"


@dataclass(frozen=True)
class Minute:
    """One minute of the window, from ``start``.

    ``backlog``: events published and not yet dispatched at the minute's end (for the current
    minute: now). ``published`` and ``dispatched``: events that occurred, and that were
    dispatched (every subscriber had a delivery record), in the minute. ``deliveries``:
    deliveries to a handler first recorded in the minute, of which ``unsettled`` have not
    succeeded since. ``latency``: those deliveries counted per bucket of LATENCY_BOUNDS_MS
    (one more for slower), by the time from the event's ``occurred_at`` to the delivery's
    first record (its success, first failure, or first wait for an earlier event)."""

    start: datetime
    backlog: int
    published: int
    dispatched: int
    deliveries: int
    unsettled: int
    latency: tuple[int, ...]

    def latency_percentile(self, fraction: float) -> int | None:
        """The bucket (an index of the histogram) that holds that fraction of the minute's
        deliveries, or None when there were none. ``latency_label()`` names it."""
        total = sum(self.latency)
        if not total:
            return None
        wanted, seen = fraction * total, 0
        for bucket, count in enumerate(self.latency):
            seen += count
            if seen >= wanted:
                return bucket
        return len(self.latency) - 1  # unreachable: seen ends at total


@dataclass(frozen=True)
class Timeline:
    """The window ``start``..``end`` (now), one Minute each, oldest first."""

    start: datetime
    end: datetime
    minutes: list[Minute]

    @property
    def quiet(self) -> bool:
        """Nothing published, dispatched or delivered in the window, and no backlog."""
        return not any(
            m.backlog or m.published or m.dispatched or m.deliveries for m in self.minutes
        )

    def latency_overall(self, fraction: float) -> int | None:
        """The percentile bucket over the whole window (None: no delivery)."""
        merged = Minute(self.start, 0, 0, 0, 0, 0, _sum_histograms(self.minutes))
        return merged.latency_percentile(fraction)


def _sum_histograms(minutes: Sequence[Minute]) -> tuple[int, ...]:
    width = len(LATENCY_BOUNDS_MS) + 1
    return tuple(sum(m.latency[i] for m in minutes) for i in range(width))


def timeline(
    *, now: datetime, backlog_now: int, minutes: int = 60, using: str = DEFAULT_DB_ALIAS
) -> Timeline:
    """The last ``minutes`` minutes up to ``now``; the current, partial minute is the last.

    ``backlog_now`` is the undispatched count at ``now`` (``gauge_stats().backlog``); each
    earlier minute's backlog is derived from it, walking back: add the events dispatched
    after the minute's end, take away those published after it. Read-only."""
    end = now.astimezone(UTC)
    first = end.replace(second=0, microsecond=0) - timedelta(minutes=minutes - 1)
    starts = [first + timedelta(minutes=i) for i in range(minutes)]
    published = _per_minute(
        OutboxMessage.objects.using(using).filter(occurred_at__gte=first), "occurred_at"
    )
    dispatched = _per_minute(
        OutboxMessage.objects.using(using).filter(dispatched_at__gte=first), "dispatched_at"
    )
    deliveries = _deliveries(first, using)
    backlogs = _backlogs(starts, backlog_now, published, dispatched)
    width = len(LATENCY_BOUNDS_MS) + 1
    rows = []
    for start, backlog in zip(starts, backlogs, strict=True):
        histogram, unsettled = deliveries.get(start, ([0] * width, 0))
        rows.append(
            Minute(
                start=start,
                backlog=backlog,
                published=published.get(start, 0),
                dispatched=dispatched.get(start, 0),
                deliveries=sum(histogram),
                unsettled=unsettled,
                latency=tuple(histogram),
            )
        )
    return Timeline(start=first, end=end, minutes=rows)


def _minute(value: datetime) -> datetime:
    """A truncated minute as an aware UTC datetime (SQLite's come back naive)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _per_minute(rows: Any, field: str) -> dict[datetime, int]:
    grouped = (
        rows.order_by()
        .annotate(minute=TruncMinute(field, tzinfo=UTC))
        .values("minute")
        .annotate(count=Count("pk"))
        .values_list("minute", "count")
    )
    return {_minute(minute): count for minute, count in grouped}


def _backlogs(
    starts: list[datetime],
    backlog_now: int,
    published: dict[datetime, int],
    dispatched: dict[datetime, int],
) -> list[int]:
    """Backlog at each minute's end, newest first then reversed: backlog(t) = backlog(now) +
    dispatched in (t, now] - published in (t, now]. A minute later than the last start (an
    event whose clock ran ahead) counts in the last minute."""
    last = starts[-1]
    late_published = sum(n for m, n in published.items() if m > last)
    late_dispatched = sum(n for m, n in dispatched.items() if m > last)
    backlog, result = backlog_now, []
    for start in reversed(starts):
        result.append(max(backlog, 0))
        if start == last:
            backlog += late_dispatched - late_published
        backlog += dispatched.get(start, 0) - published.get(start, 0)
    return list(reversed(result))


def _latency_bucket() -> Case:
    """The latency bucket of a delivery row, in SQL (an index of LATENCY_BOUNDS_MS)."""
    return Case(
        *(
            When(latency__lte=timedelta(milliseconds=bound), then=Value(i))
            for i, bound in enumerate(LATENCY_BOUNDS_MS)
        ),
        default=Value(len(LATENCY_BOUNDS_MS)),
        output_field=IntegerField(),
    )


def _deliveries(first: datetime, using: str) -> dict[datetime, tuple[list[int], int]]:
    """Per minute: the latency histogram of the deliveries first recorded in it, and how
    many of them have not succeeded. Events' deliveries only (a task's row is recorded when
    it is enqueued, not when it runs). Deliveries that a replay adds to events dispatched
    before the window are not counted."""
    grouped = (
        Delivery.objects.using(using)
        .filter(
            Q(message__dispatched_at__gte=first) | Q(message__dispatched_at__isnull=True),
            created_at__gte=first,
            queue="",
        )
        .order_by()
        .alias(
            latency=ExpressionWrapper(
                F("created_at") - F("message__occurred_at"), output_field=DurationField()
            )
        )
        .annotate(minute=TruncMinute("created_at", tzinfo=UTC), bucket=_latency_bucket())
        .values("minute", "bucket", "status")
        .annotate(count=Count("pk"))
        .values_list("minute", "bucket", "status", "count")
    )
    return _histograms(grouped)


def _histograms(
    rows: Iterable[tuple[datetime, int, str, int]],
) -> dict[datetime, tuple[list[int], int]]:
    width = len(LATENCY_BOUNDS_MS) + 1
    result: dict[datetime, tuple[list[int], int]] = {}
    for minute, bucket, status, count in rows:
        histogram, unsettled = result.setdefault(_minute(minute), ([0] * width, 0))
        histogram[bucket] += count
        if status != Delivery.Status.SUCCEEDED:
            result[_minute(minute)] = (histogram, unsettled + count)
    return result

"""The last hour minute by minute: the outbox backlog, deliveries, and commit-to-dispatch latency.

Three read-only queries, each a range scan of an index over the window alone, however much
history the tables hold, and none joins: events published in the window
(``eventbus_outbox_occurred``), events dispatched in it with their latency
(``eventbus_outbox_dispatched``), and the deliveries first recorded in it (a range of the
unique (message, handler) index: event ids are uuid7, so the events published since the
oldest one dispatched in the window are a range of ids). Bucketing is Django's
``TruncMinute`` in UTC, so it is the same SQL shape on SQLite, PostgreSQL and MariaDB, with
no time zone tables needed.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import DEFAULT_DB_ALIAS
from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncMinute

from eventbus.ids import uuid7_floor
from eventbus.models import Delivery, OutboxMessage

#: How much earlier than its occurred_at an event's id may have been made (uuid7 takes the
#: clock before the envelope does; a burst borrows milliseconds ahead, never behind).
ID_CLOCK_MARGIN = timedelta(minutes=1)

#: Upper bounds (ms) of the latency buckets; one more bucket holds everything slower.
LATENCY_BOUNDS_MS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 60_000)


def latency_label(bucket: int) -> str:
    """A bucket's name: "≤ 50 ms", "≤ 2.5 s", or "> 60 s" for the last one."""
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
    dispatched, in the minute. ``deliveries``: deliveries to a handler first recorded in the
    minute, of which ``unsettled`` have not succeeded since. ``latency``: the events
    dispatched in the minute that had subscribers, counted per bucket of LATENCY_BOUNDS_MS
    (one more for slower), by the time from the event's ``occurred_at`` (its publisher's
    commit, give or take the transaction) to its dispatch: the moment every subscriber's
    handler had run once (inline: the last handler's outcome; the worker: its batch's)."""

    start: datetime
    backlog: int
    published: int
    dispatched: int
    deliveries: int
    unsettled: int
    latency: tuple[int, ...]

    def latency_percentile(self, fraction: float) -> int | None:
        """The bucket (an index of the histogram) that holds that fraction of the minute's
        dispatched events, or None when there were none. ``latency_label()`` names it."""
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

    @property
    def published(self) -> int:
        return sum(m.published for m in self.minutes)

    @property
    def dispatched(self) -> int:
        return sum(m.dispatched for m in self.minutes)

    @property
    def deliveries(self) -> int:
        return sum(m.deliveries for m in self.minutes)

    @property
    def unsettled(self) -> int:
        return sum(m.unsettled for m in self.minutes)

    def latency_overall(self, fraction: float) -> int | None:
        """The percentile bucket over the whole window (None: nothing dispatched)."""
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
    outbox = OutboxMessage.objects.using(using)
    published = _published(outbox.filter(occurred_at__gte=first))
    dispatched, oldest = _dispatched(outbox.filter(dispatched_at__gte=first))
    deliveries = _deliveries(first, oldest, using) if oldest is not None else {}
    counts = {minute: sum(histogram) + rest for minute, (histogram, rest) in dispatched.items()}
    backlogs = _backlogs(starts, backlog_now, published, counts)
    width = len(LATENCY_BOUNDS_MS) + 1
    rows = []
    for start, backlog in zip(starts, backlogs, strict=True):
        histogram, no_subscriber = dispatched.get(start, ([0] * width, 0))
        delivered, unsettled = deliveries.get(start, (0, 0))
        rows.append(
            Minute(
                start=start,
                backlog=backlog,
                published=published.get(start, 0),
                dispatched=sum(histogram) + no_subscriber,
                deliveries=delivered,
                unsettled=unsettled,
                latency=tuple(histogram),
            )
        )
    return Timeline(start=first, end=end, minutes=rows)


def _minute(value: datetime) -> datetime:
    """A truncated minute as an aware UTC datetime (SQLite's come back naive)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _published(rows: QuerySet[OutboxMessage]) -> dict[datetime, int]:
    """Events counted per minute of their occurred_at."""
    grouped = (
        rows.order_by()
        .annotate(minute=TruncMinute("occurred_at", tzinfo=UTC))
        .values("minute")
        .annotate(count=Count("*"))
        .values_list("minute", "count")
    )
    return {_minute(minute): count for minute, count in grouped}


#: The bucket of an event dispatched as it was written (no subscriber here, or a task).
NO_SUBSCRIBER = -1


def _dispatched(
    rows: QuerySet[OutboxMessage],
) -> tuple[dict[datetime, tuple[list[int], int]], datetime | None]:
    """Per minute of dispatched_at: the latency histogram of the events dispatched, and how
    many were dispatched as they were written (dispatched_at = occurred_at: nobody to deliver
    to); and the oldest occurred_at among them all."""
    latency = ExpressionWrapper(F("dispatched_at") - F("occurred_at"), DurationField())
    grouped = (
        rows.order_by()
        .alias(latency=latency)
        .annotate(
            minute=TruncMinute("dispatched_at", tzinfo=UTC),
            bucket=Case(
                When(dispatched_at=F("occurred_at"), then=Value(NO_SUBSCRIBER)),
                *_latency_buckets(),
                default=Value(len(LATENCY_BOUNDS_MS)),
                output_field=IntegerField(),
            ),
        )
        .values("minute", "bucket")
        .annotate(count=Count("*"), oldest=Min("occurred_at"))
        .values_list("minute", "bucket", "count", "oldest")
    )
    width = len(LATENCY_BOUNDS_MS) + 1
    result: dict[datetime, tuple[list[int], int]] = {}
    oldest: datetime | None = None
    for minute, bucket, count, first_occurred in grouped:
        histogram, no_subscriber = result.setdefault(_minute(minute), ([0] * width, 0))
        if bucket == NO_SUBSCRIBER:
            result[_minute(minute)] = (histogram, no_subscriber + count)
        else:
            histogram[bucket] += count
        oldest = first_occurred if oldest is None else min(oldest, first_occurred)
    return result, oldest


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


def _latency_buckets() -> list[When]:
    """``When``s giving the index of the first LATENCY_BOUNDS_MS bound ``latency`` is within."""
    return [
        When(latency__lte=timedelta(milliseconds=bound), then=Value(i))
        for i, bound in enumerate(LATENCY_BOUNDS_MS)
    ]


def _deliveries(first: datetime, oldest: datetime, using: str) -> dict[datetime, tuple[int, int]]:
    """Per minute: the deliveries first recorded in it, and how many of them have not
    succeeded, among those of the events published since ``oldest`` (the oldest occurred_at
    of the events dispatched in the window). Events' deliveries only (a task's row is
    recorded when it is enqueued, not when it runs); deliveries a replay adds to older
    events are not counted."""
    grouped = (
        Delivery.objects.using(using)
        .filter(
            message_id__gte=uuid7_floor(oldest - ID_CLOCK_MARGIN),
            created_at__gte=first,
            queue="",
        )
        .order_by()
        .annotate(minute=TruncMinute("created_at", tzinfo=UTC))
        .values("minute", "status")
        .annotate(count=Count("*"))
        .values_list("minute", "status", "count")
    )
    result: dict[datetime, tuple[int, int]] = {}
    for minute, status, count in grouped:
        delivered, unsettled = result.get(_minute(minute), (0, 0))
        failed = count if status != Delivery.Status.SUCCEEDED else 0
        result[_minute(minute)] = (delivered + count, unsettled + failed)
    return result

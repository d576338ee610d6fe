"""The operations dashboard's data: one snapshot of the bus, read from its own tables.

``dashboard()`` gathers what the admin page shows: the gauges of ``eventbus stats`` (backlog,
rows to relay, due deliveries, dead letters), the last hour minute by minute (timeline), the
failure groups, the workers and consumers with their heartbeats' age, and the module map of
the events registered in this process. Every query reads an index range (the window, the
backlog, the unsettled deliveries), never the whole history.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS

from eventbus.contracts import catalog
from eventbus.contracts.module_map import ModuleMap, module_map
from eventbus.operations.failure_groups import FailureGroup, failure_groups
from eventbus.operations.stats import GaugeStats, consumers, gauge_stats, workers
from eventbus.operations.timeline import Timeline, timeline
from eventbus.process import PRESUMED_DEAD_AFTER


@dataclass(frozen=True)
class ProcessBeat:
    """A registered worker or consumer: ``age`` is the time since its last heartbeat, and
    ``stale`` says it is older than PRESUMED_DEAD_AFTER (the process is presumed dead; the
    next live process of its kind removes its row)."""

    kind: str
    name: str
    hostname: str
    pid: int
    queues: list[str]
    started_at: datetime
    heartbeat_at: datetime
    age: timedelta
    stale: bool


@dataclass(frozen=True)
class DashboardSnapshot:
    """The dashboard at ``at``."""

    at: datetime
    gauges: GaugeStats
    timeline: Timeline
    failures: list[FailureGroup]
    processes: list[ProcessBeat]
    modules: ModuleMap


def dashboard(*, minutes: int = 60, using: str = DEFAULT_DB_ALIAS) -> DashboardSnapshot:
    """The snapshot, over the last ``minutes`` minutes. Read-only; seven to nine queries: the
    gauges (two), one per process kind, the timeline (two, and the deliveries' when an event
    was dispatched in the window), the failure groups (one, and their samples' if any)."""
    gauges = gauge_stats(using=using)
    now = gauges.at
    beats = [
        _beat("worker", w.name, w.hostname, w.pid, [], w.started_at, w.heartbeat_at, now)
        for w in workers(using=using)
    ] + [
        _beat("consumer", c.name, c.hostname, c.pid, c.queues, c.started_at, c.heartbeat_at, now)
        for c in consumers(using=using)
    ]
    return DashboardSnapshot(
        at=now,
        gauges=gauges,
        timeline=timeline(now=now, backlog_now=gauges.backlog, minutes=minutes, using=using),
        failures=failure_groups(using=using),
        processes=beats,
        modules=module_map(catalog.build()),
    )


def _beat(
    kind: str,
    name: str,
    hostname: str,
    pid: int,
    queues: list[str],
    started_at: datetime,
    heartbeat_at: datetime,
    now: datetime,
) -> ProcessBeat:
    age = max(now - heartbeat_at, timedelta(0))
    return ProcessBeat(
        kind, name, hostname, pid, queues, started_at, heartbeat_at, age, age > PRESUMED_DEAD_AFTER
    )

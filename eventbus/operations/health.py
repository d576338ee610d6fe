"""Readiness: the checks a load balancer needs before sending this process traffic.

Each check returns a ``Check`` (ok, and a sentence saying why); ``readiness()`` runs the
ones that apply to the settings in force. Plain functions, callable from a view, a command
or a metrics collector.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from time import monotonic

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from eventbus.broker.topology import consumed_queues
from eventbus.conf import bus_settings
from eventbus.models import Consumer, Worker
from eventbus.process import PRESUMED_DEAD_AFTER

#: How long the broker check waits for a TCP and AMQP handshake.
BROKER_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


@cache
def _newest_migrations_on_disk() -> frozenset[tuple[str, str]]:
    """The leaf migration of every app, read from disk once per process (what is on disk
    does not change under a running process; what is applied does)."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())


def check_database(*, using: str = DEFAULT_DB_ALIAS) -> Check:
    """The database answers and every migration on disk is applied.

    One query while all is well (the applied set against the leaves read once per process),
    so a probe that anyone can send stays cheap; the full migration plan, which names what
    is missing, is built only when a leaf is unapplied."""
    connection = connections[using]
    try:
        connection.ensure_connection()
        applied = MigrationRecorder(connection).applied_migrations()
        if _newest_migrations_on_disk() <= applied.keys():
            return Check(True, f"database {using!r} reachable, migrations applied")
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return Check(False, f"database {using!r} is unreachable: {exc}".strip())
    if not plan:  # a leaf recorded under another name (a squash): the plan is the judge
        return Check(True, f"database {using!r} reachable, migrations applied")
    names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan)
    return Check(False, f"{len(plan)} migration(s) not applied: {names}; run migrate")


#: How long a broker check's answer is reused, per process and broker URL: an anonymous
#: client sending /readyz in a loop must not open an AMQP connection per request.
BROKER_CHECK_REUSED_FOR_SECONDS = 1.0

_broker_checks: dict[str, tuple[float, Check]] = {}


def check_broker() -> Check:
    """A short-timeout AMQP connection to EVENTBUS['BROKER_URL'] opens. The answer is
    reused for BROKER_CHECK_REUSED_FOR_SECONDS in this process. Raises ImproperlyConfigured
    when kombu (the ``amqp`` extra) is not installed."""
    url = bus_settings.BROKER_URL
    reused = _broker_checks.get(url)
    if reused is not None and monotonic() - reused[0] < BROKER_CHECK_REUSED_FOR_SECONDS:
        return reused[1]
    check = _connect_to_broker(url)
    _broker_checks[url] = (monotonic(), check)
    return check


def _connect_to_broker(url: str) -> Check:
    from eventbus.broker.amqp import connection_error  # here: it needs the `amqp` extra

    error = connection_error(url, timeout=BROKER_TIMEOUT_SECONDS)
    if error is not None:
        return Check(False, f"broker unreachable: {error}")
    return Check(True, "broker reachable")


def check_worker(*, using: str = DEFAULT_DB_ALIAS) -> Check:
    """Some worker's heartbeat is younger than PRESUMED_DEAD_AFTER."""
    try:
        beats = list(Worker.objects.using(using).values_list("name", "heartbeat_at"))
    except DatabaseError as exc:
        return Check(False, f"cannot read worker heartbeats: {exc}")
    return _freshest("worker", beats, "start `manage.py eventbus worker`")


def check_consumer(*, using: str = DEFAULT_DB_ALIAS) -> Check:
    """Every queue this process's subscriptions consume is read by a consumer whose
    heartbeat is younger than PRESUMED_DEAD_AFTER."""
    wanted = set(consumed_queues())
    cutoff = timezone.now() - PRESUMED_DEAD_AFTER
    try:
        rows = list(Consumer.objects.using(using).filter(heartbeat_at__gte=cutoff))
    except DatabaseError as exc:
        return Check(False, f"cannot read consumer heartbeats: {exc}")
    missing = wanted.difference(*(row.queues for row in rows))
    if missing:
        return Check(
            False,
            f"no consumer with a heartbeat in the last {PRESUMED_DEAD_AFTER.seconds} s reads "
            f"{', '.join(sorted(missing))}; start `manage.py eventbus consume`",
        )
    return Check(True, f"{len(rows)} live consumer(s) read {', '.join(sorted(wanted))}")


def _freshest(kind: str, beats: list[tuple[str, datetime]], remedy: str) -> Check:
    if not beats:
        return Check(False, f"no {kind} registered; {remedy}")
    name, last = max(beats, key=lambda beat: beat[1])
    age = (timezone.now() - last).total_seconds()
    if age > PRESUMED_DEAD_AFTER.total_seconds():
        return Check(
            False,
            f"the freshest {kind} heartbeat ({name}) is {age:.0f} s old, over "
            f"{PRESUMED_DEAD_AFTER.seconds} s; {remedy}",
        )
    return Check(True, f"{kind} {name} seen {age:.0f} s ago")


def consumes_from_broker() -> bool:
    """Split mode: the amqp transport, and subscriptions to events this process does not
    produce (they arrive from the broker)."""
    return bus_settings.TRANSPORT == "amqp" and bool(consumed_queues())


def readiness(*, using: str = DEFAULT_DB_ALIAS) -> dict[str, Check]:
    """The checks that apply here, by name: ``database`` always, ``broker`` under the amqp
    transport, ``worker`` in worker delivery, ``consumer`` when consuming from the broker."""
    checks = {"database": check_database(using=using)}
    if bus_settings.TRANSPORT == "amqp":
        checks["broker"] = check_broker()
    if bus_settings.DELIVERY == "worker":
        checks["worker"] = check_worker(using=using)
    if consumes_from_broker():
        checks["consumer"] = check_consumer(using=using)
    return checks

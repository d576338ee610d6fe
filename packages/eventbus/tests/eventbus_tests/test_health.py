"""Readiness checks: each one failing for its own reason, and all passing."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.test import override_settings
from django.utils import timezone

from eventbus.models import Consumer, Worker
from eventbus.operations import health
from eventbus.operations.health import Check, readiness
from eventbus.process import PRESUMED_DEAD_AFTER
from eventbus_tests.rabbitmq import BROKER_URL
from eventbus_tests.sample import ThingHappened

pytestmark = pytest.mark.django_db

CLOSED_PORT_BROKER = "amqp://guest:guest@127.0.0.1:1//"
STALE = PRESUMED_DEAD_AFTER + timedelta(seconds=5)


def worker(*, ago: timedelta) -> None:
    now = timezone.now()
    Worker.objects.create(
        name="w-1", hostname="box", pid=42, started_at=now - ago, heartbeat_at=now - ago
    )


def consumer(queues: list[str], *, ago: timedelta) -> None:
    now = timezone.now()
    Consumer.objects.create(
        name=f"c-{len(queues)}-{ago.seconds}",
        hostname="box",
        pid=43,
        queues=queues,
        started_at=now - ago,
        heartbeat_at=now - ago,
    )


def test_embedded_default_checks_only_the_database():
    assert readiness() == {
        "database": Check(True, "database 'default' reachable, migrations applied")
    }


def test_an_unapplied_migration_fails_the_database_check():
    # The newest one: an older one unrecorded under an applied child is not in the plan.
    [(app, name)] = MigrationLoader(connection).graph.leaf_nodes("eventbus")
    MigrationRecorder(connection).migration_qs.filter(app=app, name=name).delete()

    check = readiness()["database"]

    assert check == Check(False, f"1 migration(s) not applied: eventbus.{name}; run migrate")


def test_an_unreachable_broker_fails_the_broker_check():
    with override_settings(EVENTBUS={"TRANSPORT": "amqp", "BROKER_URL": CLOSED_PORT_BROKER}):
        checks = readiness()

    assert set(checks) == {"database", "broker"}  # the monolith consumes nothing
    assert checks["database"].ok
    assert not checks["broker"].ok
    assert checks["broker"].detail.startswith("broker unreachable: ")


def test_a_reachable_broker_passes(broker):
    checks = readiness()

    assert checks["broker"] == Check(True, "broker reachable")


@pytest.mark.parametrize(
    ("ago", "detail"),
    [
        (None, "no worker registered; start `manage.py eventbus worker`"),
        (
            STALE,
            f"the freshest worker heartbeat (w-1) is {STALE.seconds} s old, over "
            f"{PRESUMED_DEAD_AFTER.seconds} s; start `manage.py eventbus worker`",
        ),
    ],
    ids=["missing", "stale"],
)
def test_worker_delivery_needs_a_fresh_worker_heartbeat(ago, detail):
    if ago is not None:
        worker(ago=ago)

    with override_settings(EVENTBUS={"DELIVERY": "worker"}):
        checks = readiness()

    assert checks["worker"] == Check(False, detail)


def test_worker_delivery_with_a_fresh_worker_passes():
    worker(ago=timedelta(seconds=3))

    with override_settings(EVENTBUS={"DELIVERY": "worker"}):
        checks = readiness()

    assert checks == {
        "database": Check(True, "database 'default' reachable, migrations applied"),
        "worker": Check(True, "worker w-1 seen 3 s ago"),
    }


@pytest.fixture
def consuming(broker, subscribe) -> str:
    """Split mode: this process subscribes to an event no installed module produces."""
    subscribe(ThingHappened, lambda event: None)
    return f"{broker['QUEUE_PREFIX']}eventbus_tests.events"


def test_split_mode_without_a_consumer_fails_the_consumer_check(consuming):
    consumer(["another.queue"], ago=timedelta(seconds=1))  # alive, but not for this queue

    checks = readiness()

    assert checks["broker"].ok
    assert checks["consumer"] == Check(
        False,
        f"no consumer with a heartbeat in the last {PRESUMED_DEAD_AFTER.seconds} s reads "
        f"{consuming}; start `manage.py eventbus consume`",
    )


def test_split_mode_with_a_stale_consumer_fails_the_consumer_check(consuming):
    consumer([consuming], ago=STALE)

    assert not readiness()["consumer"].ok


def test_split_mode_with_a_fresh_consumer_passes(consuming):
    consumer([consuming], ago=timedelta(seconds=2))

    checks = readiness()

    assert {name: check.ok for name, check in checks.items()} == {
        "database": True,
        "broker": True,
        "consumer": True,
    }
    assert checks["consumer"].detail == f"1 live consumer(s) read {consuming}"


def test_a_passing_database_check_builds_no_migration_plan(monkeypatch, django_assert_num_queries):
    """Anyone may send /readyz: while all is well it reads the applied set (the table's
    existence, then its rows) against the leaves read from disk once per process, and
    never loads the migration graph again."""
    readiness()  # reads the migrations on disk, once per process

    def no_plan(*args: object) -> None:
        raise AssertionError("a passing check built a migration plan")

    monkeypatch.setattr(health, "MigrationExecutor", no_plan)
    monkeypatch.setattr(health, "MigrationLoader", no_plan)
    with django_assert_num_queries(2):
        assert readiness()["database"] == Check(
            True, "database 'default' reachable, migrations applied"
        )


def test_the_broker_check_is_reused_for_a_second(monkeypatch, broker):
    """A probe loop opens one AMQP connection a second per process, not one per request."""
    connects: list[str] = []
    real_connect = health._connect_to_broker

    def counting_connect(url: str) -> Check:
        connects.append(url)
        return real_connect(url)

    monkeypatch.setattr(health, "_connect_to_broker", counting_connect)
    monkeypatch.setattr(health, "_broker_checks", {})
    clock = [1000.0]
    monkeypatch.setattr("eventbus.operations.health.monotonic", lambda: clock[0])
    first = [readiness()["broker"] for _ in range(5)]
    clock[0] += health.BROKER_CHECK_REUSED_FOR_SECONDS
    after_a_second = readiness()["broker"]

    assert first == [Check(True, "broker reachable")] * 5
    assert after_a_second == Check(True, "broker reachable")
    assert connects == [BROKER_URL] * 2

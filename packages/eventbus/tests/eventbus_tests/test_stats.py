"""`eventbus stats`: backlog, deliveries per handler by status, workers and consumers, in a
few queries."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from eventbus.models import Consumer, Delivery, OutboxMessage, Worker
from eventbus.operations.stats import stats
from eventbus.tasks import SUPPORTED
from eventbus_tests.sample import ThingHappened

pytestmark = pytest.mark.django_db

HERE = "eventbus_tests.test_stats"


def quiet(event: ThingHappened) -> None:
    pass


def outbox_row(*, ago: timedelta, dispatched: bool) -> OutboxMessage:
    now = timezone.now()
    return OutboxMessage.objects.create(
        name="samples.thing_happened",
        version=1,
        occurred_at=now - ago,
        producer="samples",
        correlation_id="c",
        payload={"thing_id": 1},
        dispatched_at=now if dispatched else None,
    )


def delivery(handler: str, status: str, *, ago: timedelta = timedelta()) -> None:
    now = timezone.now()
    Delivery.objects.create(
        message=outbox_row(ago=ago, dispatched=True),
        handler=handler,
        status=status,
        attempts=1,
        next_attempt_at=now if status in ("failed", "waiting") else None,
        created_at=now - ago,
        updated_at=now,
    )


@pytest.fixture
def busy(subscribe) -> None:
    subscribe(ThingHappened, quiet)  # subscribed, nothing delivered yet
    outbox_row(ago=timedelta(minutes=5), dispatched=False)
    outbox_row(ago=timedelta(minutes=1), dispatched=False)
    for status in ("succeeded", "succeeded", "failed", "dead", "discarded"):
        delivery("old.gone", status)
    delivery("x.reader", "succeeded")
    delivery("x.reader", "failed", ago=timedelta(hours=2))
    delivery("x.reader", "waiting", ago=timedelta(hours=3, minutes=4))
    delivery("x.reader", "waiting", ago=timedelta(minutes=1))
    now = timezone.now()
    Worker.objects.create(
        name="w-1",
        hostname="box",
        pid=42,
        started_at=now - timedelta(days=1),
        heartbeat_at=now - timedelta(seconds=3),
    )
    Consumer.objects.create(
        name="c-1",
        hostname="box",
        pid=43,
        queues=["orders.events"],
        started_at=now - timedelta(hours=1),
        heartbeat_at=now - timedelta(seconds=7),
    )


def run(*args: str) -> str:
    out = StringIO()
    call_command("eventbus", "stats", *args, stdout=out)
    return out.getvalue()


def test_stats_reads_everything_in_four_queries(busy, django_assert_num_queries):
    with django_assert_num_queries(4):
        snapshot = stats()

    assert snapshot.backlog == 2
    mine = {
        h.handler: h for h in snapshot.handlers if not h.handler.startswith(("accounts", "orders"))
    }
    assert {
        h: (s.subscribed, s.succeeded, s.failed, s.waiting, s.dead, s.discarded)
        for h, s in mine.items()
    } == {
        "old.gone": (False, 2, 1, 0, 1, 1),
        "x.reader": (False, 1, 1, 2, 0, 0),
        f"{HERE}.quiet": (True, 0, 0, 0, 0, 0),
        # the Django task runner, subscribed where django.tasks exists (Django 6.0+)
        **({"eventbus.tasks.runner.run_task": (True, 0, 0, 0, 0, 0)} if SUPPORTED else {}),
    }
    reader_oldest = snapshot.since(mine["x.reader"].oldest_unsettled_at)
    assert reader_oldest is not None
    assert timedelta(hours=3, minutes=4) <= reader_oldest < timedelta(hours=3, minutes=5)
    assert mine[f"{HERE}.quiet"].oldest_unsettled_at is None


def test_stats_table(busy):
    lines = run().splitlines()

    assert lines[0] == "Outbox backlog: 2 undispatched, oldest 5m old"
    assert lines[1] == ""
    assert lines[2].split() == [
        "HANDLER", "SUCCEEDED", "FAILED", "WAITING", "DEAD", "DISCARDED", "OLDEST", "FAILING"
    ]  # fmt: skip
    rows = {line.split()[0]: line.split()[1:] for line in lines[3:] if line and " " in line}
    assert rows[f"{HERE}.quiet"] == ["0", "0", "0", "0", "0", "-"]
    assert rows["old.gone"] == ["(not", "subscribed)", "2", "1", "0", "1", "1", "0s"]
    assert rows["x.reader"] == ["(not", "subscribed)", "1", "1", "2", "0", "0", "3h", "04m"]
    assert lines[-5].split() == ["WORKER", "HOST", "PID", "STARTED", "LAST", "HEARTBEAT"]
    assert lines[-4].split()[:3] == ["w-1", "box", "42"]
    assert lines[-4].endswith("  3s ago")
    assert lines[-3] == ""
    assert lines[-2].split() == [
        "CONSUMER",
        "HOST",
        "PID",
        "QUEUES",
        "STARTED",
        "LAST",
        "HEARTBEAT",
    ]
    assert lines[-1].split()[:4] == ["c-1", "box", "43", "orders.events"]
    assert lines[-1].endswith("  7s ago")


def test_stats_with_a_quiet_bus(db):
    lines = run().splitlines()

    assert lines[0] == "Outbox backlog: 0 undispatched"
    assert lines[-3] == "No workers registered."
    assert lines[-1] == "No consumers registered."


def test_stats_as_json(busy):
    data = json.loads(run("--format", "json"))

    assert data["backlog"] == 2
    assert 300 <= data["oldest_pending_seconds"] < 301
    reader = next(h for h in data["handlers"] if h["handler"] == "x.reader")
    assert {
        k: v
        for k, v in reader.items()
        if k not in ("oldest_unsettled_at", "oldest_unsettled_seconds")
    } == {
        "handler": "x.reader",
        "subscribed": False,
        "succeeded": 1,
        "failed": 1,
        "waiting": 2,
        "dead": 0,
        "discarded": 0,
    }
    assert 3 * 3600 + 240 <= reader["oldest_unsettled_seconds"] < 3 * 3600 + 241
    (worker,) = data["workers"]
    assert (worker["name"], worker["hostname"], worker["pid"]) == ("w-1", "box", 42)
    assert 3 <= worker["heartbeat_seconds"] < 4
    (consumer,) = data["consumers"]
    assert {k: v for k, v in consumer.items() if k not in ("started_at", "heartbeat_at")} == {
        "name": "c-1",
        "hostname": "box",
        "pid": 43,
        "queues": ["orders.events"],
        "heartbeat_seconds": consumer["heartbeat_seconds"],
    }
    assert 7 <= consumer["heartbeat_seconds"] < 8

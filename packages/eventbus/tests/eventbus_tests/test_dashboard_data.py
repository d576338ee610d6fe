"""The dashboard's data: the hour minute by minute, failure groups and acting on them,
process heartbeats and the module map, from planted rows with exact times."""

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from eventbus import publish
from eventbus.contracts.catalog import CatalogEntry
from eventbus.contracts.module_map import ModuleLink, module_map
from eventbus.ids import uuid7_floor
from eventbus.models import Consumer, Delivery, DeliveryAttempt, OutboxMessage, Worker
from eventbus.operations import failure_groups as groups
from eventbus.operations.dashboard import dashboard
from eventbus.operations.timeline import LATENCY_BOUNDS_MS, latency_label, timeline
from eventbus_tests.sample import ThingHappened

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 1, 12, 30, 30, tzinfo=UTC)


def at(hh: int, mm: int, ss: int = 0, ms: int = 0) -> datetime:
    return datetime(2026, 1, 1, hh, mm, ss, ms * 1000, tzinfo=UTC)


_serial = itertools.count(1)


def message(occurred: datetime, dispatched: datetime | None) -> OutboxMessage:
    """An outbox row whose id is a uuid7 of its occurred_at, as published ones have."""
    return OutboxMessage.objects.create(
        id=uuid.UUID(int=uuid7_floor(occurred).int | next(_serial)),
        name="samples.thing_happened",
        version=1,
        occurred_at=occurred,
        producer="samples",
        correlation_id="c",
        payload={"thing_id": 1},
        dispatched_at=dispatched,
    )


def delivery(
    msg: OutboxMessage,
    created: datetime,
    *,
    handler: str = "h.a",
    status: str = "succeeded",
    error: str = "",
    queue: str = "",
) -> Delivery:
    due = status in ("failed", "waiting")
    return Delivery.objects.create(
        message=msg,
        handler=handler,
        status=status,
        attempts=1,
        last_error=error,
        next_attempt_at=created + timedelta(seconds=10) if due else None,
        created_at=created,
        updated_at=created,
        queue=queue,
    )


def test_the_hour_counts_planted_rows_per_minute():
    carried = message(at(11, 0), at(11, 45, 10))  # published before the window: "> 60 s"
    delivery(carried, at(11, 45, 9))
    inline = message(at(12, 0, 5), at(12, 0, 5, 4))  # dispatched 4 ms later: "≤ 5 ms"
    delivery(inline, at(12, 0, 5, 4))
    message(at(12, 10), None)  # still undispatched
    split = message(at(12, 20), at(12, 20, 1))  # a second: "≤ 1 s"
    delivery(split, at(12, 20, 0, 40), handler="h.b")
    delivery(split, at(12, 20, 0, 300), status="failed", error="RuntimeError: x")
    old = message(at(10, 0), at(10, 0, 0, 5))
    delivery(old, at(10, 0))  # before the window
    delivery(old, at(12, 25), handler="h.replayed")  # a replay of an event older than all
    task = message(at(12, 5), at(12, 5))  # dispatched as written: no latency
    delivery(task, at(12, 5), status="waiting", queue="default")  # a task: not a delivery here

    hour = timeline(now=NOW, backlog_now=1)

    assert [m.start for m in hour.minutes] == [at(11, 31) + timedelta(minutes=i) for i in range(60)]
    by_minute = {m.start.strftime("%H:%M"): m for m in hour.minutes}
    backlog = [m.backlog for m in hour.minutes]
    assert backlog == [1] * 14 + [0] * 25 + [1] * 21  # 11:31-11:44, 11:45-12:09, 12:10-12:30
    published = {k: m.published for k, m in by_minute.items() if m.published}
    dispatched = {k: m.dispatched for k, m in by_minute.items() if m.dispatched}
    assert published == {"12:00": 1, "12:05": 1, "12:10": 1, "12:20": 1}
    assert dispatched == {"11:45": 1, "12:00": 1, "12:05": 1, "12:20": 1}
    delivered = {k: (m.deliveries, m.unsettled) for k, m in by_minute.items() if m.deliveries}
    assert delivered == {"11:45": (1, 0), "12:00": (1, 0), "12:20": (2, 1)}
    latency = {
        k: (m.latency_percentile(0.5), m.latency_percentile(0.95))
        for k, m in by_minute.items()
        if m.dispatched
    }
    assert latency == {"11:45": (14, 14), "12:00": (2, 2), "12:05": (None, None), "12:20": (9, 9)}
    assert (hour.latency_overall(0.5), hour.latency_overall(0.95)) == (9, 14)
    assert (hour.published, hour.dispatched, hour.deliveries, hour.unsettled) == (4, 4, 4, 1)
    assert not hour.quiet


def test_a_backlog_never_reads_below_zero_and_a_late_clock_counts_in_the_last_minute():
    message(at(12, 31, 10), None)  # occurred after "now": another host's clock ran ahead

    hour = timeline(now=NOW, backlog_now=1)

    assert hour.minutes[-1].published == 0
    assert [m.backlog for m in hour.minutes] == [0] * 59 + [1]


def test_an_empty_hour_is_quiet():
    hour = timeline(now=NOW, backlog_now=0)

    assert hour.quiet
    assert len(hour.minutes) == 60
    assert {
        (m.backlog, m.published, m.deliveries, m.latency_percentile(0.5)) for m in hour.minutes
    } == {(0, 0, 0, None)}


def test_latency_labels():
    assert latency_label(0) == "≤ 1 ms"
    assert latency_label(9) == "≤ 1 s"
    assert latency_label(10) == "≤ 2.5 s"
    assert latency_label(len(LATENCY_BOUNDS_MS)) == "> 60 s"


def plant_failures() -> dict[str, Delivery]:
    t = timezone.now() - timedelta(minutes=5)
    rows = {
        "a_rt_1": ("h.a", "failed", "RuntimeError: down\nmore", 0),
        "a_rt_2": ("h.a", "failed", "RuntimeError: still down", 1),
        "a_key": ("h.a", "dead", "KeyError: 'k'", 2),
        "b_rt": ("h.b", "dead", "RuntimeError: y", 3),
        "b_untyped": ("h.b", "dead", "no colon here", 4),
        "a_ok": ("h.a", "succeeded", "RuntimeError: once", 5),
        "a_discarded": ("h.a", "discarded", "RuntimeError: old", 6),
    }
    planted = {}
    for key, (handler, status, error, offset) in rows.items():
        msg = message(t, t)
        planted[key] = delivery(
            msg, t + timedelta(seconds=offset), handler=handler, status=status, error=error
        )
    return planted


def test_failures_group_by_handler_exception_type_and_status():
    planted = plant_failures()

    found = groups.failure_groups()

    assert [(g.handler, g.error_type, g.status, g.count) for g in found] == [
        ("h.b", groups.UNTYPED, "dead", 1),
        ("h.b", "RuntimeError", "dead", 1),
        ("h.a", "KeyError", "dead", 1),
        ("h.a", "RuntimeError", "failed", 2),
    ]
    runtime = found[-1]
    newest = planted["a_rt_2"]
    assert (runtime.sample_id, runtime.newest_at) == (newest.pk, newest.updated_at)
    assert (runtime.sample_event, runtime.sample_event_id) == (
        "samples.thing_happened",
        newest.message_id,
    )
    assert runtime.sample_error == "RuntimeError: still down"


def test_a_group_s_ids_are_its_own_oldest_first_and_capped():
    planted = plant_failures()

    ids = groups.failure_group_ids(handler="h.a", error_type="RuntimeError", status="failed")
    capped = groups.failure_group_ids(
        handler="h.a", error_type="RuntimeError", status="failed", limit=1
    )

    assert ids == [planted["a_rt_1"].pk, planted["a_rt_2"].pk]
    assert capped == [planted["a_rt_1"].pk]
    assert (
        groups.failure_group_ids(handler="h.a", error_type="RuntimeError", status="succeeded") == []
    )
    assert groups.failure_group_ids(handler="h.a", error_type="Nope", status="failed") == []


def test_discarding_a_group_discards_only_its_dead_letters():
    planted = plant_failures()

    assert groups.failure_group_discard(handler="h.a", error_type="RuntimeError") == 0
    assert groups.failure_group_discard(handler="h.b", error_type="RuntimeError") == 1

    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses[planted["b_rt"].pk] == "discarded"
    assert statuses[planted["a_rt_1"].pk] == statuses[planted["a_rt_2"].pk] == "failed"
    assert statuses[planted["b_untyped"].pk] == statuses[planted["a_key"].pk] == "dead"


@pytest.mark.django_db(transaction=True)  # inline delivery runs after the commit
@override_settings(EVENTBUS={"MAX_ATTEMPTS": 1, "RETRY_JITTER": 0})
def test_retrying_a_group_runs_it_through_the_engine(subscribe):
    fail = {"now": True}

    def fragile(event: ThingHappened) -> None:
        if fail["now"]:
            raise RuntimeError("downstream is down")

    handler = f"{fragile.__module__}.{fragile.__qualname__}"
    subscribe(ThingHappened, fragile)
    for thing_id in (1, 2):
        with transaction.atomic():
            publish(ThingHappened(thing_id=thing_id))
    assert list(Delivery.objects.values_list("status", flat=True)) == ["dead", "dead"]
    fail["now"] = False

    retried = groups.failure_group_retry(handler=handler, error_type="RuntimeError", status="dead")

    assert [r.outcome.status for r in retried] == ["succeeded", "succeeded"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert DeliveryAttempt.objects.count() == 2  # the first failures, on record


def test_the_snapshot_marks_stale_processes_and_empty_states():
    now = timezone.now()
    Worker.objects.create(
        name="w-fresh", hostname="h", pid=1, started_at=now, heartbeat_at=now - timedelta(seconds=5)
    )
    Consumer.objects.create(
        name="c-stale",
        hostname="h",
        pid=2,
        started_at=now - timedelta(minutes=5),
        heartbeat_at=now - timedelta(seconds=90),
        queues=["shop.orders"],
    )

    snapshot = dashboard()

    assert [(p.kind, p.name, p.queues, p.stale) for p in snapshot.processes] == [
        ("worker", "w-fresh", [], False),
        ("consumer", "c-stale", ["shop.orders"], True),
    ]
    assert snapshot.processes[1].age >= timedelta(seconds=90)
    assert snapshot.timeline.quiet
    assert snapshot.failures == []
    assert snapshot.gauges.backlog == 0


def entry(name: str, subscribers: list[str], version: int = 1) -> CatalogEntry:
    return CatalogEntry(
        name=name,
        version=version,
        producer=name.split(".")[0],
        event_class="x",
        subscribers=subscribers,
    )


def test_the_module_map_folds_the_catalogue_into_links():
    found = module_map(
        [
            entry("accounts.user_registered", ["orders.handlers.add_customer"]),
            entry("accounts.user_registered", ["orders.handlers.add_customer_v2"], version=2),
            entry("accounts.user_deactivated", ["orders.handlers.block", "accounts.handlers.log"]),
            entry("orders.order_placed", ["accounts.handlers.count"]),
            entry("orders.order_status_changed", []),
        ]
    )

    assert found.modules == ["accounts", "orders"]
    assert found.links == [
        ModuleLink("accounts", "accounts", ["accounts.user_deactivated"]),
        ModuleLink("accounts", "orders", ["accounts.user_deactivated", "accounts.user_registered"]),
        ModuleLink("orders", "accounts", ["orders.order_placed"]),
    ]
    assert found.unsubscribed == [ModuleLink("orders", "", ["orders.order_status_changed"])]

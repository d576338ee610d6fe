"""Worker mode: nothing is dispatched in the request; the worker delivers in batches."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from eventbus import DoNotRetry, publish
from eventbus.delivery.worker import Worker
from eventbus.models import Delivery, OutboxMessage
from eventbus.models import Worker as WorkerRow
from eventbus_tests.sample import OrderedThingHappened, ThingHappened

# Out of the redelivery drill: these tests count the worker's calls to probe handlers, in claim
# order, to prove batching; the drill multiplies and reorders them by design.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.eventbus_redeliver(False)]

WORKER_MODE = {"DELIVERY": "worker", "MAX_ATTEMPTS": 3, "RETRY_BASE_SECONDS": 10, "RETRY_JITTER": 0}


def publish_things(*ids: int, event=ThingHappened) -> None:
    for thing_id in ids:
        with transaction.atomic():
            publish(event(thing_id=thing_id))


def drain() -> str:
    """Deliver what is due with one worker; return its name."""
    worker = Worker(once=True, batch_size=10)
    worker.run()
    return worker.name


def make_all_due() -> None:
    Delivery.objects.filter(next_attempt_at__isnull=False).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


@override_settings(EVENTBUS=WORKER_MODE)
def test_worker_mode_dispatches_nothing_in_the_request(subscribe):
    calls = []
    subscribe(ThingHappened, lambda event: calls.append(event.thing_id))

    publish_things(1, 2)

    assert calls == []
    assert OutboxMessage.objects.filter(dispatched_at__isnull=True).count() == 2


@override_settings(EVENTBUS=WORKER_MODE)
def test_worker_once_delivers_everything_in_order_and_exits(subscribe, capsys):
    calls = []
    subscribe(ThingHappened, lambda event: calls.append(event.thing_id))
    publish_things(*range(1, 26))

    call_command("eventbus", "worker", "--once", "--batch-size", "10")

    assert calls == list(range(1, 26))
    assert Delivery.objects.filter(status="succeeded").count() == 25
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()
    assert (
        "Delivered 25 messages (25 deliveries) and 0 retries in 3 batches."
        in capsys.readouterr().out
    )
    assert not WorkerRow.objects.exists()  # unregistered on exit


@override_settings(EVENTBUS=WORKER_MODE)
def test_a_failing_handler_in_a_batch_does_not_undo_the_others(subscribe):
    healthy_calls = []
    healthy_effects = []

    def broken(event: ThingHappened) -> None:
        if event.thing_id == 2:
            raise ValueError("thing 2 is cursed")

    def healthy(event: ThingHappened) -> None:
        healthy_calls.append(event.thing_id)
        transaction.on_commit(lambda: healthy_effects.append(event.thing_id))

    subscribe(ThingHappened, broken)
    subscribe(ThingHappened, healthy)
    publish_things(1, 2, 3)

    worker_name = drain()

    failed = Delivery.objects.get(status="failed")
    assert failed.handler.endswith("broken")
    assert failed.message.payload == {"thing_id": 2, "label": ""}
    assert failed.attempts == 1
    assert list(failed.failures.values_list("number", "error", "worker")) == [
        (1, "ValueError: thing 2 is cursed", worker_name)  # the worker that made the attempt
    ]
    assert Delivery.objects.filter(status="succeeded").count() == 5
    # The optimistic pass ran the healthy handler on thing 1 before thing 2 failed; that
    # pass was rolled back and the batch delivered carefully, one call per event: the
    # effect stands once per event, in order.
    assert healthy_calls == [1, 1, 2, 3]
    assert healthy_effects == [1, 2, 3]


@override_settings(EVENTBUS=WORKER_MODE)
def test_handler_failing_twice_then_succeeding_through_the_worker(subscribe):
    attempts = []

    def flaky(event: ThingHappened) -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError(f"attempt {len(attempts)}")

    subscribe(ThingHappened, flaky)
    publish_things(1)
    drain()
    make_all_due()
    drain()
    make_all_due()
    drain()

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("succeeded", 3, None)
    assert list(delivery.failures.values_list("error", flat=True)) == [
        "ConnectionError: attempt 1",
        "ConnectionError: attempt 2",
    ]


@override_settings(EVENTBUS=WORKER_MODE)
def test_always_failing_and_do_not_retry_end_as_dead_letters(subscribe):
    def always(event: ThingHappened) -> None:
        raise RuntimeError("always")

    def rejects(event: ThingHappened) -> None:
        raise DoNotRetry("thing is malformed")

    subscribe(ThingHappened, always)
    subscribe(ThingHappened, rejects)
    publish_things(1)
    drain()
    for _ in range(3):
        make_all_due()
        drain()

    always_delivery = Delivery.objects.get(handler__endswith="always")
    rejects_delivery = Delivery.objects.get(handler__endswith="rejects")
    assert (always_delivery.status, always_delivery.attempts) == ("dead", 3)
    assert always_delivery.failures.count() == 3
    assert (rejects_delivery.status, rejects_delivery.attempts) == ("dead", 1)
    assert rejects_delivery.last_error == "DoNotRetry: thing is malformed"


@override_settings(EVENTBUS=WORKER_MODE)
def test_ordered_handler_waits_for_the_earlier_event_of_its_aggregate(subscribe):
    seen = []
    fail_first = {"on": True}

    def ordered(event: OrderedThingHappened) -> None:
        if event.step == 1 and fail_first["on"]:
            raise ConnectionError("step 1 not yet")
        seen.append((event.thing_id, event.step))

    subscribe(OrderedThingHappened, ordered, ordered=True)
    with transaction.atomic():
        publish(OrderedThingHappened(thing_id=7, step=1))
        publish(OrderedThingHappened(thing_id=7, step=2))
        publish(OrderedThingHappened(thing_id=8, step=1))  # another aggregate: not held up

    with override_settings(EVENTBUS={**WORKER_MODE, "MAX_ATTEMPTS": 5}):
        drain()

    first, second, other = Delivery.objects.order_by("message_id")
    assert (first.status, second.status, other.status) == ("failed", "waiting", "failed")
    assert second.last_error == f"waits for earlier event {first.message_id} of aggregate '7'"
    assert second.attempts == 0

    fail_first["on"] = False
    make_all_due()
    drain()
    make_all_due()
    drain()

    # Each event handled once; in order within an aggregate, in any order across them.
    assert sorted(seen) == [(7, 1), (7, 2), (8, 1)]
    assert [step for thing, step in seen if thing == 7] == [1, 2]
    assert list(Delivery.objects.values_list("status", flat=True)) == ["succeeded"] * 3


@override_settings(EVENTBUS={"DELIVERY": "inline"})
def test_in_inline_mode_the_worker_takes_only_stranded_rows(subscribe):
    calls = []
    subscribe(ThingHappened, lambda event: calls.append(event.thing_id))
    with transaction.atomic():
        publish(ThingHappened(thing_id=1))
        transaction.get_connection().run_on_commit = []  # the process dies before dispatch

    Worker(once=True, grace=timedelta(seconds=60)).run()
    assert calls == []

    OutboxMessage.objects.update(occurred_at=timezone.now() - timedelta(minutes=2))
    Worker(once=True, grace=timedelta(seconds=60)).run()

    assert calls == [1]
    assert Delivery.objects.get().status == "succeeded"


def test_on_sqlite_a_second_worker_is_refused(settings):
    if transaction.get_connection().vendor != "sqlite":
        pytest.skip("the single-worker rule is SQLite's; PostgreSQL runs many")
    WorkerRow.objects.create(
        name="other:1:abc",
        hostname="other",
        pid=1,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )

    with pytest.raises(CommandError, match="On SQLite one worker is enough"):
        call_command("eventbus", "worker", "--once")


def test_a_dead_workers_registration_does_not_block_a_new_one():
    long_ago = timezone.now() - timedelta(minutes=5)
    WorkerRow.objects.create(
        name="gone:1:abc", hostname="gone", pid=1, started_at=long_ago, heartbeat_at=long_ago
    )

    Worker(once=True).run()

    assert not WorkerRow.objects.exists()


@override_settings(EVENTBUS=WORKER_MODE)
def test_worker_runs_only_the_handlers_a_dead_process_had_not_delivered(subscribe):
    first_calls, second_calls = [], []

    def first(event: ThingHappened) -> None:
        first_calls.append(event.thing_id)

    def second(event: ThingHappened) -> None:
        second_calls.append(event.thing_id)

    subscribe(ThingHappened, first)
    subscribe(ThingHappened, second)
    publish_things(1, 2)
    # An inline dispatch of thing 1 died after its first handler had succeeded.
    message = OutboxMessage.objects.get(payload__thing_id=1)
    Delivery.objects.create(
        message=message,
        handler=f"{first.__module__}.{first.__qualname__}",
        status="succeeded",
        attempts=1,
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )

    drain()

    assert (first_calls, second_calls) == ([2], [1, 2])
    assert Delivery.objects.filter(status="succeeded").count() == 4
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()


def _counting_ticks_and_stopping_on_wait(worker: Worker) -> list[int]:
    """Record what each tick did; stand in a NOTIFY listener whose first wait stops it."""
    ticks: list[int] = []
    real_tick = worker.tick

    def tick() -> int:
        ticks.append(real_tick())
        return ticks[-1]

    @contextmanager
    def listener():
        worker._notified = True
        yield lambda seconds: worker.stop()

    worker.tick = tick  # type: ignore[method-assign]
    worker._listener = listener  # type: ignore[method-assign]
    return ticks


@override_settings(EVENTBUS=WORKER_MODE)
def test_a_notified_worker_waits_after_a_short_batch_instead_of_claiming_again(subscribe):
    subscribe(ThingHappened, lambda event: None)
    publish_things(1, 2, 3)
    worker = Worker(batch_size=10)
    ticks = _counting_ticks_and_stopping_on_wait(worker)

    worker.run()

    assert ticks == [3]  # took all there was, then waited for the next NOTIFY


@override_settings(EVENTBUS=WORKER_MODE)
def test_a_notified_worker_claims_again_after_a_full_batch(subscribe):
    subscribe(ThingHappened, lambda event: None)
    publish_things(1, 2, 3)
    worker = Worker(batch_size=2)
    ticks = _counting_ticks_and_stopping_on_wait(worker)

    worker.run()

    assert ticks == [2, 1]
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()


def test_a_heartbeat_row_pruned_while_the_database_was_away_is_made_again(monkeypatch):
    import os

    from eventbus import process

    with process.heartbeat_row(WorkerRow, using="default", name="w-1") as heartbeat:
        # given another process started meanwhile and pruned this row as presumed dead
        WorkerRow.objects.all().delete()
        monkeypatch.setattr(process, "HEARTBEAT_EVERY", timedelta(0))

        # when this process beats again
        heartbeat.beat()

        # then its row is back, fresh, so that stats and readiness see it
        row = WorkerRow.objects.get()
        assert (row.name, row.pid) == ("w-1", os.getpid())
        assert timezone.now() - row.heartbeat_at < timedelta(seconds=5)
    assert WorkerRow.objects.count() == 0


def test_the_process_name_is_the_registered_one_while_registered():
    import os
    import socket

    from eventbus import process

    unregistered = f"{socket.gethostname()}:{os.getpid()}"
    assert process.process_name() == unregistered
    with process.heartbeat_row(WorkerRow, using="default", name="w-2"):
        assert process.process_name() == "w-2"
    assert process.process_name() == unregistered


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's in-memory test database ignores close(): no connection to lose",
)
@override_settings(EVENTBUS=WORKER_MODE)
def test_a_lost_connection_is_not_a_handlers_failure(subscribe):
    from django.db import OperationalError

    from eventbus.delivery.batch import deliver_outbox_batch

    calls = []

    def loses_the_connection(event: ThingHappened) -> None:
        calls.append(event.thing_id)
        connection.close()  # as a server restart leaves it
        raise OperationalError("server closed the connection unexpectedly")

    subscribe(ThingHappened, loses_the_connection)
    publish_things(1)

    # when a batch meets it, the error goes to the caller (the worker pauses on it)
    with pytest.raises(OperationalError):
        deliver_outbox_batch(using="default", batch_size=10)

    # and nothing was recorded against the handler: the event is simply still due
    assert calls == [1]
    assert Delivery.objects.count() == 0
    assert OutboxMessage.objects.get().dispatched_at is None

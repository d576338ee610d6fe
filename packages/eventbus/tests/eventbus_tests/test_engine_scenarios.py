"""The delivery engine's scenarios, run through every entry point that delivers.

Each entry point delivers in its own way (inline after commit, the worker, `eventbus retry`,
replay, dead-letter retry, the admin's action, the broker consumer), but all of them go
through the one engine, so each scenario must leave exactly the same rows whichever path
ran it: the delivery (status, attempts), its failed attempts, and the outbox row's
dispatched mark. Runs on SQLite in `make test` and on PostgreSQL in `make test-postgres`.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from eventbus import DoNotRetry, publish
from eventbus.broker.amqp import Received
from eventbus.broker.inbox import receive
from eventbus.broker.wire import encode
from eventbus.delivery.worker import Worker
from eventbus.envelope import Envelope
from eventbus.ids import uuid7
from eventbus.models import Delivery, DeliveryAttempt, OutboxMessage
from eventbus.operations.dead_letters import retry_deliveries
from eventbus.storage import base as storage_base
from eventbus_tests import planted
from eventbus_tests.sample import OrderedThingHappened, OtherThingHappened, ThingHappened

# Out of the redelivery drill: each scenario counts the engine's calls to a probe handler and its
# attempts exactly, path by path; the drill multiplies the calls by design.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.eventbus_redeliver(False)]

HANDLER_MODULE = __name__


class Crash(BaseException):
    """The process dies: not an Exception, so nothing in the bus records it."""


def publish_undelivered(event: Any) -> Envelope:
    """Commit an event whose inline dispatch never runs (its process died after commit)."""
    with transaction.atomic():
        envelope = publish(event)
        transaction.get_connection().run_on_commit = []
    return envelope


def make_all_due() -> None:
    """Every failed or waiting delivery is due now, failed ones before waiting ones."""
    past = timezone.now() - timedelta(seconds=10)
    Delivery.objects.filter(status=Delivery.Status.FAILED).update(next_attempt_at=past)
    Delivery.objects.filter(status=Delivery.Status.WAITING).update(
        next_attempt_at=past + timedelta(seconds=1)
    )


# --- entry points: how each one makes a first attempt, and how it tries again ---------


def first_inline(event: Any) -> None:
    with transaction.atomic():
        publish(event)


def first_worker(event: Any) -> None:
    with override_settings(EVENTBUS={**_bus(), "DELIVERY": "worker"}):
        with transaction.atomic():
            publish(event)
        Worker(once=True, poll=0.01).run()


def retry_command() -> None:
    """`eventbus retry --grace 0`; it exits non-zero when a delivery became a dead letter."""
    try:
        call_command("eventbus", "retry", "--grace", "0")
    except CommandError as exc:
        assert "dead letters" in str(exc)


def first_retry(event: Any) -> None:
    publish_undelivered(event)
    retry_command()


def first_replay(event: Any) -> None:
    envelope = publish_undelivered(event)
    for handler in _handlers_of(envelope.name):
        try:
            call_command("eventbus", "replay", "--event", envelope.name, "--handler", handler)
        except CommandError as exc:  # it exits non-zero when a delivery became a dead letter
            assert "dead letters" in str(exc)
    OutboxMessage.objects.filter(pk=envelope.event_id).update(dispatched_at=timezone.now())


# The message each event object was sent as, by id(event); the object is kept beside it, so
# its id is not reused by a later object while the test runs. Emptied after each test.
_sent: dict[int, tuple[Any, Envelope]] = {}


@pytest.fixture(autouse=True)
def forget_sent_messages() -> Iterator[None]:
    yield
    _sent.clear()


def first_consumer(event: Any) -> None:
    # The event arrives from another service through the broker: stored and delivered here.
    # The same event object arrives as the same message (a redelivery).
    _, envelope = _sent.setdefault(
        id(event),
        (
            event,
            Envelope(
                uuid7(),
                event.event_name,
                event.event_version,
                timezone.now(),
                "samples",
                "corr",
                None,
                event.payload(),
                event.aggregate_id(),
            ),
        ),
    )
    wire = encode(envelope)
    received = Received("samples.events", 1, wire.message_id, wire.body, wire.headers)
    assert receive([received]).rejected == []


def again_worker() -> None:
    Worker(once=True, poll=0.01).run()


def again_retry() -> None:
    retry_command()


def again_dead_letter_retry() -> None:
    # What `eventbus dead-letters retry` runs, on every delivery that has not succeeded.
    unsettled = Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED).order_by(
        "next_attempt_at", "pk"
    )
    retry_deliveries(unsettled.values_list("pk", flat=True))


def again_admin(client: Any) -> Callable[[], None]:
    def again() -> None:
        pks = list(
            Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)
        )
        response = client.post(
            "/admin/eventbus/delivery/",
            {"action": "retry_now", "_selected_action": pks},
        )
        assert response.status_code == 302

    return again


@dataclass(frozen=True)
class EntryPoint:
    first: Callable[[Any], None]
    again: Callable[[], None] | str  # "admin": made per test (needs a logged-in client)
    # After a crash, what delivers the event again: `eventbus retry` finds the outbox row;
    # a message from the broker was not acked, so the broker sends it again.
    redelivered_by_broker: bool = False


ENTRY_POINTS = {
    "inline": EntryPoint(first_inline, again_retry),
    "worker": EntryPoint(first_worker, again_worker),
    "retry": EntryPoint(first_retry, again_retry),
    "replay": EntryPoint(first_replay, again_retry),
    "dead-letters retry": EntryPoint(first_inline, again_dead_letter_retry),
    "admin": EntryPoint(first_inline, "admin"),
    "consumer": EntryPoint(first_consumer, again_worker, redelivered_by_broker=True),
}


@pytest.fixture(params=list(ENTRY_POINTS))
def entry(request: Any, client: Any) -> EntryPoint:
    point = ENTRY_POINTS[request.param]
    if point.again == "admin":
        staff = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-ops-2026")
        client.force_login(staff)
        return EntryPoint(point.first, again_admin(client), point.redelivered_by_broker)
    return point


def _bus() -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.EVENTBUS)


def _handlers_of(name: str) -> list[str]:
    from eventbus.subscriptions import subscriptions_for

    return [s.handler_id for s in subscriptions_for(name)]


def again(entry: EntryPoint) -> None:
    assert callable(entry.again)
    make_all_due()
    entry.again()


def rows() -> list[tuple[str, str, int, list[int]]]:
    """(event name, status, attempts, [failed attempt numbers]) of every delivery, oldest first."""
    return [
        (
            d.message.name,
            d.status,
            d.attempts,
            list(DeliveryAttempt.objects.filter(delivery=d).values_list("number", flat=True)),
        )
        for d in Delivery.objects.select_related("message").order_by("message_id", "handler")
    ]


def undispatched() -> list[str]:
    return list(
        OutboxMessage.objects.filter(dispatched_at__isnull=True).values_list("name", flat=True)
    )


# --- the scenarios ----------------------------------------------------------------------


def test_success(entry: EntryPoint, subscribe: Any) -> None:
    calls: list[int] = []
    subscribe(ThingHappened, lambda event: calls.append(event.thing_id))

    entry.first(ThingHappened(thing_id=1))

    assert calls == [1]
    assert rows() == [("samples.thing_happened", "succeeded", 1, [])]
    assert undispatched() == []


def test_failure_then_retry_then_success(entry: EntryPoint, subscribe: Any) -> None:
    calls: list[int] = []

    def flaky(event: ThingHappened) -> None:
        calls.append(event.thing_id)
        if len(calls) == 1:
            raise ConnectionError("the mail server is away")

    subscribe(ThingHappened, flaky)
    entry.first(ThingHappened(thing_id=2))
    assert rows() == [("samples.thing_happened", "failed", 1, [1])]

    again(entry)

    assert calls == [2, 2]
    assert rows() == [("samples.thing_happened", "succeeded", 2, [1])]
    assert Delivery.objects.get().last_error == ""
    assert undispatched() == []


def test_do_not_retry_ends_in_a_dead_letter(entry: EntryPoint, subscribe: Any) -> None:
    def refuses(event: ThingHappened) -> None:
        raise DoNotRetry(f"thing {event.thing_id} does not exist here")

    subscribe(ThingHappened, refuses)

    entry.first(ThingHappened(thing_id=3))

    assert rows() == [("samples.thing_happened", "dead", 1, [1])]
    delivery = Delivery.objects.get()
    assert (delivery.last_error, delivery.next_attempt_at) == (
        "DoNotRetry: thing 3 does not exist here",
        None,
    )
    assert undispatched() == []


def test_the_last_attempt_ends_in_a_dead_letter(entry: EntryPoint, subscribe: Any) -> None:
    def always_fails(event: ThingHappened) -> None:
        raise ConnectionError("down")

    subscribe(ThingHappened, always_fails, max_attempts=2)
    entry.first(ThingHappened(thing_id=4))

    again(entry)

    assert rows() == [("samples.thing_happened", "dead", 2, [1, 2])]
    assert Delivery.objects.get().next_attempt_at is None


def test_an_ordered_wait_is_released_when_the_blocker_succeeds(
    entry: EntryPoint, subscribe: Any
) -> None:
    applied: list[int] = []
    failing = {1}

    def apply_in_order(event: OrderedThingHappened) -> None:
        if event.step in failing:
            raise ConnectionError("not yet")
        applied.append(event.step)

    subscribe(OrderedThingHappened, apply_in_order, ordered=True)
    entry.first(OrderedThingHappened(thing_id=7, step=1))
    entry.first(OrderedThingHappened(thing_id=7, step=2))
    assert [r[1:] for r in rows()] == [("failed", 1, [1]), ("waiting", 0, [])]

    failing.clear()
    again(entry)  # the blocker succeeds, then the waiting delivery behind it

    assert applied == [1, 2]
    assert [r[1:] for r in rows()] == [("succeeded", 2, [1]), ("succeeded", 1, [])]
    assert undispatched() == []


def test_a_due_waiting_delivery_is_delivered_once_its_blocker_has_succeeded(
    entry: EntryPoint, subscribe: Any
) -> None:
    applied: list[int] = []

    def apply_in_order(event: OrderedThingHappened) -> None:
        applied.append(event.step)

    subscribe(OrderedThingHappened, apply_in_order, ordered=True)
    entry.first(OrderedThingHappened(thing_id=8, step=1))
    entry.first(OrderedThingHappened(thing_id=8, step=2))
    # Given the second delivery waits for the first, which has succeeded meanwhile
    second = Delivery.objects.order_by("message_id").last()
    assert second is not None
    Delivery.objects.filter(pk=second.pk).update(
        status=Delivery.Status.WAITING,
        attempts=0,
        last_error="waits",
        next_attempt_at=timezone.now(),
    )
    applied.clear()

    again(entry)

    assert applied == [2]
    assert [r[1:] for r in rows()] == [("succeeded", 1, []), ("succeeded", 1, [])]


def test_a_duplicate_is_skipped(entry: EntryPoint, subscribe: Any) -> None:
    calls: list[int] = []
    subscribe(ThingHappened, lambda event: calls.append(event.thing_id))
    entry.first(ThingHappened(thing_id=5))
    message = OutboxMessage.objects.get()

    # The same event again: its outbox row looks undispatched (a crash before the mark)
    OutboxMessage.objects.filter(pk=message.pk).update(
        dispatched_at=None, occurred_at=timezone.now() - timedelta(hours=1)
    )
    call_command("eventbus", "retry", "--grace", "0")
    Worker(once=True, poll=0.01).run()

    assert calls == [5]
    assert rows() == [("samples.thing_happened", "succeeded", 1, [])]
    assert undispatched() == []


def test_a_crash_after_the_handlers_effects_but_before_commit_leaves_nothing(
    entry: EntryPoint, subscribe: Any, monkeypatch: Any
) -> None:
    def reacts(event: ThingHappened) -> None:  # its effect: a row of its own (an event)
        publish(OtherThingHappened(thing_id=event.thing_id))

    subscribe(ThingHappened, reacts)
    record = storage_base.Store.record_succeeded

    def crash(*args: Any, **kwargs: Any) -> None:
        raise Crash()

    for cls in _store_classes():
        monkeypatch.setattr(cls, "record_succeeded", crash)
    event = ThingHappened(thing_id=6)
    with pytest.raises(Crash):
        entry.first(event)

    # Nothing of the handler's transaction stands: no effect, no delivery, no attempt.
    assert OutboxMessage.objects.filter(name="samples.other_thing_happened").count() == 0
    assert rows() == []
    monkeypatch.undo()
    assert storage_base.Store.record_succeeded is record

    # And the event is still there to deliver, once.
    if entry.redelivered_by_broker:
        entry.first(event)
    else:
        call_command("eventbus", "retry", "--grace", "0")
    assert OutboxMessage.objects.filter(name="samples.other_thing_happened").count() == 1
    assert rows() == [("samples.thing_happened", "succeeded", 1, [])]
    assert undispatched() == []


# --- under the redelivery drill (eventbus.delivery.redelivery), through every entry point ----


@pytest.fixture
def planted_effects() -> Iterator[None]:
    with planted.effects_table():
        yield


@pytest.mark.eventbus_redeliver
def test_the_drill_applies_a_handler_twice_and_the_bus_records_one_delivery(
    entry: EntryPoint, subscribe: Any, planted_effects: None
) -> None:
    calls: list[int] = []

    def counts(event: ThingHappened) -> None:
        calls.append(event.thing_id)
        planted.count_with_no_dedup_key(event)

    subscribe(ThingHappened, counts)

    entry.first(ThingHappened(thing_id=1))

    # Crashed once after its effects (rolled back), then delivered twice (both stand).
    assert calls == [1, 1, 1]
    assert planted.effects() == 2
    # The bus saw one delivery: one success, one attempt, no failure recorded.
    assert rows() == [("samples.thing_happened", "succeeded", 1, [])]
    assert undispatched() == []


@pytest.mark.eventbus_redeliver
def test_under_the_drill_an_idempotent_handler_applies_once(
    entry: EntryPoint, subscribe: Any, planted_effects: None
) -> None:
    subscribe(ThingHappened, planted.count_once_per_event)

    entry.first(ThingHappened(thing_id=1))

    assert planted.effects() == 1
    assert rows() == [("samples.thing_happened", "succeeded", 1, [])]


@pytest.mark.eventbus_redeliver
def test_under_the_drill_a_failure_is_recorded_once(entry: EntryPoint, subscribe: Any) -> None:
    calls: list[int] = []

    def fails(event: ThingHappened) -> None:
        calls.append(event.thing_id)
        raise ConnectionError("the mail server is away")

    subscribe(ThingHappened, fails)

    entry.first(ThingHappened(thing_id=3))

    assert calls == [3]  # the failing run is the crash run: it fails, and is recorded
    assert rows() == [("samples.thing_happened", "failed", 1, [1])]


def _store_classes() -> list[type]:
    from eventbus.storage.mariadb import MariaDBStore
    from eventbus.storage.portable import PortableStore
    from eventbus.storage.postgresql import PostgresStore

    return [PortableStore, PostgresStore, MariaDBStore]

"""`eventbus replay`: stored events to one handler, once or again, in a window, oldest first."""

import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from eventbus import DoNotRetry, publish
from eventbus.models import Delivery, OutboxMessage
from eventbus.operations.replay import ReplayError, replay
from eventbus_tests.sample import OtherThingHappened, ThingHappened

# Out of the redelivery drill: these tests count a probe's calls to prove replay delivers each
# stored event once, oldest first; the drill multiplies them by design.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.eventbus_redeliver(False)]

HERE = "eventbus_tests.test_replay"
THING = "samples.thing_happened"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
seen: list[int] = []


def reader(event: ThingHappened) -> None:
    seen.append(event.thing_id)


def picky(event: ThingHappened) -> None:
    if event.thing_id == 2:
        raise DoNotRetry("two is bad")


def other_reader(event: OtherThingHappened) -> None:
    pass


@pytest.fixture(autouse=True)
def fresh() -> None:
    seen.clear()


def stored(*thing_ids: int, start: datetime = T0) -> list[OutboxMessage]:
    """Publish ThingHappened events (before any reader subscribes), an hour apart from
    ``start`` in the order given."""
    messages = []
    for hour, thing_id in enumerate(thing_ids):
        with transaction.atomic():
            envelope = publish(ThingHappened(thing_id=thing_id))
        OutboxMessage.objects.filter(pk=envelope.event_id).update(
            occurred_at=start + timedelta(hours=hour)
        )
        messages.append(OutboxMessage.objects.get(pk=envelope.event_id))
    return messages


def run(*args: str) -> str:
    out = StringIO()
    call_command("eventbus", "replay", *args, stdout=out)
    return out.getvalue()


def test_a_new_handler_gets_every_stored_event_once_oldest_first(subscribe):
    stored(1, 2, 3)
    OutboxMessage.objects.filter(payload__thing_id=1).update(occurred_at=T0 + timedelta(days=1))
    subscribe(ThingHappened, reader)

    first = run("--event", THING, "--handler", f"{HERE}.reader")
    second = run("--event", THING, "--handler", f"{HERE}.reader")

    assert first == f"Replayed 3 {THING} events to {HERE}.reader: 3 succeeded.\n"
    assert second == f"Replayed 3 {THING} events to {HERE}.reader: 3 skipped.\n"
    assert seen == [2, 3, 1]
    assert (
        list(Delivery.objects.values_list("handler", "status", "attempts"))
        == [(f"{HERE}.reader", "succeeded", 1)] * 3
    )


def test_again_runs_even_events_the_handler_already_had(subscribe):
    stored(1, 2)
    subscribe(ThingHappened, reader)
    run("--event", THING, "--handler", f"{HERE}.reader")

    out = run("--event", THING, "--handler", f"{HERE}.reader", "--again")

    assert out == f"Replayed 2 {THING} events to {HERE}.reader: 2 succeeded.\n"
    assert seen == [1, 2, 1, 2]
    assert sorted(Delivery.objects.values_list("status", "attempts")) == [
        ("succeeded", 2),
        ("succeeded", 2),
    ]


def test_the_window_includes_since_and_excludes_until_naive_meaning_utc(subscribe):
    stored(1, 2, 3, 4)  # at 12:00, 13:00, 14:00, 15:00 UTC
    subscribe(ThingHappened, reader)

    out = run(
        "--event", THING, "--handler", f"{HERE}.reader",
        "--since", "2026-03-01T13:00", "--until", "2026-03-01T16:00+01:00",
    )  # fmt: skip

    assert out == f"Replayed 2 {THING} events to {HERE}.reader: 2 succeeded.\n"
    assert seen == [2, 3]
    assert Delivery.objects.count() == 2


def test_dates_mean_their_midnight(subscribe):
    stored(1, start=T0 - timedelta(days=1))
    stored(2)
    stored(3, start=T0 + timedelta(days=1))
    subscribe(ThingHappened, reader)

    run(
        "--event",
        THING,
        "--handler",
        f"{HERE}.reader",
        "--since",
        "2026-03-01",
        "--until",
        "2026-03-02",
    )

    assert seen == [2]


def test_dry_run_counts_and_delivers_nothing(subscribe):
    stored(1, 2, 3)
    subscribe(ThingHappened, reader)
    run("--event", THING, "--handler", f"{HERE}.reader", "--until", "2026-03-01T13:30")
    seen.clear()

    out = run("--event", THING, "--handler", f"{HERE}.reader", "--dry-run")
    again = run("--event", THING, "--handler", f"{HERE}.reader", "--dry-run", "--again")

    assert out == f"Would replay 3 {THING} events to {HERE}.reader: 2 skipped, 1 to deliver.\n"
    assert again == f"Would replay 3 {THING} events to {HERE}.reader: 3 to deliver.\n"
    assert seen == []
    assert Delivery.objects.count() == 2


def test_failures_are_recorded_and_dead_letters_fail_the_command(subscribe):
    stored(1, 2, 3)
    subscribe(ThingHappened, picky)
    out = StringIO()

    with pytest.raises(CommandError) as raised:
        call_command(
            "eventbus", "replay", "--event", THING, "--handler", f"{HERE}.picky", stdout=out
        )

    assert out.getvalue() == f"Replayed 3 {THING} events to {HERE}.picky: 1 dead, 2 succeeded.\n"
    assert str(raised.value) == (
        f"1 ended as dead letters; see `eventbus dead-letters list --handler {HERE}.picky`."
    )
    dead = Delivery.objects.get(status="dead")
    assert (dead.message.payload["thing_id"], dead.last_error) == (2, "DoNotRetry: two is bad")


def test_an_unsubscribed_handler_is_refused_with_the_subscribers_listed(subscribe):
    stored(1)
    subscribe(ThingHappened, reader)
    subscribe(ThingHappened, picky)

    with pytest.raises(CommandError) as raised:
        run("--event", THING, "--handler", f"{HERE}.other_reader")

    assert str(raised.value) == (
        f"{HERE}.other_reader does not subscribe to {THING}. Its subscribers are:\n"
        f"  {HERE}.reader\n  {HERE}.picky"
    )
    assert Delivery.objects.count() == 0 and seen == []


def test_an_event_without_subscribers_is_refused(db):
    with pytest.raises(CommandError, match=f"^{THING} has no subscribers in this process"):
        run("--event", THING, "--handler", f"{HERE}.reader")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--since", "yesterday", "argument --since: 'yesterday' is not an ISO 8601 date"),
        ("--until", "2026-13-01", "argument --until: '2026-13-01' is not an ISO 8601 date"),
    ],
)
def test_bad_datetimes_are_refused(subscribe, option, value, message):
    stored(1)
    subscribe(ThingHappened, reader)

    with pytest.raises(CommandError, match=message):
        run("--event", THING, "--handler", f"{HERE}.reader", option, value)

    assert Delivery.objects.count() == 0


def test_since_must_come_before_until(subscribe):
    subscribe(ThingHappened, reader)

    with pytest.raises(CommandError, match="--since must be before --until"):
        run(
            "--event",
            THING,
            "--handler",
            f"{HERE}.reader",
            "--since",
            "2026-03-02",
            "--until",
            "2026-03-01",
        )


def test_event_and_handler_are_required(db):
    with pytest.raises(CommandError, match="the following arguments are required: --handler"):
        run("--event", THING)


def test_reads_in_chunks_and_reports_progress_per_chunk(subscribe):
    stored(1, 2, 3, 4, 5)
    OutboxMessage.objects.filter(payload__thing_id__in=[2, 3]).update(occurred_at=T0)  # ties
    subscribe(ThingHappened, reader)
    progress: list[int] = []

    result = replay(
        event=THING, handler=f"{HERE}.reader", chunk_size=2, on_progress=progress.append
    )

    assert result.counts == {"succeeded": 5}
    assert progress == [2, 2, 1]
    assert sorted(seen) == [1, 2, 3, 4, 5] and seen[-2:] == [4, 5]


def test_events_the_handler_publishes_while_replaying_are_not_replayed(subscribe):
    stored(1)

    def echo(event: ThingHappened) -> None:
        seen.append(event.thing_id)
        if event.thing_id < 100:
            with transaction.atomic():
                publish(ThingHappened(thing_id=event.thing_id + 100))

    subscribe(ThingHappened, echo)

    result = replay(event=THING, handler=f"{HERE}.{echo.__qualname__}")

    assert result.counts == {"succeeded": 1}
    assert seen == [1, 101]  # 101 was delivered when published, not by the replay


def test_the_function_raises_replay_error_for_a_stranger(subscribe):
    subscribe(ThingHappened, reader)
    with pytest.raises(ReplayError, match="nobody does not subscribe"):
        replay(event=THING, handler="nobody")


def record_elsewhere(event_id: uuid.UUID, handler: str) -> None:
    """Another process's delivery of the same pair, committed on a connection of its own."""
    from django.utils import timezone

    try:
        Delivery.objects.create(
            message_id=event_id,
            handler=handler,
            status=Delivery.Status.SUCCEEDED,
            attempts=1,
            created_at=timezone.now(),
            updated_at=timezone.now(),
        )
    finally:
        connection.close()


def racer(event: ThingHappened) -> None:
    """Has an effect, while another process delivers the same event to it and records first."""
    import threading

    from eventbus import current_envelope

    publish(OtherThingHappened(thing_id=event.thing_id))
    envelope = current_envelope()
    assert envelope is not None
    other = threading.Thread(target=record_elsewhere, args=(envelope.event_id, f"{HERE}.racer"))
    other.start()
    other.join()


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite serializes writers: no other process can record while replay's transaction is open",
)
def test_a_delivery_recorded_first_by_another_process_stands_and_replay_skips(subscribe):
    # given a stored event, and a handler that another process delivers at the same moment
    (message,) = stored(7)
    subscribe(ThingHappened, racer)

    # when it is replayed and the other process records its delivery first
    out = run("--event", THING, "--handler", f"{HERE}.racer")

    # then the replay skips it instead of failing, its own effect rolled back
    assert out == f"Replayed 1 {THING} events to {HERE}.racer: 1 skipped.\n"
    assert not OutboxMessage.objects.filter(name="samples.other_thing_happened").exists()
    # and the other process's delivery is the one recorded
    assert list(Delivery.objects.values_list("message_id", "handler", "status", "attempts")) == [
        (message.pk, f"{HERE}.racer", "succeeded", 1)
    ]

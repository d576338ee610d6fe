"""Inline delivery after commit: tracked per (event, handler), isolated, retried, dead-lettered."""

import os
import socket
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from eventbus import DoNotRetry, current_envelope, publish
from eventbus.delivery.batch import redeliver
from eventbus.delivery.due import deliver_due
from eventbus.models import Delivery, OutboxMessage
from eventbus_tests.sample import OtherThingHappened, ThingHappened

# Out of the redelivery drill: these tests prove the engine calls a probe handler exactly once per
# delivery (or retry) by counting its calls; the drill multiplies the calls by design.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.eventbus_redeliver(False)]


def publish_thing(thing_id: int = 1) -> OutboxMessage:
    with transaction.atomic():
        envelope = publish(ThingHappened(thing_id=thing_id))
    return OutboxMessage.objects.get(pk=envelope.event_id)


def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_handler_runs_once_after_commit_and_success_is_recorded(subscribe):
    received = []

    def on_thing(event: ThingHappened) -> None:
        received.append((event, transaction.get_connection().in_atomic_block))

    subscribe(ThingHappened, on_thing)

    message = publish_thing(5)

    assert received == [(ThingHappened(thing_id=5), True)]
    delivery = Delivery.objects.get()
    assert delivery.message_id == message.id
    assert (
        delivery.handler
        == "eventbus_tests.test_delivery.test_handler_runs_once_after_commit_and_success_is_recorded.<locals>.on_thing"
    )
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert delivery.attempts == 1
    assert delivery.next_attempt_at is None
    assert message.dispatched_at is not None


def test_handler_is_not_called_before_commit(subscribe):
    received = []
    subscribe(ThingHappened, lambda event: received.append(event))

    with transaction.atomic():
        publish(ThingHappened(thing_id=1))
        assert received == []

    assert len(received) == 1


def test_failing_handler_is_recorded_and_does_not_stop_the_others(subscribe):
    received = []

    def broken(event: ThingHappened) -> None:
        raise ValueError("cannot handle thing")

    def healthy(event: ThingHappened) -> None:
        received.append(event.thing_id)

    subscribe(ThingHappened, broken)
    subscribe(ThingHappened, healthy)
    before = timezone.now()

    message = publish_thing(3)  # does not raise

    assert received == [3]
    failed = Delivery.objects.get(handler__endswith="broken")
    assert failed.status == Delivery.Status.FAILED
    assert failed.attempts == 1
    assert failed.last_error == "ValueError: cannot handle thing"
    assert "raise ValueError" in failed.last_traceback
    # RETRY_BASE_SECONDS is 10 and jitter 0 in these tests.
    assert failed.next_attempt_at is not None
    assert (
        before + timedelta(seconds=10)
        <= failed.next_attempt_at
        <= timezone.now() + timedelta(seconds=10)
    )
    assert Delivery.objects.get(handler__endswith="healthy").status == Delivery.Status.SUCCEEDED
    message.refresh_from_db()
    assert message.dispatched_at is not None
    # the failed attempt names the process that made it: this one, delivering inline
    (attempt,) = failed.failures.all()
    assert (attempt.number, attempt.worker) == (1, f"{socket.gethostname()}:{os.getpid()}")


def test_failing_handler_effects_roll_back(subscribe):
    def writes_then_fails(event: ThingHappened) -> None:
        with transaction.atomic():
            publish(OtherThingHappened(thing_id=event.thing_id))
        raise RuntimeError("after writing")

    subscribe(ThingHappened, writes_then_fails)

    publish_thing(1)

    assert list(OutboxMessage.objects.values_list("name", flat=True)) == ["samples.thing_happened"]


def test_handler_that_fails_twice_then_succeeds_ends_succeeded(subscribe):
    attempts = []

    def flaky(event: ThingHappened) -> None:
        attempts.append(event.thing_id)
        if len(attempts) < 3:
            raise ConnectionError(f"attempt {len(attempts)} failed")

    subscribe(ThingHappened, flaky)
    publish_thing(1)
    delivery = Delivery.objects.get()

    make_due(delivery)
    assert [o.status for o in deliver_due().outcomes] == ["failed"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "failed",
        2,
        "ConnectionError: attempt 2 failed",
    )
    assert deliver_due().outcomes == []  # not due yet: backoff doubled to 20 s

    make_due(delivery)
    assert [o.status for o in deliver_due().outcomes] == ["succeeded"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("succeeded", 3, None)
    assert attempts == [1, 1, 1]


def test_backoff_doubles_with_each_attempt(subscribe):
    def broken(event: ThingHappened) -> None:
        raise RuntimeError("no")

    subscribe(ThingHappened, broken, max_attempts=5)
    publish_thing(1)
    delivery = Delivery.objects.get()
    delays = []
    for _ in range(3):
        make_due(delivery)
        start = timezone.now()
        deliver_due()
        delivery.refresh_from_db()
        assert delivery.next_attempt_at is not None
        delays.append(round((delivery.next_attempt_at - start).total_seconds()))

    assert delays == [20, 40, 80]


def test_handler_that_always_fails_becomes_a_dead_letter(subscribe):
    def broken(event: ThingHappened) -> None:
        raise RuntimeError("always")

    subscribe(ThingHappened, broken)
    publish_thing(1)
    delivery = Delivery.objects.get()
    for _ in range(2):  # MAX_ATTEMPTS is 3 in these tests
        make_due(delivery)
        deliver_due()
        delivery.refresh_from_db()

    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("dead", 3, None)
    assert deliver_due().outcomes == []


def test_do_not_retry_goes_straight_to_the_dead_letters(subscribe):
    def rejects(event: ThingHappened) -> None:
        raise DoNotRetry("thing 1 does not exist here")

    subscribe(ThingHappened, rejects)
    publish_thing(1)

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "dead",
        1,
        "DoNotRetry: thing 1 does not exist here",
    )


def test_succeeded_delivery_is_not_applied_again(subscribe):
    calls = []
    subscribe(ThingHappened, lambda event: calls.append(event.thing_id))
    message = publish_thing(9)
    delivery = Delivery.objects.get()

    redeliver(delivery.pk, force=True)
    OutboxMessage.objects.filter(pk=message.pk).update(dispatched_at=None)
    deliver_due(grace=timedelta(0))

    assert calls == [9]
    assert Delivery.objects.count() == 1


def test_events_published_by_a_handler_carry_correlation_and_causation(subscribe):
    seen = []

    def reacts(event: ThingHappened) -> None:
        seen.append(current_envelope())
        publish(OtherThingHappened(thing_id=event.thing_id))

    subscribe(ThingHappened, reacts)
    message = publish_thing(4)

    child = OutboxMessage.objects.get(name="samples.other_thing_happened")
    assert child.causation_id == message.id
    assert child.correlation_id == message.correlation_id
    assert seen[0] is not None
    assert seen[0].event_id == message.id


def test_retry_finishes_a_dispatch_that_a_crash_interrupted(subscribe):
    calls = []
    subscribe(ThingHappened, lambda event: calls.append(event.thing_id))
    # Given a committed outbox row whose process died before dispatch
    with transaction.atomic():
        publish(ThingHappened(thing_id=1))
        transaction.set_rollback(False)
        connection = transaction.get_connection()
        connection.run_on_commit = []  # the process "dies": the after-commit dispatch never runs
    message = OutboxMessage.objects.get()
    assert message.dispatched_at is None and calls == []

    # Within the grace period it is left alone (inline dispatch may still be running).
    assert deliver_due().outcomes == []
    OutboxMessage.objects.update(occurred_at=timezone.now() - timedelta(minutes=2))

    outcomes = deliver_due().outcomes

    assert [o.status for o in outcomes] == ["succeeded"]
    assert calls == [1]
    message.refresh_from_db()
    assert message.dispatched_at is not None


def test_retry_command_reports_and_fails_on_new_dead_letters(subscribe, capsys):
    def broken(event: ThingHappened) -> None:
        raise RuntimeError("nope")

    subscribe(ThingHappened, broken, max_attempts=2)
    publish_thing(1)
    make_due(Delivery.objects.get())

    with pytest.raises(CommandError, match="dead letters"):
        call_command("eventbus", "retry")

    out = capsys.readouterr().out
    assert "dead       eventbus_tests.test_delivery" in out
    assert "(RuntimeError: nope)" in out
    assert "Retried 1 deliveries: 1 dead." in out


def test_retry_command_with_nothing_due(capsys):
    call_command("eventbus", "retry")
    assert capsys.readouterr().out == "Nothing is due.\n"

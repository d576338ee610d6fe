"""Versions and upcasters: old stored payloads reach handlers as the newest version."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.checks import run_checks
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from pydantic import ValidationError

from eventbus import (
    Envelope,
    Event,
    EventDefinitionError,
    UnknownEventError,
    UpcastError,
    publish,
    upcaster,
)
from eventbus.delivery.due import deliver_due
from eventbus.models import Delivery, OutboxMessage
from eventbus.storage import envelope_of
from eventbus.subscriptions import unsubscribe
from eventbus.testing import isolated_event_registry
from eventbus_tests.sample import ThingHappened, thing_happened_envelope

NAME = "samples.thing_happened"


def define_v2() -> Any:
    """v2 renames ``label`` to ``title`` and adds a required ``size``."""

    class ThingHappenedV2(Event):
        event_name = NAME
        event_version = 2

        thing_id: int
        title: str
        size: int

    return ThingHappenedV2


def register_v1_to_v2() -> None:
    @upcaster(NAME, from_version=1)
    def thing_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
        return {"thing_id": payload["thing_id"], "title": payload["label"], "size": 0}


def test_two_classes_with_one_name_and_version_fail_when_defined():
    with isolated_event_registry(), pytest.raises(EventDefinitionError) as raised:

        class Clash(Event):
            event_name = NAME
            event_version = 1

            thing_id: int

    assert str(raised.value) == (
        "Event 'samples.thing_happened' version 1 is defined twice: by "
        "eventbus_tests.sample.ThingHappened and by eventbus_tests.test_upcasting."
        "test_two_classes_with_one_name_and_version_fail_when_defined.<locals>.Clash. "
        "Bump the version of the new one."
    )


# Out of the redelivery drill: the probe records each call: this asserts the engine hands it one upcast event.
@pytest.mark.eventbus_redeliver(False)
@pytest.mark.django_db(transaction=True)
def test_a_v1_row_stored_before_v2_existed_is_delivered_as_v2(subscribe):
    # Given a v1 event stored while only v1 exists, not yet delivered (worker mode)
    def old_consumer(event: ThingHappened) -> None:
        raise AssertionError("the old consumer is gone by the time the worker runs")

    subscribe(ThingHappened, old_consumer)
    with override_settings(EVENTBUS={"DELIVERY": "worker"}), transaction.atomic():
        publish(ThingHappened(thing_id=7, label="seven"))
    unsubscribe(f"{old_consumer.__module__}.{old_consumer.__qualname__}")
    row = OutboxMessage.objects.get()
    assert (row.version, row.payload, row.dispatched_at) == (
        1,
        {"thing_id": 7, "label": "seven"},
        None,
    )
    received = []
    with isolated_event_registry():
        # When v2 and its upcaster are deployed and the worker delivers the stored row
        ThingHappenedV2 = define_v2()
        register_v1_to_v2()
        subscribe(ThingHappenedV2, lambda event: received.append(event))

        outcomes = deliver_due(grace=timedelta(0)).outcomes

        # Then the v2 handler received the v1 payload as v2
        assert [o.status for o in outcomes] == ["succeeded"]
        assert received == [ThingHappenedV2(thing_id=7, title="seven", size=0)]
    row.refresh_from_db()
    assert row.version == 1  # the stored row is never rewritten
    assert row.dispatched_at is not None


# Out of the redelivery drill: the probe records each call: this asserts the engine hands it one upcast event.
@pytest.mark.eventbus_redeliver(False)
@pytest.mark.django_db(transaction=True)
def test_publishing_the_old_class_reaches_a_v2_subscriber_upcast(subscribe):
    received = []
    with isolated_event_registry():
        ThingHappenedV2 = define_v2()
        register_v1_to_v2()
        subscribe(ThingHappenedV2, lambda event: received.append(event))

        with transaction.atomic():
            publish(ThingHappened(thing_id=3, label="three"))

        assert received == [ThingHappenedV2(thing_id=3, title="three", size=0)]
    assert OutboxMessage.objects.get().version == 1
    assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_a_missing_upcaster_makes_a_dead_letter_that_says_what_to_add(subscribe):
    received = []
    with isolated_event_registry():
        ThingHappenedV2 = define_v2()  # and no upcaster from v1
        subscribe(ThingHappenedV2, lambda event: received.append(event))

        with transaction.atomic():
            publish(ThingHappened(thing_id=3))

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("dead", 1)
    assert delivery.last_error == (
        "UpcastError: No upcaster turns 'samples.thing_happened' v1 into v2, so a v1 payload "
        "cannot be read as v2. Register one with @upcaster('samples.thing_happened', "
        "from_version=1) in the producer's events.py."
    )
    assert received == []


@pytest.mark.django_db(transaction=True)
def test_stored_rows_are_upcast_step_by_step_to_the_newest_version():
    with transaction.atomic():
        envelope = publish(ThingHappened(thing_id=1, label="one"))
    stored = envelope_of(OutboxMessage.objects.get(pk=envelope.event_id))

    with isolated_event_registry():
        define_v2()
        register_v1_to_v2()

        class ThingHappenedV3(Event):
            event_name = NAME
            event_version = 3

            thing_id: int
            title: str
            size: int
            tags: list[str]

        @upcaster(NAME, from_version=2)
        def thing_v2_to_v3(payload: dict[str, Any]) -> dict[str, Any]:
            return {**payload, "tags": [f"size-{payload['size']}"]}

        assert stored.event() == ThingHappenedV3(thing_id=1, title="one", size=0, tags=["size-0"])


def test_a_version_newer_than_any_registered_is_unknown():
    envelope = Envelope(
        event_id=uuid.uuid4(),
        name=NAME,
        version=5,
        occurred_at=timezone.now(),
        producer="samples",
        correlation_id="c",
        causation_id=None,
        payload={"thing_id": 1},
    )
    with pytest.raises(UnknownEventError, match="No event class is registered for "):
        envelope.event()


def test_a_failing_upcaster_raises_an_upcast_error_naming_it():
    with isolated_event_registry():
        define_v2()

        @upcaster(NAME, from_version=1)
        def needs_label(payload: dict[str, Any]) -> dict[str, Any]:
            return {"title": payload["label"]}

        with pytest.raises(UpcastError) as raised:
            Envelope(
                event_id=uuid.uuid4(),
                name=NAME,
                version=1,
                occurred_at=timezone.now(),
                producer="samples",
                correlation_id="c",
                causation_id=None,
                payload={"thing_id": 1},
            ).event()

    assert str(raised.value) == (
        "The upcaster eventbus_tests.test_upcasting."
        "test_a_failing_upcaster_raises_an_upcast_error_naming_it.<locals>.needs_label "
        "('samples.thing_happened' v1 -> v2) failed: KeyError: 'label'"
    )


def test_two_upcasters_for_one_step_fail_when_defined():
    with isolated_event_registry():
        register_v1_to_v2()
        with pytest.raises(EventDefinitionError, match=r"v1 -> v2 has two upcasters"):

            @upcaster(NAME, from_version=1)
            def another(payload: dict[str, Any]) -> dict[str, Any]:
                return payload


@pytest.mark.parametrize(
    ("name", "version", "message"),
    [
        ("Bad Name", 1, "@upcaster name is 'Bad Name'"),
        (NAME + "\n", 1, r"@upcaster name is 'samples.thing_happened\\n'"),
        (NAME, 0, "from_version is 0; use a positive integer"),
    ],
)
def test_upcaster_arguments_are_checked(name, version, message):
    with pytest.raises(EventDefinitionError, match=message):
        upcaster(name, from_version=version)


def test_start_up_check_reports_old_versions_without_upcaster_and_old_subscriptions(subscribe):
    with isolated_event_registry():
        define_v2()

        def stale(event: ThingHappened) -> None: ...

        subscribe(ThingHappened, stale)

        ids = sorted(str(m.id) for m in run_checks(tags=["eventbus"]))

        assert ids == ["eventbus.E001", "eventbus.E002"]
        register_v1_to_v2()
        assert [m.id for m in run_checks(tags=["eventbus"])] == ["eventbus.E002"]


def test_the_project_passes_the_version_checks():
    assert run_checks(tags=["eventbus"]) == []


def test_a_payload_with_fields_this_process_does_not_know_is_read_without_them():
    """A newer producer added an optional field; a consumer on older code still reads it."""

    envelope = thing_happened_envelope({"thing_id": 3, "label": "x", "added_later": True})

    assert envelope.event() == ThingHappened(thing_id=3, label="x")


def test_building_an_event_in_code_with_an_unknown_field_still_fails():

    with pytest.raises(ValidationError, match="added_later"):
        ThingHappened(thing_id=3, added_later=True)  # type: ignore[call-arg]

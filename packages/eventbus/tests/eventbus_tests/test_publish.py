"""publish(): the outbox row, its envelope, transactions, and the capture fixture."""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from pydantic import ValidationError

from eventbus import NotInTransactionError, correlation_scope, publish
from eventbus.models import Delivery, OutboxMessage
from eventbus_tests.sample import ThingHappened


def test_publish_outside_a_transaction_raises_and_writes_nothing(transactional_db):
    with pytest.raises(NotInTransactionError) as raised:
        publish(ThingHappened(thing_id=1))

    assert str(raised.value).startswith("publish(ThingHappened) was called outside a transaction.")
    assert "transaction.atomic()" in str(raised.value)
    assert OutboxMessage.objects.count() == 0


def test_publish_writes_the_envelope_to_the_outbox(db):
    before = timezone.now()
    with correlation_scope("req-42"), transaction.atomic():
        envelope = publish(ThingHappened(thing_id=7, label="seven"))

    row = OutboxMessage.objects.get()
    assert row.id == envelope.event_id
    assert row.id.version == 7
    assert row.name == "samples.thing_happened"
    assert row.version == 1
    assert row.producer == "samples"
    assert row.correlation_id == "req-42"
    assert row.causation_id is None
    assert row.payload == {"thing_id": 7, "label": "seven"}
    assert before <= row.occurred_at <= timezone.now()
    # No subscriber in this process: nothing to dispatch.
    assert row.dispatched_at == row.occurred_at


def test_event_ids_sort_in_publish_order(db):
    with transaction.atomic():
        ids = [publish(ThingHappened(thing_id=i)).event_id for i in range(50)]

    assert ids == sorted(ids)
    assert len(set(ids)) == 50


def test_publish_without_a_correlation_scope_makes_a_new_id(db):
    with transaction.atomic():
        first = publish(ThingHappened(thing_id=1))
        second = publish(ThingHappened(thing_id=2))

    assert len(first.correlation_id) == 32
    assert first.correlation_id != second.correlation_id


def test_rolled_back_transaction_leaves_no_trace(transactional_db, subscribe):
    calls = []
    subscribe(ThingHappened, lambda event: calls.append(event))

    with pytest.raises(RuntimeError), transaction.atomic():
        publish(ThingHappened(thing_id=1))
        raise RuntimeError("the state change failed")

    assert OutboxMessage.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert calls == []


def test_published_events_fixture_captures_in_order(db, published_events):
    with transaction.atomic():
        publish(ThingHappened(thing_id=1))
        publish(ThingHappened(thing_id=2, label="b"))

    assert published_events.names() == ["samples.thing_happened", "samples.thing_happened"]
    assert published_events.of(ThingHappened) == [
        ThingHappened(thing_id=1),
        ThingHappened(thing_id=2, label="b"),
    ]


def errors(
    raised: pytest.ExceptionInfo[ValidationError],
) -> list[tuple[str, tuple[int | str, ...]]]:
    return [(error["type"], error["loc"]) for error in raised.value.errors()]


def test_events_are_immutable_and_validated():
    event = ThingHappened(thing_id=1)
    with pytest.raises(ValidationError) as frozen:
        event.thing_id = 2  # type: ignore[misc]
    assert errors(frozen) == [("frozen_instance", ("thing_id",))]
    assert event.thing_id == 1
    with pytest.raises(ValidationError) as wrong_type:
        ThingHappened(thing_id="not a number")  # type: ignore[arg-type]
    assert errors(wrong_type) == [("int_parsing", ("thing_id",))]
    with pytest.raises(ValidationError) as extra:
        ThingHappened(thing_id=1, unexpected=True)  # type: ignore[call-arg]
    assert errors(extra) == [("extra_forbidden", ("unexpected",))]


def test_occurred_at_is_in_utc_and_recent(db):
    with transaction.atomic():
        envelope = publish(ThingHappened(thing_id=1))
    assert envelope.occurred_at.utcoffset() == timedelta(0)
    assert isinstance(envelope.event_id, uuid.UUID)

"""The bus's lifecycle signals: any project can connect to them, and sees every one."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from typing import Any

import pytest
from django.db import transaction

from eventbus import DoNotRetry, publish
from eventbus.broker.amqp import ConfirmingPublisher, Received
from eventbus.broker.inbox import receive
from eventbus.broker.relay import relay_batch
from eventbus.broker.wire import encode
from eventbus.ids import uuid7
from eventbus.signals import (
    LIFECYCLE,
    delivery_dead_lettered,
    delivery_failed,
    delivery_succeeded,
    event_published,
)
from eventbus_tests.rabbitmq import BROKER_URL
from eventbus_tests.sample import OtherThingHappened, ThingAnnounced, ThingHappened

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def heard() -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """(signal name, sender, keyword arguments) of every lifecycle signal sent in the block."""
    seen: list[tuple[str, str, dict[str, Any]]] = []
    with ExitStack() as stack:
        for signal in LIFECYCLE:

            def receiver(sender: str, _name: str = signal.name, **kwargs: Any) -> None:
                seen.append((_name, sender, kwargs))

            stack.enter_context(signal.connected_to(receiver))
        yield seen


def test_publish_and_deliveries_are_announced_with_envelope_handler_and_duration(subscribe):
    def fails(event: ThingHappened) -> None:
        raise ConnectionError("away")

    def refuses(event: ThingHappened) -> None:
        raise DoNotRetry("no such thing")

    subscribe(ThingHappened, lambda event: None)
    subscribe(ThingHappened, fails)
    subscribe(ThingHappened, refuses)

    with heard() as seen, transaction.atomic():
        envelope = publish(ThingHappened(thing_id=1))

    assert [(name, sender) for name, sender, _ in seen] == [
        ("event_published", "samples.thing_happened"),
        ("delivery_succeeded", "samples.thing_happened"),
        ("delivery_failed", "samples.thing_happened"),
        ("delivery_dead_lettered", "samples.thing_happened"),
    ]
    assert all(kwargs["envelope"] == envelope for _, _, kwargs in seen)
    assert all(kwargs["duration"] >= 0 for _, _, kwargs in seen)
    handlers = [kwargs.get("handler_id", "").rsplit(".", 1)[-1] for _, _, kwargs in seen]
    assert handlers == ["", "<lambda>", "fails", "refuses"]
    assert [kwargs.get("error") for _, _, kwargs in seen] == [
        None,
        None,
        "ConnectionError: away",
        "DoNotRetry: no such thing",
    ]


def test_nothing_is_announced_for_a_publish_that_rolled_back():
    with heard() as seen, transaction.atomic():
        publish(OtherThingHappened(thing_id=1))
        transaction.set_rollback(True)

    assert seen == []


def test_a_receiver_that_raises_does_not_disturb_the_bus_or_the_other_receivers():
    later: list[str] = []

    def broken(sender: str, **kwargs: Any) -> None:
        raise RuntimeError("metrics backend down")

    with event_published.connected_to(broken), heard() as seen:
        with transaction.atomic():
            publish(OtherThingHappened(thing_id=2))
        later.append("published")

    assert later == ["published"]
    assert [name for name, _, _ in seen] == ["event_published"]


def test_messages_relayed_and_received_are_announced(subscribe, broker):
    subscribe(ThingHappened, lambda event: None)
    with transaction.atomic():
        published = publish(ThingAnnounced(thing_id=3))  # externalised: waits for the relay
    publisher = ConfirmingPublisher(BROKER_URL, broker["EXCHANGE"], confirm_timeout=5)
    try:
        with heard() as seen:
            relay_batch(publisher, using="default", batch_size=10)
    finally:
        publisher.close()
    assert [(name, kwargs["envelope"].event_id) for name, _, kwargs in seen] == [
        ("message_relayed", published.event_id)
    ]

    arriving = replace(published, event_id=uuid7(), name="samples.thing_happened")
    arriving = replace(arriving, payload={"thing_id": 4, "label": ""})
    wire = encode(arriving)
    with heard() as seen:
        receive([Received("q", 1, wire.message_id, wire.body, wire.headers)])

    # Both are sent once the batch's transaction commits, in the order they happened.
    assert [(name, kwargs["envelope"].event_id) for name, _, kwargs in seen] == [
        ("delivery_succeeded", arriving.event_id),
        ("message_received", arriving.event_id),
    ]


def test_every_lifecycle_signal_is_documented_and_distinct():
    names = [signal.name for signal in LIFECYCLE]
    assert names == [
        "event_published",
        "delivery_succeeded",
        "delivery_failed",
        "delivery_dead_lettered",
        "message_relayed",
        "message_received",
    ]
    assert delivery_succeeded is not delivery_failed is not delivery_dead_lettered

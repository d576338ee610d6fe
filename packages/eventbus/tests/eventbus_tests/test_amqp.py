"""The AMQP transport against the local RabbitMQ: relay with confirms, consume with dedup."""

import json
import os
import socket
import uuid
from datetime import timedelta

import kombu
import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from eventbus import process as process_module
from eventbus import publish
from eventbus.broker.amqp import ConfirmingPublisher
from eventbus.broker.consumer import Consumer
from eventbus.broker.relay import Relayer
from eventbus.broker.topology import consumed_queues, declare_exchange
from eventbus.broker.wire import encode
from eventbus.envelope import Envelope
from eventbus.models import Consumer as ConsumerRow
from eventbus.models import Delivery, OutboxMessage
from eventbus.process import PRESUMED_DEAD_AFTER
from eventbus_tests.rabbitmq import BROKER_URL, CONFIRMED, get_all
from eventbus_tests.sample import ThingAnnounced, ThingHappened, thing_happened_envelope

pytestmark = pytest.mark.django_db(transaction=True)


def envelope(thing_id: int, **payload) -> Envelope:
    return thing_happened_envelope(
        {"thing_id": thing_id, "label": "", **payload}, correlation_id="corr-1"
    )


def send(names, *envelopes: Envelope) -> None:
    from eventbus.conf import bus_settings

    publisher = ConfirmingPublisher(bus_settings.BROKER_URL, names["EXCHANGE"], 5)
    try:
        assert publisher.publish_many([encode(e) for e in envelopes]) == [True] * len(envelopes)
    finally:
        publisher.close()


def test_relay_sends_pending_rows_with_confirms_and_marks_them_sent(broker, subscribe):
    subscribe(ThingHappened, lambda event: None)
    queue = f"{broker['QUEUE_PREFIX']}eventbus_tests.events"
    Consumer(once=True, poll=0.2).run()  # declares the queue and its binding
    with transaction.atomic():
        published = [publish(ThingHappened(thing_id=i)) for i in range(3)]

    assert OutboxMessage.objects.filter(broker="pending").count() == 3
    relayer = Relayer(batch_size=10)
    try:
        assert relayer.tick() == 3
    finally:
        relayer.close()

    rows = OutboxMessage.objects.order_by("id")
    assert [r.broker for r in rows] == ["sent"] * 3
    assert all(r.relayed_at is not None for r in rows)
    messages = get_all(queue)
    assert [m.properties["message_id"] for m in messages] == [str(p.event_id) for p in published]
    first = messages[0]
    assert json.loads(first.body) == {"label": "", "thing_id": 0}
    assert first.delivery_info["routing_key"] == "samples.thing_happened.v1"
    assert first.properties["delivery_mode"] == 2
    headers = first.properties["application_headers"]
    assert headers["x-event-name"] == "samples.thing_happened"
    assert headers["x-event-version"] == 1
    assert headers["x-correlation-id"] == published[0].correlation_id


# Out of the redelivery drill: counts the consumer's calls to a probe to prove it skips a duplicate message.
@pytest.mark.eventbus_redeliver(False)
def test_consumer_stores_delivers_and_skips_duplicates(broker, subscribe):
    calls = []
    subscribe(ThingHappened, lambda event: calls.append(event.thing_id))
    assert consumed_queues() == {
        f"{broker['QUEUE_PREFIX']}eventbus_tests.events": ["samples.thing_happened.*"]
    }
    Consumer(once=True, poll=0.2).run()
    first, second = envelope(1), envelope(2)

    send(broker, first, second, first)  # the same message twice
    totals = Consumer(once=True, poll=0.5).run()

    assert calls == [1, 2]
    assert (totals.messages, totals.stored, totals.duplicates) == (3, 2, 1)
    rows = OutboxMessage.objects.order_by("id")
    assert [(r.pk, r.broker, r.dispatched_at is not None) for r in rows] == sorted(
        [(first.event_id, "received", True), (second.event_id, "received", True)]
    )
    assert Delivery.objects.filter(status="succeeded").count() == 2

    send(broker, second)  # redelivered later: still applied once
    Consumer(once=True, poll=0.5).run()
    assert calls == [1, 2]


# Out of the redelivery drill: counts the probe's calls to prove the readable messages were each applied once.
@pytest.mark.eventbus_redeliver(False)
def test_unreadable_messages_are_dead_lettered_with_the_reason(broker, subscribe):
    calls = []
    subscribe(ThingHappened, lambda event: calls.append(event.thing_id))
    Consumer(once=True, poll=0.2).run()  # declares the queues
    queue = f"{broker['QUEUE_PREFIX']}eventbus_tests.events"
    good = envelope(5)

    with kombu.Connection(BROKER_URL, transport_options=CONFIRMED) as connection:
        producer = connection.Producer()
        producer.publish(
            b"not json",
            exchange=broker["EXCHANGE"],
            routing_key="samples.thing_happened.v1",
            message_id=str(uuid.uuid4()),
            headers={
                "x-event-name": "samples.thing_happened",
                "x-event-version": 1,
                "x-occurred-at": timezone.now().isoformat(),
                "x-producer": "samples",
            },
            serializer=None,
            content_type="application/json",
            content_encoding="utf-8",
        )
        wire = encode(envelope(7))
        producer.publish(
            json.dumps({"thing_id": "seven"}).encode(),
            exchange=broker["EXCHANGE"],
            routing_key=wire.routing_key,
            message_id=wire.message_id,
            headers=wire.headers,
            content_type="application/json",
            content_encoding="utf-8",
        )
        producer.publish(
            b"{}",
            exchange=broker["EXCHANGE"],
            routing_key="samples.thing_happened.v9",
            message_id=str(uuid.uuid4()),
            headers={**wire.headers, "x-event-version": 9},
            content_type="application/json",
            content_encoding="utf-8",
        )
    send(broker, good)

    totals = Consumer(once=True, poll=0.5).run()

    assert calls == [5]
    assert totals.dead_lettered == 3
    dead = get_all(f"{queue}.dead-letter")
    reasons = [m.properties["application_headers"]["x-eventbus-dead-reason"] for m in dead]
    assert reasons[0].startswith("body is not JSON")
    assert reasons[1].startswith("ValidationError")
    assert reasons[2].startswith(
        "UnknownEventError: No event class is registered for 'samples.thing_happened' version 9"
    )
    assert OutboxMessage.objects.count() == 1


# Out of the redelivery drill: counts the local probe's calls to prove inline delivery beside the relay.
@pytest.mark.eventbus_redeliver(False)
def test_the_monolith_externalises_marked_events_to_the_broker(broker, subscribe):
    local = []
    subscribe(ThingAnnounced, lambda event: local.append(event.thing_id))
    with kombu.Connection(BROKER_URL) as connection:  # another system's queue on the exchange
        channel = connection.channel()
        declare_exchange(channel, broker["EXCHANGE"])
        outside = f"{broker['QUEUE_PREFIX']}outside"
        channel.queue_declare(outside, durable=False, auto_delete=False)
        channel.queue_bind(outside, broker["EXCHANGE"], routing_key="samples.#")
    with override_settings(EVENTBUS={**settings.EVENTBUS, "TRANSPORT": "local"}):
        with transaction.atomic():
            publish(ThingAnnounced(thing_id=4))
            publish(ThingHappened(thing_id=5))  # not externalised: stays local
        relayer = Relayer()
        try:
            assert relayer.tick() == 1
        finally:
            relayer.close()

    assert local == [4]  # local subscribers still get it, inline
    assert dict(OutboxMessage.objects.values_list("name", "broker")) == {
        "samples.thing_announced": "sent",
        "samples.thing_happened": "",
    }
    received = get_all(outside)
    assert [m.delivery_info["routing_key"] for m in received] == ["samples.thing_announced.v1"]
    with kombu.Connection(BROKER_URL, transport_options=CONFIRMED) as connection:
        connection.channel().queue_delete(outside)


def test_storing_a_batch_skips_rows_already_stored_and_returns_only_its_own():
    from eventbus.storage import store_for

    stored_elsewhere, new = envelope(1), envelope(2, label="new")
    with transaction.atomic():
        store_for().insert_received([stored_elsewhere])
    # another consumer stored and delivered it first
    OutboxMessage.objects.filter(pk=stored_elsewhere.event_id).update(dispatched_at=timezone.now())

    with transaction.atomic():
        inserted = store_for().insert_received([stored_elsewhere, new])

    assert inserted == {new.event_id}
    row = OutboxMessage.objects.get(pk=new.event_id)
    assert (row.name, row.broker, row.payload, row.dispatched_at) == (
        "samples.thing_happened",
        "received",
        {"thing_id": 2, "label": "new"},
        None,
    )
    assert row.occurred_at == new.occurred_at
    assert OutboxMessage.objects.count() == 2


def test_a_publish_whose_confirm_does_not_come_is_not_sent_and_reconnects(broker, monkeypatch):
    publisher = ConfirmingPublisher(BROKER_URL, broker["EXCHANGE"], confirm_timeout=0.2)
    try:
        with monkeypatch.context() as lost:
            # the broker's confirms are lost on the way (a half-open link): none arrives
            lost.setattr(publisher, "_on_ack", lambda delivery_tag, multiple: None)
            confirmed = publisher.publish_many([encode(envelope(1)), encode(envelope(2))])

        assert confirmed == [False, False]  # not marked sent: the relay sends them again
        assert publisher._connection is None  # a possibly half-open link is not reused
        publisher.confirm_timeout = 5  # a new link, whose confirms arrive
        assert publisher.publish_many([encode(envelope(3))]) == [True]
    finally:
        publisher.close()


def test_a_running_consumer_has_a_heartbeat_row_removed_on_a_clean_stop(broker, subscribe):
    subscribe(ThingHappened, lambda event: None)
    stale = ConsumerRow.objects.create(
        name="dead-one",
        hostname="gone",
        pid=1,
        queues=[],
        started_at=timezone.now() - timedelta(hours=1),
        heartbeat_at=timezone.now() - PRESUMED_DEAD_AFTER - timedelta(seconds=1),
    )
    fresh = ConsumerRow.objects.create(
        name="alive-elsewhere",
        hostname="other",
        pid=2,
        queues=[],
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    consumer = Consumer(once=True, poll=0.2)
    seen: list[tuple[str, str, int, list[str]]] = []

    def look(timeout: float) -> int:  # the transport's poll, watched from inside run()
        seen.extend(
            (r.name, r.hostname, r.pid, r.queues) for r in ConsumerRow.objects.exclude(pk=fresh.pk)
        )
        return 0

    consumer._transport.poll = look  # type: ignore[method-assign]
    consumer.run()

    assert seen == [
        (
            consumer.name,
            socket.gethostname(),
            os.getpid(),
            [f"{broker['QUEUE_PREFIX']}eventbus_tests.events"],
        )
    ]
    assert not ConsumerRow.objects.filter(pk=stale.pk).exists()  # pruned at start
    assert list(ConsumerRow.objects.values_list("name", flat=True)) == ["alive-elsewhere"]


def test_a_running_consumer_refreshes_its_heartbeat(broker, subscribe, monkeypatch):
    subscribe(ThingHappened, lambda event: None)
    monkeypatch.setattr(process_module, "HEARTBEAT_EVERY", timedelta(0))  # beat every loop
    consumer = Consumer(poll=0.05)
    beats = []

    def look(timeout: float) -> int:
        beats.append(ConsumerRow.objects.get(name=consumer.name).heartbeat_at)
        if len(beats) == 3:
            consumer.stop()
        return 0

    consumer._transport.poll = look  # type: ignore[method-assign]
    consumer.run()

    assert beats[0] < beats[1] < beats[2]
    assert not ConsumerRow.objects.filter(name=consumer.name).exists()


# Out of the redelivery drill: counts the probe's calls to prove the message was applied once.
@pytest.mark.eventbus_redeliver(False)
def test_a_consumer_whose_database_goes_away_pauses_and_applies_the_batch_later(
    broker, subscribe, monkeypatch, caplog
):
    from django.db import OperationalError

    from eventbus.broker import consumer as consumer_module

    calls = []
    subscribe(ThingHappened, lambda event: calls.append(event.thing_id))
    Consumer(once=True, poll=0.2).run()  # declares the queues
    send(broker, envelope(7))
    # the database is away for the first batch (a restart): storing it fails
    from eventbus.broker.inbox import receive as real_receive

    failures: list[int] = []

    def receive_once_away(batch, using):
        if not failures:
            failures.append(len(batch))
            raise OperationalError("the connection is closed")
        return real_receive(batch, using=using)

    monkeypatch.setattr(consumer_module, "receive", receive_once_away)
    monkeypatch.setattr(process_module, "RECONNECT_FIRST_SECONDS", 0.05)

    totals = Consumer(once=True, poll=0.5).run()

    # then the consumer paused instead of dying, and the unacknowledged batch came back once
    assert failures == [1]
    assert totals.reconnects == 1
    assert "database unavailable (the connection is closed)" in caplog.text
    assert calls == [7]
    assert (totals.stored, totals.duplicates) == (1, 0)

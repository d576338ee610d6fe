"""Hostile broker messages against the real RabbitMQ: each one ends as a dead letter with a
readable reason, the consumer stays up, and the good messages around them are applied."""

import time
from typing import Any

import amqp
import kombu
import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import override_settings

from eventbus.broker.amqp import CONNECTION_ERRORS, DEAD_REASON_HEADER, BatchingConsumer, Received
from eventbus.broker.consumer import Consumer
from eventbus.broker.inbox import receive
from eventbus.broker.topology import consumed_queues, dead_letter_exchange, dead_letter_queue
from eventbus.broker.wire import encode
from eventbus.envelope import Envelope
from eventbus.exceptions import BrokerTopologyError
from eventbus.models import OutboxMessage
from eventbus.storage import store_for
from eventbus_tests.rabbitmq import BROKER_URL, CONFIRMED, get_all
from eventbus_tests.sample import ThingHappened, thing_happened_envelope

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "samples.thing_happened.v1"


def envelope(thing_id: int, label: str = "") -> Envelope:
    return thing_happened_envelope({"thing_id": thing_id, "label": label}, correlation_id="corr-1")


def message(
    case: str,
    *,
    body: bytes | None = None,
    routing_key: str = KEY,
    drop: tuple[str, ...] = (),
    properties: dict[str, Any] | None = None,
    event: Envelope | None = None,
    **headers: Any,
) -> tuple[str, bytes, dict[str, Any]]:
    """The relay's message for ``event`` (a valid ThingHappened by default), changed as told;
    headers are given with "_" for "-"."""
    wire = encode(event or envelope(1))
    all_headers = {**wire.headers, "x-test-case": case}
    for key in drop:
        all_headers.pop(key)
    all_headers.update({k.replace("_", "-"): v for k, v in headers.items()})
    props: dict[str, Any] = {
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "message_id": wire.message_id,
        "delivery_mode": 2,
        "application_headers": all_headers,
        **(properties or {}),
    }
    props = {k: v for k, v in props.items() if v is not None}
    return routing_key, wire.body if body is None else body, props


def body_with(label_json: str) -> bytes:
    """A body whose label is the given JSON text, written as is (escapes included)."""
    return ('{"thing_id":1,"label":' + label_json + "}").encode()


#: (case, message, a part of the reason the dead letter must carry)
HOSTILE = [
    ("producer-too-long", message("producer-too-long", x_producer="s" * 101), "x-producer is 101 characters long"),
    ("nul-in-payload", message("nul-in-payload", body=body_with('"a\\u0000b"')), "payload.label contains a NUL"),
    ("surrogate-in-payload", message("surrogate-in-payload", body=body_with('"\\ud800"')), "payload.label contains a lone surrogate"),
    ("surrogate-in-correlation", message("surrogate-in-correlation", x_correlation_id="\ud800"), "x-correlation-id contains a lone surrogate"),
    ("deep-nesting", message("deep-nesting", body=b"[" * 200_000), "nests arrays and objects deeper than 64"),
    ("version-as-array", message("version-as-array", x_event_version=[1]), "x-event-version is list"),
    ("bc-date", message("bc-date", x_occurred_at="0001-01-01T00:00:00+14:00"), "outside years 1 to 9999 in UTC"),
    ("past-year-9999", message("past-year-9999", x_occurred_at="9999-12-31T23:00:00-05:00"), "outside years 1 to 9999"),
    ("naive-date", message("naive-date", x_occurred_at="2026-01-01T00:00:00"), "has no time zone"),
    ("garbage-date", message("garbage-date", x_occurred_at="yesterday"), "is not an ISO 8601 time"),
    ("date-as-number", message("date-as-number", x_occurred_at=1700000000), "x-occurred-at is int"),
    ("wrong-content-type", message("wrong-content-type", properties={"content_type": "text/plain"}), "content type is 'text/plain'"),
    ("no-content-type", message("no-content-type", properties={"content_type": None}), "content type is None"),
    ("gzip-encoding", message("gzip-encoding", properties={"content_encoding": "gzip"}), "content encoding is 'gzip'"),
    ("not-utf8", message("not-utf8", body=b'{"thing_id":1,"label":"\xff"}'), "body is not UTF-8"),
    ("not-json", message("not-json", body=b"not json"), "body is not JSON"),
    ("json-array", message("json-array", body=b"[1, 2]"), "body is a JSON list; it must be an object"),
    ("json-number", message("json-number", body=b"42"), "body is a JSON int"),
    ("nan", message("nan", body=b'{"thing_id":1,"label":NaN}'), "body is not JSON"),
    ("huge-float", message("huge-float", body=b'{"thing_id":1,"label":"","x":1e400}'), "out of range"),
    ("too-big", message("too-big", body=b'{"thing_id":1,"label":"' + b"a" * 1_048_576 + b'"}'), "bytes; at most 1048576"),
    ("surrogate-in-key", message("surrogate-in-key", body=b'{"thing_id":1,"\\udc00":1}'), "a key in payload contains a lone surrogate"),
    ("nul-in-nested-key", message("nul-in-nested-key", body=b'{"thing_id":1,"x":[{"a\\u0000":1}]}'), "a key in payload.x[0] contains a NUL"),
    ("no-event-name", message("no-event-name", drop=("x-event-name",)), "header x-event-name is missing"),
    ("name-as-number", message("name-as-number", x_event_name=5), "x-event-name is int"),
    ("no-producer", message("no-producer", drop=("x-producer",)), "header x-producer is missing"),
    ("huge-header", message("huge-header", x_aggregate_id="a" * 60_000), "x-aggregate-id is 60000 characters long"),
    ("correlation-too-long", message("correlation-too-long", x_correlation_id="c" * 65), "x-correlation-id is 65 characters long"),
    ("nul-in-aggregate", message("nul-in-aggregate", x_aggregate_id="a\x00"), "x-aggregate-id contains a NUL"),
    ("causation-not-uuid", message("causation-not-uuid", x_causation_id="nope"), "x-causation-id 'nope' is not a UUID"),
    ("no-message-id", message("no-message-id", properties={"message_id": None}), "message id is not a UUID"),
    ("message-id-not-uuid", message("message-id-not-uuid", properties={"message_id": "42"}), "message id '42' is not a UUID"),
    ("version-zero", message("version-zero", x_event_version=0, routing_key="samples.thing_happened.v0"), "x-event-version 0 is not between 1"),
    ("version-as-bool", message("version-as-bool", x_event_version=True), "x-event-version is bool"),
    ("version-as-text", message("version-as-text", x_event_version="1"), "x-event-version is str"),
    ("unknown-version", message("unknown-version", x_event_version=9, routing_key="samples.thing_happened.v9"), "UnknownEventError: No event class is registered for 'samples.thing_happened' version 9"),
    ("unknown-event", message("unknown-event", x_event_name="samples.nothing"), "does not match x-event-name 'samples.nothing'"),
    ("routing-mismatch", message("routing-mismatch", x_event_name="samples.other_thing_happened"), "routing key 'samples.thing_happened.v1' does not match"),
    ("payload-invalid", message("payload-invalid", body=b'{"thing_id":"seven"}'), "ValidationError: 1 validation error for ThingHappened"),
    ("payload-missing-field", message("payload-missing-field", body=b"{}"), "ValidationError"),
    ("forged-producer", message("forged-producer", x_producer="accounts"), "x-producer 'accounts' is not 'samples', the module that owns 'samples.thing_happened'"),
]  # fmt: skip


def publish_raw(exchange: str, messages: list[tuple[str, bytes, dict[str, Any]]]) -> None:
    """Publish exactly what is given (no serializer), each confirmed by the broker."""
    with kombu.Connection(BROKER_URL, transport_options=CONFIRMED) as connection:
        channel = connection.default_channel
        channel.confirm_select()
        for routing_key, body, properties in messages:
            channel.basic_publish_confirm(
                amqp.Message(body, **properties), exchange, routing_key, confirm_timeout=5
            )


def reason_of(dead: Any) -> str:
    return dead.properties["application_headers"][DEAD_REASON_HEADER]


# Out of the redelivery drill: counts the probe's calls to prove each readable message was applied once.
@pytest.mark.eventbus_redeliver(False)
def test_every_hostile_message_is_dead_lettered_with_its_reason_and_the_rest_applied(
    broker, subscribe
):
    # given a consumer whose handler records what it applies, and one message applied
    applied = []
    subscribe(ThingHappened, lambda event: applied.append((event.thing_id, event.label)))
    Consumer(once=True, poll=0.2).run()  # declares the queues
    (queue,) = consumed_queues()
    first, last = envelope(1, "first"), envelope(2, "last")
    publish_raw(broker["EXCHANGE"], [message("first", event=first)])
    assert Consumer(once=True, poll=0.5).run().stored == 1
    reused_id = message("reused-id", event=first, body=b'{"thing_id":666,"label":"other"}')
    cases = [
        *HOSTILE,
        ("reused-id", reused_id, f"event id {first.event_id} is already stored with different"),
    ]
    assert len(cases) >= 30

    # when the hostile corpus arrives, then a good message
    publish_raw(broker["EXCHANGE"], [m for _, m, _ in cases] + [message("last", event=last)])
    totals = Consumer(once=True, poll=1.0).run()

    # then the consumer went through all of them, dead-lettered each with its reason,
    # acked them all and applied only the good ones
    assert (totals.reconnects, totals.dead_lettered, totals.stored) == (0, len(cases), 1)
    assert applied == [(1, "first"), (2, "last")]
    stored = set(OutboxMessage.objects.values_list("pk", flat=True))
    assert stored == {first.event_id, last.event_id}
    dead = get_all(dead_letter_queue(queue))
    by_case = {m.properties["application_headers"].get("x-test-case"): m for m in dead}
    assert len(dead) == len(by_case) == len(cases)
    for case, _, expected in cases:
        assert expected in reason_of(by_case[case]), (case, reason_of(by_case[case]))
    huge = by_case["huge-header"].properties["application_headers"]
    assert huge["x-eventbus-headers-dropped"] == "x-aggregate-id"
    assert get_all(queue) == []
    assert Consumer(once=True, poll=0.3).run().messages == 0  # nothing left unacknowledged


def test_a_message_that_kills_the_consumer_is_set_aside_by_the_broker(broker, subscribe):
    # given the module's quorum queue with a delivery limit of 2
    subscribe(ThingHappened, lambda event: None)
    with override_settings(EVENTBUS={**settings.EVENTBUS, "DELIVERY_LIMIT": 2}):
        Consumer(once=True, poll=0.2).run()
    (queue,) = consumed_queues()
    publish_raw(broker["EXCHANGE"], [message("poison")])

    # when a consumer takes it and dies before the ack, again and again
    for _ in range(3):
        with kombu.Connection(BROKER_URL, transport_options=CONFIRMED) as connection:
            assert connection.channel().basic_get(queue, no_ack=False) is not None
    # (the connection closes without an ack: the broker gives the message back)

    # then after the limit the broker moves it to the dead-letter queue
    deadline = time.monotonic() + 5
    while not (dead := get_all(dead_letter_queue(queue))) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [m.properties["application_headers"]["x-test-case"] for m in dead] == ["poison"]
    assert dead[0].properties["application_headers"]["x-death"][0]["reason"] == "delivery_limit"
    assert get_all(queue) == []


def test_a_dead_letter_the_broker_does_not_confirm_leaves_the_batch_unacknowledged(
    broker, subscribe
):
    # given a consumer whose dead-letter exchange has gone
    subscribe(ThingHappened, lambda event: None)
    consumer = Consumer(once=True, poll=0.2)
    (queue,) = consumer.queues
    transport = BatchingConsumer(
        BROKER_URL, broker["EXCHANGE"], consumer.queues, prefetch=10,
        handle=lambda batch: receive(batch).rejected, confirm_timeout=5,
    )  # fmt: skip
    transport.connect()
    with kombu.Connection(BROKER_URL, transport_options=CONFIRMED) as connection:
        connection.channel().exchange_delete(dead_letter_exchange(broker["EXCHANGE"]))
    publish_raw(broker["EXCHANGE"], [message("bad", body=b"not json")])

    # when it dead-letters a message, then the failure is a connection error and no ack
    with pytest.raises(CONNECTION_ERRORS):
        for _ in range(20):
            transport.poll(timeout=0.5)
    transport.close()

    # and once the exchange is back (declared on connect) the message is dead-lettered
    assert Consumer(once=True, poll=0.5).run().dead_lettered == 1
    dead = get_all(dead_letter_queue(queue))
    assert [reason_of(m)[:16] for m in dead] == ["body is not JSON"]


def test_one_message_whose_storing_raises_fails_only_itself(monkeypatch):
    # given a batch in which storing one message raises
    good, bad, other = envelope(1), envelope(2), envelope(3)
    batch = [
        Received("q", tag, wire.message_id, wire.body, wire.headers, wire.routing_key)
        for tag, wire in enumerate(map(encode, [good, bad, other]), start=1)
    ]
    store_class = type(store_for())
    insert = store_class.insert_received

    def failing(self, envelopes):
        if any(e.event_id == bad.event_id for e in envelopes):
            raise ValueError("no room for this one")
        return insert(self, envelopes)

    monkeypatch.setattr(store_class, "insert_received", failing)

    # when the batch is received
    result = receive(batch)

    # then the others are stored and only that one is dead-lettered, with the error
    assert (result.stored, result.duplicates) == (2, 0)
    assert [(r.delivery_tag, why) for r, why in result.rejected] == [
        (2, "could not be stored: ValueError: no room for this one")
    ]
    stored = set(OutboxMessage.objects.values_list("pk", flat=True))
    assert stored == {good.event_id, other.event_id}


def test_a_database_that_cannot_be_reached_stops_the_batch_unacknowledged(monkeypatch):
    wire = encode(envelope(1))

    def unreachable(self, envelopes):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(type(store_for()), "insert_received", unreachable)
    with pytest.raises(OperationalError):
        receive([Received("q", 1, wire.message_id, wire.body, wire.headers, wire.routing_key)])


def test_a_classic_queue_where_a_quorum_queue_belongs_stops_the_consumer_saying_what_to_do(
    broker, subscribe
):
    subscribe(ThingHappened, lambda event: None)
    consumer = Consumer(once=True, poll=0.2)
    (queue,) = consumer.queues
    with kombu.Connection(BROKER_URL) as connection:  # left over from before quorum queues
        connection.channel().queue_declare(queue, durable=True, auto_delete=False)

    with pytest.raises(
        BrokerTopologyError, match=r"PRECONDITION_FAILED - inequivalent arg.*new queues"
    ):
        consumer.run()

"""The wire format's checks at their edges, without a broker."""

import json
from datetime import timedelta

import pytest

from eventbus.broker.wire import (
    MAX_JSON_DEPTH,
    MalformedMessage,
    column_lengths,
    decode,
    encode,
    json_depth_exceeds,
)
from eventbus.envelope import Envelope
from eventbus.models import OutboxMessage
from eventbus_tests.sample import thing_happened_envelope


def wire_of(payload: dict, **headers):
    event = thing_happened_envelope(payload)
    wire = encode(event)
    return wire, {**wire.headers, **headers}


def read(body: bytes, headers: dict, message_id: str) -> Envelope:
    return decode(message_id, body, headers, max_bytes=1000, routing_key_received=None)


def test_nesting_up_to_the_limit_is_read_and_one_deeper_is_refused():
    deepest = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    wire, headers = wire_of({})
    body = ('{"x":' + deepest + "}").encode()

    assert read(body, headers, wire.message_id).payload == {"x": json.loads(deepest)}
    too_deep = ('{"x":[' + deepest + "]}").encode()
    with pytest.raises(MalformedMessage, match=f"deeper than {MAX_JSON_DEPTH}"):
        read(too_deep, headers, wire.message_id)


def test_brackets_inside_strings_are_not_nesting():
    text = json.dumps({"label": "[" * 500 + '\\"{' * 100})

    assert not json_depth_exceeds(text, 2)
    assert json_depth_exceeds("[" * 3, 2)


def test_the_column_lengths_are_the_models():
    assert column_lengths()["producer"] == OutboxMessage._meta.get_field("producer").max_length
    wire, headers = wire_of({}, **{"x-aggregate-id": "a" * column_lengths()["aggregate_id"]})
    assert read(wire.body, headers, wire.message_id).aggregate_id == headers["x-aggregate-id"]


def test_the_body_limit_is_the_one_given():
    wire, headers = wire_of({"label": "a" * 100})

    with pytest.raises(MalformedMessage, match=f"body is {len(wire.body)} bytes; at most 10"):
        decode(wire.message_id, wire.body, headers, max_bytes=10)


def test_an_offset_time_is_stored_as_the_same_instant_in_utc():
    wire, headers = wire_of({}, **{"x-occurred-at": "0001-01-01T10:00:00+09:00"})

    occurred = read(wire.body, headers, wire.message_id).occurred_at
    assert (occurred.year, occurred.hour, occurred.utcoffset()) == (1, 1, timedelta(0))

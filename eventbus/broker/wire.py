"""The wire format of an envelope on the broker: JSON body, metadata in headers.

routing key   <event name>.v<version>       e.g. orders.order_placed.v1
message id    the event id
content type  application/json, UTF-8
body          the payload as JSON (UTF-8), at most EVENTBUS['MAX_MESSAGE_BYTES']
headers       x-event-name, x-event-version, x-occurred-at, x-producer,
              x-correlation-id, x-causation-id, x-aggregate-id, and traceparent (the W3C
              trace context of the publishing span) when the event was traced

``decode`` trusts nothing: whatever arrives is checked to be an envelope this service's
database can store and read back (types, column lengths, strings without NUL or lone
surrogates, dates PostgreSQL keeps, bounded size and nesting) before anything is stored.
"""

import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from eventbus.broker.topology import routing_key
from eventbus.envelope import Envelope
from eventbus.exceptions import EventBusError
from eventbus.tracing import valid_traceparent

CONTENT_TYPE = "application/json"
CONTENT_ENCODING = "utf-8"

#: The deepest nesting of JSON arrays and objects a payload may have.
MAX_JSON_DEPTH = 64

#: The largest event version: the outbox column is a PositiveIntegerField (32-bit signed).
MAX_VERSION = 2**31 - 1

#: Longest x-occurred-at text read (an ISO 8601 time with microseconds and offset is 32).
_MAX_TIMESTAMP_CHARS = 64


class MalformedMessage(EventBusError):
    """A broker message that cannot be read as an envelope; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class WireMessage:
    routing_key: str
    message_id: str
    body: bytes
    headers: dict[str, Any]


def encode(envelope: Envelope) -> WireMessage:
    headers = {
        "x-event-name": envelope.name,
        "x-event-version": envelope.version,
        "x-occurred-at": envelope.occurred_at.isoformat(),
        "x-producer": envelope.producer,
        "x-correlation-id": envelope.correlation_id,
        "x-causation-id": str(envelope.causation_id) if envelope.causation_id else "",
        "x-aggregate-id": envelope.aggregate_id,
    }
    if envelope.traceparent:
        headers["traceparent"] = envelope.traceparent
    body = json.dumps(envelope.payload, separators=(",", ":"), sort_keys=True).encode()
    return WireMessage(
        routing_key(envelope.name, envelope.version), str(envelope.event_id), body, headers
    )


@cache
def column_lengths() -> dict[str, int]:
    """The outbox's text columns and their max_length, as the model declares them."""
    from django.db.models import CharField

    from eventbus.models import OutboxMessage

    lengths: dict[str, int] = {}
    for name in ("name", "producer", "correlation_id", "aggregate_id"):
        column = OutboxMessage._meta.get_field(name)
        assert isinstance(column, CharField) and column.max_length is not None
        lengths[name] = column.max_length
    return lengths


def storable_text_problem(text: str) -> str | None:
    """Why PostgreSQL could not store ``text`` (a NUL, a lone surrogate), or None."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate, which is not valid Unicode"
    return None


def _text(value: object, what: str, *, max_length: int) -> str:
    if not isinstance(value, str):
        raise MalformedMessage(f"{what} is {type(value).__name__}; it must be a string")
    if len(value) > max_length:
        raise MalformedMessage(f"{what} is {len(value)} characters long; at most {max_length}")
    problem = storable_text_problem(value)
    if problem:
        raise MalformedMessage(f"{what} {problem}")
    return value


def _header(headers: dict[str, Any], key: str, *, max_length: int, required: bool) -> str:
    """A text header, checked; "" when absent and not required."""
    if key not in headers or (headers[key] == "" and not required):
        if required:
            raise MalformedMessage(f"header {key} is missing")
        return ""
    value = _text(headers[key], f"header {key}", max_length=max_length)
    if required and not value:
        raise MalformedMessage(f"header {key} is empty")
    return value


def _occurred_at(headers: dict[str, Any]) -> datetime:
    """x-occurred-at as an aware time that PostgreSQL stores and reads back as the same
    instant: year 1 to 9999 once converted to UTC (an earlier one would be stored BC)."""
    text = _header(headers, "x-occurred-at", max_length=_MAX_TIMESTAMP_CHARS, required=True)
    try:
        occurred_at = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedMessage(f"header x-occurred-at {text!r} is not an ISO 8601 time") from None
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        raise MalformedMessage(f"header x-occurred-at {text!r} has no time zone")
    try:
        return occurred_at.astimezone(UTC)
    except OverflowError:
        raise MalformedMessage(
            f"header x-occurred-at {text!r} is outside years 1 to 9999 in UTC"
        ) from None


def _version(headers: dict[str, Any]) -> int:
    version = headers.get("x-event-version")
    if version is None:
        raise MalformedMessage("header x-event-version is missing")
    if not isinstance(version, int) or isinstance(version, bool):
        raise MalformedMessage(
            f"header x-event-version is {type(version).__name__}; it must be an integer"
        )
    if not 1 <= version <= MAX_VERSION:
        raise MalformedMessage(
            f"header x-event-version {version} is not between 1 and {MAX_VERSION}"
        )
    return version


def _uuid(value: object, what: str) -> uuid.UUID:
    if not isinstance(value, str) or len(value) > 36:
        raise MalformedMessage(f"{what} is not a UUID")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise MalformedMessage(f"{what} {value!r} is not a UUID") from None


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether arrays and objects in the JSON ``text`` nest deeper than ``limit``, found
    without recursion (a body of 200,000 ``[`` must not reach the parser's stack)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number {text[:40]} is out of range")
    return number


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not valid JSON")


def _strings(value: Any) -> Iterator[tuple[str, str]]:
    """Every string in a parsed JSON value, keys included, with where it is."""
    stack: list[tuple[str, Any]] = [("payload", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                yield f"a key in {where}", key
                stack.append((f"{where}.{key[:40]}", child))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", child) for i, child in enumerate(item))


def _payload(body: bytes, *, max_bytes: int) -> dict[str, Any]:
    if len(body) > max_bytes:
        raise MalformedMessage(f"body is {len(body)} bytes; at most {max_bytes}")
    try:
        text = body.decode(CONTENT_ENCODING)
    except UnicodeDecodeError as exc:
        raise MalformedMessage(f"body is not UTF-8: {exc}") from None
    if json_depth_exceeds(text, MAX_JSON_DEPTH):
        raise MalformedMessage(f"body nests arrays and objects deeper than {MAX_JSON_DEPTH}")
    try:
        payload = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise MalformedMessage(f"body is not JSON: {str(exc)[:200]}") from None
    if not isinstance(payload, dict):
        raise MalformedMessage(f"body is a JSON {type(payload).__name__}; it must be an object")
    for where, text_value in _strings(payload):
        problem = storable_text_problem(text_value)
        if problem:
            raise MalformedMessage(f"{where} {problem}")
    return payload


def decode(
    message_id: object,
    body: bytes,
    headers: object,
    *,
    max_bytes: int,
    routing_key_received: str | None = None,
    content_type: object = CONTENT_TYPE,
    content_encoding: object = CONTENT_ENCODING,
) -> Envelope:
    """Read and check an envelope; raises MalformedMessage naming what is wrong.

    ``routing_key_received`` (None when the message did not come through an exchange) must
    be the routing key of the event version the headers name. Whether the event is known,
    its payload valid and its producer the right one is for the caller (it needs the
    registry: see eventbus.broker.inbox.read).
    """
    if content_type != CONTENT_TYPE:
        raise MalformedMessage(f"content type is {content_type!r}; it must be {CONTENT_TYPE!r}")
    if content_encoding not in (None, "", CONTENT_ENCODING):
        raise MalformedMessage(
            f"content encoding is {content_encoding!r}; it must be {CONTENT_ENCODING!r}"
        )
    if not isinstance(headers, dict):
        raise MalformedMessage("the message has no headers")
    event_id = _uuid(message_id, "message id")
    lengths = column_lengths()
    name = _header(headers, "x-event-name", max_length=lengths["name"], required=True)
    version = _version(headers)
    if routing_key_received is not None and routing_key_received != routing_key(name, version):
        raise MalformedMessage(
            f"routing key {routing_key_received[:255]!r} does not match x-event-name {name!r} "
            f"and x-event-version {version} (expected {routing_key(name, version)!r})"
        )
    occurred_at = _occurred_at(headers)
    producer = _header(headers, "x-producer", max_length=lengths["producer"], required=True)
    correlation_id = _header(
        headers, "x-correlation-id", max_length=lengths["correlation_id"], required=False
    )
    aggregate_id = _header(
        headers, "x-aggregate-id", max_length=lengths["aggregate_id"], required=False
    )
    causation = headers.get("x-causation-id", "")
    causation_id = _uuid(causation, "header x-causation-id") if causation != "" else None
    payload = _payload(body, max_bytes=max_bytes)
    return Envelope(
        event_id=event_id,
        name=name,
        version=version,
        occurred_at=occurred_at,
        producer=producer,
        correlation_id=correlation_id or event_id.hex,
        causation_id=causation_id,
        payload=payload,
        aggregate_id=aggregate_id,
        # Telemetry, not data: a malformed trace context is dropped, the message kept.
        traceparent=valid_traceparent(headers.get("traceparent")),
    )

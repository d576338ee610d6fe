"""The wire format of an envelope on the broker: JSON body, metadata in headers.

routing key   <event name>.v<version>       e.g. orders.order_placed.v1
message id    the event id
body          the payload as JSON (UTF-8)
headers       x-event-name, x-event-version, x-occurred-at, x-producer,
              x-correlation-id, x-causation-id, x-aggregate-id
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventbus.broker.topology import routing_key
from eventbus.envelope import Envelope
from eventbus.exceptions import EventBusError

CONTENT_TYPE = "application/json"


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
    body = json.dumps(envelope.payload, separators=(",", ":"), sort_keys=True).encode()
    return WireMessage(
        routing_key(envelope.name, envelope.version), str(envelope.event_id), body, headers
    )


def decode(message_id: str | None, body: bytes | str, headers: dict[str, Any] | None) -> Envelope:
    """Read an envelope; raises MalformedMessage naming what is wrong."""
    headers = headers or {}
    try:
        event_id = uuid.UUID(str(message_id))
    except ValueError:
        raise MalformedMessage(f"message id {message_id!r} is not a UUID") from None
    name = headers.get("x-event-name")
    if not isinstance(name, str) or not name:
        raise MalformedMessage("header x-event-name is missing")
    try:
        version = int(headers.get("x-event-version", ""))
        occurred_at = datetime.fromisoformat(str(headers.get("x-occurred-at", "")))
    except ValueError:
        raise MalformedMessage("header x-event-version or x-occurred-at is not valid") from None
    if occurred_at.tzinfo is None:
        raise MalformedMessage("header x-occurred-at has no time zone")
    causation = headers.get("x-causation-id") or None
    try:
        causation_id = uuid.UUID(str(causation)) if causation else None
    except ValueError:
        raise MalformedMessage(f"header x-causation-id {causation!r} is not a UUID") from None
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedMessage(f"body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise MalformedMessage("body is not a JSON object")
    return Envelope(
        event_id=event_id,
        name=name,
        version=version,
        occurred_at=occurred_at,
        producer=str(headers.get("x-producer") or name.split(".", 1)[0]),
        correlation_id=str(headers.get("x-correlation-id") or event_id.hex)[:64],
        causation_id=causation_id,
        payload=payload,
        aggregate_id=str(headers.get("x-aggregate-id") or "")[:100],
    )

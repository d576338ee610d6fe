"""The envelope every published event travels in: identity, provenance and payload."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventbus.contracts.upcasting import read_event
from eventbus.events import Event


@dataclass(frozen=True, slots=True)
class Envelope:
    event_id: uuid.UUID
    name: str
    version: int
    occurred_at: datetime
    producer: str
    correlation_id: str
    causation_id: uuid.UUID | None
    payload: dict[str, Any]
    aggregate_id: str = ""
    #: The W3C trace context of the span that published it, "" when tracing is off.
    traceparent: str = ""

    def event(self) -> Event:
        """The payload as an event of the newest registered version of its name, upcast
        from an older version when needed (eventbus.contracts.upcasting).

        Raises UnknownEventError (UpcastError when an upcaster is missing or fails) or
        pydantic.ValidationError when the payload cannot be read: bad data, not retried.
        """
        return read_event(self.name, self.version, self.payload)

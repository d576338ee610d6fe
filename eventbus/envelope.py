"""The envelope every published event travels in: identity, provenance and payload."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventbus.events import Event, event_class


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

    def event(self) -> Event:
        """Validate the payload into its event class; raises UnknownEventError or
        pydantic.ValidationError when the payload cannot be read."""
        return event_class(self.name, self.version).model_validate(self.payload)

"""Events and a recorder used by the bus's own tests (a module of no project's)."""

from typing import Any

from django.utils import timezone

from eventbus import Event
from eventbus.envelope import Envelope
from eventbus.ids import uuid7


class ThingHappened(Event):
    event_name = "samples.thing_happened"
    event_version = 1

    thing_id: int
    label: str = ""


class OtherThingHappened(Event):
    event_name = "samples.other_thing_happened"
    event_version = 1

    thing_id: int


class OrderedThingHappened(Event):
    event_name = "samples.ordered_thing_happened"
    event_version = 1
    aggregate_field = "thing_id"

    thing_id: int
    step: int


class ThingAnnounced(Event):
    """Externalised: sent to the broker even by the monolith, for other systems."""

    event_name = "samples.thing_announced"
    event_version = 1
    externalised = True

    thing_id: int


def thing_happened_envelope(payload: dict[str, Any], **fields: Any) -> Envelope:
    """An envelope of ThingHappened v1 as a broker would bring it (a new event id, now,
    from "samples", correlation id "c"); ``fields`` override any of those."""
    return Envelope(
        **{
            "event_id": uuid7(),
            "name": ThingHappened.event_name,
            "version": ThingHappened.event_version,
            "occurred_at": timezone.now(),
            "producer": "samples",
            "correlation_id": "c",
            "causation_id": None,
            "payload": payload,
            **fields,
        }
    )

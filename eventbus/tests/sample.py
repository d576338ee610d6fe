"""Events and a recorder used by the bus's own tests (a module of no project's)."""

from eventbus import Event


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

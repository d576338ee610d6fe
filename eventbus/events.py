"""Typed, versioned events: the Event base class and the registry of event classes."""

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

from eventbus.exceptions import EventDefinitionError, UnknownEventError

EVENT_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")

_registry: dict[tuple[str, int], type["Event"]] = {}


#: Validation context under which stored or received payloads are read: fields this
#: process does not know (added by a newer producer as optional) are ignored, not refused.
READING = {"eventbus_reading": True}


class _TolerantReader(BaseModel):
    """Refuses unknown fields when code builds an event (a typo fails at once), but ignores
    them when a payload is read under READING: adding an optional field to an event does
    not break a consumer that runs older code (split mode, rolling deploys)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _ignore_unknown_fields_when_reading(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and info.context and info.context.get("eventbus_reading"):
            known = cls.model_fields
            if any(key not in known for key in data):
                return {key: value for key, value in data.items() if key in known}
        return data


class Payload(_TolerantReader):
    """A nested value inside an event (an order line, an address): frozen; unknown fields
    are refused when built in code and ignored when read from a stored payload."""


class Event(_TolerantReader):
    """An immutable event: subclass it, set ``event_name`` and ``event_version``, add fields.

        class OrderPlaced(Event):
            event_name = "orders.order_placed"
            event_version = 1
            order_id: int

    The class is registered when it is defined; a second class with the same name and
    version raises EventDefinitionError at import time, so the clash fails start-up.
    Payload fields must be plain values (numbers, strings, Decimal, datetimes, UUIDs,
    lists and nested models of those): they travel as JSON.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_name: ClassVar[str]
    event_version: ClassVar[int] = 1
    #: The payload field naming the entity the event is about (e.g. "order_id"). Handlers
    #: subscribed with ``ordered=True`` get the events of one aggregate in publish order.
    aggregate_field: ClassVar[str | None] = None
    #: True when the event should reach the broker even in the monolith: the relay sends it
    #: to the exchange so other systems can subscribe (the catalogue and AsyncAPI show it).
    externalised: ClassVar[bool] = False
    #: True for the bus's own events (``eventbus.task_enqueued``): never published with
    #: publish(), never relayed or accepted from the broker, and left out of every listing
    #: of the modules' contracts (registered_events, the catalogue, the schema lock).
    internal: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "event_name" not in cls.__dict__:
            return  # an abstract intermediate base
        _register(cls)

    @classmethod
    def producer(cls) -> str:
        """The module that owns the event: the part of the name before the dot."""
        return cls.event_name.split(".", 1)[0]

    def aggregate_id(self) -> str:
        """The aggregate's id as text, or "" when the event names none."""
        if self.aggregate_field is None:
            return ""
        return str(getattr(self, self.aggregate_field))

    def payload(self) -> dict[str, Any]:
        """The fields as JSON-ready plain values."""
        return self.model_dump(mode="json")


def _register(cls: type[Event]) -> None:
    name, version = cls.event_name, cls.event_version
    if not isinstance(name, str) or not EVENT_NAME_PATTERN.fullmatch(name):
        raise EventDefinitionError(
            f"{cls.__qualname__}.event_name is {name!r}; use '<module>.<entity>_<past_verb>', "
            "e.g. 'orders.order_placed'."
        )
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise EventDefinitionError(
            f"{cls.__qualname__}.event_version is {version!r}; use a positive integer."
        )
    aggregate = cls.aggregate_field
    if aggregate is not None and aggregate not in cls.model_fields:
        raise EventDefinitionError(
            f"{cls.__qualname__}.aggregate_field is {aggregate!r}, which is not one of its "
            f"fields {sorted(cls.model_fields)}."
        )
    existing = _registry.get((name, version))
    if existing is not None and _qualified(existing) != _qualified(cls):
        raise EventDefinitionError(
            f"Event {name!r} version {version} is defined twice: by {_qualified(existing)} "
            f"and by {_qualified(cls)}. Bump the version of the new one."
        )
    _registry[(name, version)] = cls


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def event_class(name: str, version: int) -> type[Event]:
    """The class registered for (name, version); raises UnknownEventError if there is none."""
    try:
        return _registry[(name, version)]
    except KeyError:
        known = sorted({n for n, _ in _registry})
        raise UnknownEventError(
            f"No event class is registered for {name!r} version {version}. Known events: {known}."
        ) from None


def latest_event_class(name: str) -> type[Event]:
    """The class of the newest registered version of ``name``; raises UnknownEventError if
    no version of it is registered."""
    versions = [version for n, version in _registry if n == name]
    if not versions:
        return event_class(name, 1)  # raises, listing the known names
    return _registry[(name, max(versions))]


def registered_events() -> list[type[Event]]:
    """Every registered event class of the modules' contracts, sorted by name then version
    (the bus's internal events are left out; event_class() still finds them)."""
    return [_registry[key] for key in sorted(_registry) if not _registry[key].internal]

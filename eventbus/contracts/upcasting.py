"""Upcasters: functions that turn an old version's payload into the next version's.

    @upcaster("orders.order_placed", from_version=1)
    def order_placed_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
        return {**payload, "channel": "web"}

Register them beside the event classes, in the producer's ``events.py``: that module is
imported at start-up, so every upcaster is known before the first delivery. Stored rows and
broker messages of an old version are read through ``read_event``: upcast one step at a
time up to the newest registered version, then validated with that version's class.
"""

from collections.abc import Callable
from typing import Any

from eventbus.events import (
    EVENT_NAME_PATTERN,
    READING,
    Event,
    event_class,
    latest_event_class,
)
from eventbus.exceptions import EventDefinitionError, UpcastError

PayloadDict = dict[str, Any]
Upcaster = Callable[[PayloadDict], PayloadDict]

_upcasters: dict[tuple[str, int], Upcaster] = {}


def upcaster(name: str, *, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register the decorated function as the step ``from_version`` -> ``from_version + 1``
    of event ``name``. It receives a copy of the old payload and returns the new one.

    Raises EventDefinitionError for a malformed name or version, or when another function
    already upcasts that (name, from_version).
    """
    if not isinstance(name, str) or not EVENT_NAME_PATTERN.fullmatch(name):
        raise EventDefinitionError(
            f"@upcaster name is {name!r}; use the event's name, e.g. 'orders.order_placed'."
        )
    if not isinstance(from_version, int) or isinstance(from_version, bool) or from_version < 1:
        raise EventDefinitionError(
            f"@upcaster({name!r}) from_version is {from_version!r}; use a positive integer."
        )

    def register(func: Upcaster) -> Upcaster:
        existing = _upcasters.get((name, from_version))
        if existing is not None and _qualified(existing) != _qualified(func):
            raise EventDefinitionError(
                f"{name!r} v{from_version} -> v{from_version + 1} has two upcasters: "
                f"{_qualified(existing)} and {_qualified(func)}. Keep one."
            )
        _upcasters[(name, from_version)] = func
        return func

    return register


def _qualified(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def has_upcaster(name: str, from_version: int) -> bool:
    """True when a step from ``from_version`` of ``name`` is registered."""
    return (name, from_version) in _upcasters


def upcast(name: str, version: int, payload: PayloadDict, *, to_version: int) -> PayloadDict:
    """Run the upcasters of ``name`` from ``version`` up to ``to_version``, one step at a time.

    Returns the payload unchanged when the versions are equal. Raises UpcastError when a
    step has no upcaster, when an upcaster raises or returns something else than a dict,
    or when ``to_version`` is older than ``version`` (events are never downcast).
    """
    if to_version < version:
        raise UpcastError(
            f"{name!r} v{version} cannot be read as v{to_version}: events are never "
            f"downcast. Subscribe to the newest version, v{version}."
        )
    current = payload
    for step in range(version, to_version):
        func = _upcasters.get((name, step))
        if func is None:
            raise UpcastError(
                f"No upcaster turns {name!r} v{step} into v{step + 1}, so a v{version} "
                f"payload cannot be read as v{to_version}. Register one with "
                f"@upcaster({name!r}, from_version={step}) in the producer's events.py."
            )
        try:
            current = func(dict(current))
        except Exception as exc:
            raise UpcastError(
                f"The upcaster {_qualified(func)} ({name!r} v{step} -> v{step + 1}) failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(current, dict):
            raise UpcastError(
                f"The upcaster {_qualified(func)} returned {type(current).__name__}, "
                "not a dict payload."
            )
    return current


def read_event(name: str, version: int, payload: PayloadDict) -> Event:
    """The event a handler receives for a stored payload: the newest registered version.

    Raises UnknownEventError when no version of ``name`` (or a version newer than any
    registered) is known, UpcastError when the payload cannot be upcast, and
    pydantic.ValidationError when the (upcast) payload does not fit the newest class.
    """
    newest = latest_event_class(name)
    if version > newest.event_version:
        event_class(name, version)  # raises UnknownEventError naming the unknown version
    upcast_payload = upcast(name, version, payload, to_version=newest.event_version)
    return newest.model_validate(upcast_payload, context=READING)


def upcast_event(event: Event, to: type[Event]) -> Event:
    """``event`` as an instance of ``to`` (a newer version of the same name), upcast through
    its payload. Returns ``event`` itself when it already is one; raises UpcastError."""
    if type(event) is to:
        return event
    if event.event_name != to.event_name:
        raise UpcastError(
            f"{type(event).__name__} ({event.event_name!r}) cannot become {to.__name__} "
            f"({to.event_name!r}): upcasting keeps the event's name."
        )
    payload = upcast(
        event.event_name, event.event_version, event.payload(), to_version=to.event_version
    )
    return to.model_validate(payload, context=READING)

"""Consumer contracts: build an event from the producer's LOCKED schema, as a consumer sees it.

A subscriber's tests call ``event_from_schema(UserRegistered, user_id=7)`` instead of the
event's constructor: the payload is generated from ``events.schema.lock.json`` (what the
producer publishes), every required field filled with an example value, the overrides
applied, and the result read the way the bus reads a stored row (upcast to the newest
registered version, validated by its class). So when the producer renames, removes or
retypes a field, or adds a required one, the consumer's test fails, on the consumer's side.
"""

from pathlib import Path
from typing import Any, TypeVar, overload

from eventbus.contracts.schema_diff import Schema
from eventbus.contracts.schema_lock import LockedEvent, default_path, load
from eventbus.contracts.upcasting import read_event, upcast_event
from eventbus.events import Event
from eventbus.exceptions import UnknownEventError

E = TypeVar("E", bound=Event)

_FORMAT_EXAMPLES = {
    "date-time": "2026-01-01T12:00:00Z",
    "date": "2026-01-01",
    "time": "12:00:00",
    "uuid": "01890a5d-ac96-774b-bcce-b302099a8057",
    "email": "someone@example.com",
    "uri": "https://example.com/",
}


@overload
def event_from_schema(
    event: type[E],
    version: int | None = None,
    *,
    lock: Path | None = None,
    **overrides: Any,
) -> E: ...


@overload
def event_from_schema(
    event: str,
    version: int | None = None,
    *,
    lock: Path | None = None,
    **overrides: Any,
) -> Event: ...


def event_from_schema(
    event: type[Event] | str,
    version: int | None = None,
    *,
    lock: Path | None = None,
    **overrides: Any,
) -> Event:
    """An event built from the locked schema of ``event`` (a class or a name) at
    ``version`` (default: the newest locked version of that name), with ``overrides``
    replacing the example values of the payload's top-level fields.

    Given a class, the result is an instance of it, as a handler subscribed to that class
    receives it; given a name, of the newest registered class of that name.

    Raises SchemaLockError when the lock is missing, UnknownEventError when it has no such
    event or version, TypeError when an override names a field the locked schema does not
    have, and pydantic.ValidationError (or UpcastError) when the consumer's class cannot
    read the payload (UpcastError too when a newer version than the class is registered:
    subscribe to the newest).
    """
    name = event if isinstance(event, str) else event.event_name
    locked = load(lock or default_path())
    versions = sorted(v for n, v in locked if n == name)
    if not versions:
        raise UnknownEventError(
            f"{name!r} is not in the schema lock: its producer has not published it. "
            "Run `manage.py eventbus schema --write` if it is new."
        )
    chosen = versions[-1] if version is None else version
    if chosen not in versions:
        raise UnknownEventError(f"{name!r} v{chosen} is not in the schema lock ({versions}).")
    entry: LockedEvent = locked[(name, chosen)]
    properties = entry.schema.get("properties", {})
    unknown = sorted(set(overrides) - set(properties))
    if unknown:
        raise TypeError(
            f"{name} v{chosen} as locked by its producer has no field(s) {unknown}; "
            f"its fields are {sorted(properties)}. The producer's contract changed."
        )
    payload = {**example_payload(entry.schema), **overrides}
    read = read_event(name, chosen, payload)
    return read if isinstance(event, str) else upcast_event(read, event)


def example_payload(schema: Schema) -> dict[str, Any]:
    """An example value for each required property of an object schema (with ``$defs``)."""
    value = _example(schema, schema, "")
    assert isinstance(value, dict)
    return value


def _example(root: Schema, node: Schema, name: str) -> Any:
    while "$ref" in node:
        node = {**root["$defs"][node["$ref"].removeprefix("#/$defs/")], **node}
        node.pop("$ref")
    if node.get("examples"):
        return node["examples"][0]
    if "const" in node:
        return node["const"]
    if node.get("enum"):
        return node["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in node:
            branches = [b for b in node[key] if b.get("type") != "null"] or node[key]
            return _example(root, branches[0], name)
    kind = node.get("type", "object" if "properties" in node else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props: Schema = node.get("properties", {})
        return {p: _example(root, props[p], p) for p in node.get("required", []) if p in props}
    if kind == "array":
        count = max(1, node.get("minItems", 1))
        items = node.get("items", {})
        return [_example(root, items, name) for _ in range(count)]
    if kind == "integer":
        return max(1, int(node.get("minimum", 1)))
    if kind == "number":
        return max(1, node.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string_example(node, name)


def _string_example(node: Schema, name: str) -> str:
    if node.get("format") in _FORMAT_EXAMPLES:
        return _FORMAT_EXAMPLES[node["format"]]
    if "email" in name:
        return "someone@example.com"
    text = f"example-{name}" if name else "example"
    text = text.ljust(node.get("minLength", 0), "x")
    return text[: node["maxLength"]] if "maxLength" in node else text

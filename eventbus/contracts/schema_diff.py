"""Breaking changes between two JSON Schemas of one event version.

A change is breaking when a payload the old schema accepted (a stored outbox row, a message
on the broker, a consumer's expectation) may no longer be accepted, or when a payload valid
under the old schema may be missing something the new one requires:

- a field removed (or renamed: the old name is gone),
- a field's type changed (``string`` -> ``integer``) or narrowed (``integer | null`` ->
  ``integer``, Decimal's ``number | string`` -> ``string``),
- a constraint added or tightened (``format``, ``pattern``, ``maxLength`` lowered, ...),
- a required field added, or an optional field made required,
- an enum (or Literal) value removed.

Adding an optional field, widening a type (``integer`` -> ``integer | null`` or
``number``), adding an enum value and editing titles, descriptions or defaults are not.
Nested models (``$defs`` / ``$ref``), lists, dicts and unions are compared field by field;
the path of a nested field reads ``lines[].unit_price``.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]

# Keywords whose growing value accepts fewer payloads, and those whose shrinking value does.
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_EXACT = ("format", "pattern", "multipleOf", "uniqueItems")


@dataclass(frozen=True)
class Change:
    """One breaking change: where (a field path, ``""`` for the event itself) and why."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


def breaking_changes(old: Schema, new: Schema) -> list[Change]:
    """Every breaking change from ``old`` to ``new`` (both whole documents, with their
    ``$defs``), in field order; empty when ``new`` is a compatible evolution of ``old``."""
    return list(_Comparison(old, new).node("", old, new))


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.roots = (old_root, new_root)
        self.active: set[tuple[str, str]] = set()

    def node(self, path: str, old: Schema, new: Schema) -> Iterator[Change]:
        key = (old.get("$ref", ""), new.get("$ref", ""))
        if key[0] and key[1]:
            if key in self.active:  # a recursive model: this pair is being compared already
                return
            self.active.add(key)
        try:
            yield from self._compare(path, old, new)
        finally:
            self.active.discard(key)

    def _compare(self, path: str, old: Schema, new: Schema) -> Iterator[Change]:
        old_alts = _alternatives(self.roots[0], old)
        new_alts = _alternatives(self.roots[1], new)
        old_types, new_types = _types(old_alts), _types(new_alts)
        lost = sorted(t for t in old_types if not _covered(t, new_types))
        if lost:
            narrowed = all(_covered(t, old_types) for t in new_types)
            verb = "narrowed" if narrowed else "changed"
            yield Change(path, f"type {verb} from {_show(old_types)} to {_show(new_types)}")
            return
        yield from _enum_changes(path, old_alts, new_alts)
        for kind in sorted(old_types):
            old_alt = _first_of_type(old_alts, kind)
            new_alt = _first_of_type(new_alts, kind)
            if new_alt is None and kind == "integer":
                new_alt = _first_of_type(new_alts, "number")  # widened to number
            if old_alt is None or new_alt is None:
                continue
            yield from _constraint_changes(path, old_alt, new_alt)
            if kind == "object":
                yield from self.object(path, old_alt, new_alt)
            elif kind == "array":
                yield from self.array(path, old_alt, new_alt)

    def object(self, path: str, old: Schema, new: Schema) -> Iterator[Change]:
        old_props: Schema = old.get("properties", {})
        new_props: Schema = new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        prefix = f"{path}." if path else ""
        for name in sorted(old_props.keys() | new_props.keys()):
            field = f"{prefix}{name}"
            if name not in new_props:
                yield Change(field, "field removed (or renamed)")
            elif name not in old_props:
                if name in new_required:
                    yield Change(field, "required field added")
            else:
                if name in new_required and name not in old_required:
                    yield Change(field, "optional field made required")
                yield from self.node(field, old_props[name], new_props[name])
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, dict) and isinstance(new_extra, dict):
            yield from self.node(f"{path}{{}}", old_extra, new_extra)
        elif isinstance(old_extra, dict) and new_extra is False:
            yield Change(path, "no longer accepts the keys it accepted")

    def array(self, path: str, old: Schema, new: Schema) -> Iterator[Change]:
        old_items, new_items = old.get("items"), new.get("items")
        if isinstance(old_items, dict) and isinstance(new_items, dict):
            yield from self.node(f"{path}[]", old_items, new_items)
        old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
        for index, (o, n) in enumerate(zip(old_prefix, new_prefix, strict=False)):
            yield from self.node(f"{path}[{index}]", o, n)
        if len(new_prefix) > len(old_prefix):
            yield Change(path, f"tuple grew from {len(old_prefix)} to {len(new_prefix)} items")


def _resolve(root: Schema, node: Schema) -> Schema:
    """``node`` with its ``$ref`` (to ``#/$defs/...``) replaced by the definition."""
    while "$ref" in node:
        ref: str = node["$ref"]
        if not ref.startswith("#/$defs/"):
            raise ValueError(f"Only local '#/$defs/...' references are supported, got {ref!r}.")
        target = root.get("$defs", {})[ref.removeprefix("#/$defs/")]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _alternatives(root: Schema, node: Schema) -> list[Schema]:
    """The branches a value may take: anyOf/oneOf flattened, references resolved."""
    node = _resolve(root, node)
    branches = node.get("anyOf") or node.get("oneOf")
    if branches:
        return [alt for branch in branches for alt in _alternatives(root, branch)]
    all_of = node.get("allOf")
    if all_of and len(all_of) == 1:
        return _alternatives(root, {**all_of[0], **{k: v for k, v in node.items() if k != "allOf"}})
    return [node]


_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}


def _types_of(alt: Schema) -> set[str]:
    declared = alt.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    values = alt.get("enum", [alt["const"]] if "const" in alt else None)
    if values is not None:
        return {_JSON_TYPES.get(type(v), "object") for v in values}
    if "properties" in alt:
        return {"object"}
    return {"any"}


def _types(alts: list[Schema]) -> set[str]:
    return {t for alt in alts for t in _types_of(alt)}


def _covered(kind: str, types: set[str]) -> bool:
    return kind in types or "any" in types or (kind == "integer" and "number" in types)


def _show(types: set[str]) -> str:
    return " | ".join(sorted(types))


def _first_of_type(alts: list[Schema], kind: str) -> Schema | None:
    return next((alt for alt in alts if kind in _types_of(alt)), None)


def _enum_values(alts: list[Schema]) -> list[Any] | None:
    """The allowed values when every branch is an enum or a const (None: any value)."""
    values: list[Any] = []
    for alt in alts:
        if "enum" in alt:
            values.extend(alt["enum"])
        elif "const" in alt:
            values.append(alt["const"])
        elif alt.get("type") != "null":
            return None
    return values


def _enum_changes(path: str, old_alts: list[Schema], new_alts: list[Schema]) -> Iterator[Change]:
    old_values, new_values = _enum_values(old_alts), _enum_values(new_alts)
    if new_values is None:
        return
    if old_values is None:
        yield Change(path, f"narrowed to the values {new_values!r}")
        return
    removed = [v for v in old_values if v not in new_values]
    if removed:
        yield Change(path, f"enum value(s) removed: {removed!r}")


def _constraint_changes(path: str, old: Schema, new: Schema) -> Iterator[Change]:
    for keyword in _LOWER_BOUNDS + _UPPER_BOUNDS + _EXACT:
        if keyword not in new or old.get(keyword) == new[keyword]:
            continue
        before = old.get(keyword)
        if before is not None and keyword in _LOWER_BOUNDS and new[keyword] < before:
            continue  # loosened
        if before is not None and keyword in _UPPER_BOUNDS and new[keyword] > before:
            continue  # loosened
        shown = "absent" if before is None else repr(before)
        yield Change(path, f"{keyword} changed from {shown} to {new[keyword]!r}")

"""The schema lock: every event version's JSON Schema in one committed file, and the gate.

The lock (``events.schema.lock.json`` at the project root, beside ``settings.BASE_DIR``) is
what the producers publish: one entry per (name, version) with its producer and the JSON
Schema pydantic generates for the class (validation mode: what a reader accepts). It is
written by ``manage.py eventbus schema --write`` and compared with the code by
``--check``, which fails on a breaking change to a locked version (see schema_diff).
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from eventbus.contracts.schema_diff import Schema, breaking_changes
from eventbus.contracts.upcasting import has_upcaster
from eventbus.events import Event, registered_events
from eventbus.exceptions import SchemaLockError

LOCK_FILENAME = "events.schema.lock.json"
GENERATED_BY = "manage.py eventbus schema --write (do not edit by hand)"

Key = tuple[str, int]


@dataclass(frozen=True)
class LockedEvent:
    name: str
    version: int
    producer: str
    schema: Schema

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "producer": self.producer,
            "schema": self.schema,
        }


@dataclass
class LockComparison:
    """``breaking``: changes the gate refuses; ``pending``: compatible differences that
    ``--write`` records (a new version, an added optional field, ...)."""

    breaking: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


def default_path() -> Path:
    """The lock file beside the project: ``settings.BASE_DIR`` (else the working directory)."""
    return Path(getattr(settings, "BASE_DIR", Path.cwd())) / LOCK_FILENAME


def event_schema(cls: type[Event]) -> Schema:
    """The JSON Schema of an event class, normalised to plain sorted JSON."""
    schema: Schema = json.loads(json.dumps(cls.model_json_schema(), sort_keys=True))
    return schema


def from_code(events: list[type[Event]] | None = None) -> dict[Key, LockedEvent]:
    """What the lock would hold for ``events`` (default: every registered event class)."""
    classes = registered_events() if events is None else events
    return {
        (cls.event_name, cls.event_version): LockedEvent(
            cls.event_name, cls.event_version, cls.producer(), event_schema(cls)
        )
        for cls in classes
    }


def render(entries: dict[Key, LockedEvent]) -> str:
    """The lock file's text: entries sorted by name then version, keys sorted, 2-space indent."""
    document = {
        "generated_by": GENERATED_BY,
        "events": [entries[key].as_dict() for key in sorted(entries)],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load(path: Path) -> dict[Key, LockedEvent]:
    """Read a lock file; raises SchemaLockError when it is missing or malformed."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return {
            (entry["name"], entry["version"]): LockedEvent(
                entry["name"], entry["version"], entry["producer"], entry["schema"]
            )
            for entry in document["events"]
        }
    except FileNotFoundError:
        raise SchemaLockError(
            f"The schema lock {path} does not exist; create it with "
            "`manage.py eventbus schema --write` and commit it."
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise SchemaLockError(
            f"The schema lock {path} is malformed ({type(exc).__name__}: {exc}); "
            "regenerate it with `manage.py eventbus schema --write`."
        ) from exc


def compare(locked: dict[Key, LockedEvent], current: dict[Key, LockedEvent]) -> LockComparison:
    """Compare the lock with the code, version by version.

    Breaking: a locked version whose schema changed incompatibly, and a locked version no
    longer defined whose stored messages no upcaster reads. Everything else that differs
    is pending (compatible; ``--write`` records it).
    """
    result = LockComparison()
    for key in sorted(locked.keys() | current.keys()):
        name, version = key
        label = f"{name} v{version}"
        old, new = locked.get(key), current.get(key)
        if new is None:
            assert old is not None
            if has_upcaster(name, version):
                result.pending.append(f"{label}: removed from the code (upcast when read)")
            else:
                result.breaking.append(
                    f"{label}: removed from the code, so its stored messages cannot be read. "
                    f"Restore the class, or add @upcaster({name!r}, from_version={version})."
                )
            continue
        if old is None:
            result.pending.append(f"{label}: new, not in the lock yet")
            continue
        changes = breaking_changes(old.schema, new.schema)
        for change in changes:
            subject = f"field {change.field!r}" if change.field else "the payload"
            result.breaking.append(
                f"{label}: {subject}: {change.reason}. This breaks readers of v{version}: "
                f"undo it, or publish it as v{version + 1} with an upcaster from v{version}."
            )
        if not changes and old != new:
            result.pending.append(f"{label}: compatible change (e.g. an optional field added)")
    return result

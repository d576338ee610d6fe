"""event_from_schema: events built from the producer's locked schema, read as a consumer."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from pydantic import ValidationError

from eventbus import Event, UnknownEventError, UpcastError, upcaster
from eventbus.contracts.consumer import example_payload
from eventbus.testing import event_from_schema, isolated_event_registry
from eventbus_tests.sample import ThingHappened


@pytest.fixture
def lock(tmp_path: Path) -> Path:
    path = tmp_path / "lock.json"
    call_command("eventbus", "schema", "--write", "--lock", str(path))
    return path


def edit_locked_schema(lock: Path, name: str, edit) -> None:
    document = json.loads(lock.read_text())
    entry = next(e for e in document["events"] if e["name"] == name)
    edit(entry["schema"])
    lock.write_text(json.dumps(document))


def test_builds_the_event_with_examples_for_required_fields_and_overrides(lock):
    event = event_from_schema(ThingHappened, lock=lock, thing_id=42)

    assert event == ThingHappened(thing_id=42)


def test_examples_cover_nested_models_formats_enums_and_unions():
    schema = {
        "type": "object",
        "required": ["id", "at", "kind", "price", "lines", "maybe", "email"],
        "properties": {
            "id": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "kind": {"enum": ["a", "b"]},
            "price": {"anyOf": [{"type": "number"}, {"type": "string"}]},
            "lines": {"type": "array", "items": {"$ref": "#/$defs/Line"}},
            "maybe": {"anyOf": [{"type": "null"}, {"type": "string", "examples": ["hi"]}]},
            "email": {"type": "string"},
            "optional": {"type": "string", "default": ""},
        },
        "$defs": {
            "Line": {
                "type": "object",
                "required": ["sku"],
                "properties": {"sku": {"type": "string", "maxLength": 5}},
            }
        },
    }

    assert example_payload(schema) == {
        "id": 1,
        "at": "2026-01-01T12:00:00Z",
        "kind": "a",
        "price": 1,
        "lines": [{"sku": "examp"}],
        "maybe": "hi",
        "email": "someone@example.com",
    }


def test_a_renamed_field_fails_the_consumer_test(lock):
    def rename(schema: dict) -> None:
        schema["properties"]["id"] = schema["properties"].pop("thing_id")
        schema["required"] = ["id"]

    edit_locked_schema(lock, "samples.thing_happened", rename)

    with pytest.raises(TypeError) as raised:
        event_from_schema(ThingHappened, lock=lock, thing_id=42)

    assert str(raised.value) == (
        "samples.thing_happened v1 as locked by its producer has no field(s) ['thing_id']; "
        "its fields are ['id', 'label']. The producer's contract changed."
    )
    with pytest.raises(ValidationError, match="thing_id"):
        event_from_schema(ThingHappened, lock=lock)  # the consumer's class cannot read it


def test_a_retyped_field_fails_the_consumer_test(lock):
    def retype(schema: dict) -> None:
        schema["properties"]["thing_id"] = {"type": "string", "format": "uuid"}

    edit_locked_schema(lock, "samples.thing_happened", retype)

    with pytest.raises(ValidationError, match="thing_id"):
        event_from_schema("samples.thing_happened", lock=lock)


def test_an_event_the_producer_never_locked_is_unknown(lock):
    with pytest.raises(UnknownEventError, match=r"'samples\.never' is not in the schema lock"):
        event_from_schema("samples.never", lock=lock)
    with pytest.raises(UnknownEventError, match=r"v9 is not in the schema lock \(\[1\]\)"):
        event_from_schema(ThingHappened, 9, lock=lock)


def test_a_class_is_read_as_its_handler_receives_it(lock):
    """Given a class, the event is an instance of it; given an older version than the newest
    registered, it fails as the delivery to a handler of that class would."""
    with isolated_event_registry():

        class ThingHappenedV2(Event):
            event_name = "samples.thing_happened"
            event_version = 2

            thing_id: int
            title: str

        @upcaster("samples.thing_happened", from_version=1)
        def v1_to_v2(payload: dict) -> dict:
            return {"thing_id": payload["thing_id"], "title": payload.get("label", "")}

        newest = event_from_schema(ThingHappenedV2, lock=lock, thing_id=42, label="x")
        assert newest == ThingHappenedV2(thing_id=42, title="x")
        with pytest.raises(UpcastError, match=r"v2 cannot be read as v1: events are never"):
            event_from_schema(ThingHappened, lock=lock, thing_id=42)

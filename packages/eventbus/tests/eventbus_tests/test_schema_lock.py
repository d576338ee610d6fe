"""`eventbus schema --write / --check`: the committed lock and the breaking-change gate."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from eventbus import Event, events, upcaster
from eventbus.contracts.schema_lock import LOCK_FILENAME
from eventbus.testing import isolated_event_registry
from eventbus_tests.sample import ThingHappened

NAME = "samples.thing_happened"


def replace_thing_happened(defaults: dict | None = None, **fields: object) -> type[Event]:
    """Swap the code of samples.thing_happened v1 for a class with ``fields`` (call inside
    isolated_event_registry)."""
    assert events._registry.pop((NAME, 1)) is ThingHappened
    namespace = {"event_name": NAME, "event_version": 1, "__annotations__": fields}
    return type("ThingHappened", (Event,), namespace | (defaults or {}))


@pytest.fixture
def lock(tmp_path: Path) -> Path:
    path = tmp_path / LOCK_FILENAME
    call_command("eventbus", "schema", "--write", "--lock", str(path))
    return path


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    call_command("eventbus", "schema", "--check", "--lock", str(path))
    return capsys.readouterr().out


def test_write_puts_every_event_version_in_one_sorted_document(lock):
    document = json.loads(lock.read_text())
    keys = [(e["name"], e["version"]) for e in document["events"]]

    assert keys == sorted(keys)
    assert (NAME, 1) in keys
    thing = next(e for e in document["events"] if e["name"] == NAME)
    assert thing["producer"] == "samples"
    assert thing["schema"]["required"] == ["thing_id"]
    assert lock.read_text() == json.dumps(document, indent=2, sort_keys=True) + "\n"


def test_check_passes_when_the_code_matches_the_lock(lock, capsys):
    assert check(lock, capsys).endswith(f"event versions match {LOCK_FILENAME}.\n")


def test_removing_a_field_fails_the_check_naming_event_and_field(lock, capsys):
    with isolated_event_registry():
        replace_thing_happened(thing_id=int)

        with pytest.raises(CommandError) as raised:
            check(lock, capsys)

    assert str(raised.value) == (
        f"1 breaking change(s) to locked event versions ({lock}):\n"
        "  - samples.thing_happened v1: field 'label': field removed (or renamed). This breaks "
        "readers of v1: undo it, or publish it as v2 with an upcaster from v1."
    )


def test_changing_a_type_or_adding_a_required_field_fails_the_check(lock, capsys):
    with isolated_event_registry():
        replace_thing_happened({"label": ""}, thing_id=str, label=str, size=int)

        with pytest.raises(CommandError) as raised:
            check(lock, capsys)

    lines = str(raised.value).splitlines()
    assert lines[0].startswith("2 breaking change(s)")
    assert lines[1].startswith("  - samples.thing_happened v1: field 'size': required field added.")
    assert lines[2].startswith(
        "  - samples.thing_happened v1: field 'thing_id': type changed from integer to string."
    )


def test_an_optional_field_passes_and_write_changes_only_that_entry(lock, capsys):
    before = json.loads(lock.read_text())
    with isolated_event_registry():
        replace_thing_happened(
            {"label": "", "colour": None}, thing_id=int, label=str, colour=str | None
        )

        out = check(lock, capsys)
        assert out.splitlines() == [
            "No breaking change. The lock is behind the code; record it with "
            "`manage.py eventbus schema --write`:",
            "  - samples.thing_happened v1: compatible change (e.g. an optional field added)",
        ]
        call_command("eventbus", "schema", "--write", "--lock", str(lock))

    after = json.loads(lock.read_text())
    changed = [
        (a["name"], a["version"])
        for a, b in zip(after["events"], before["events"], strict=True)
        if a != b
    ]
    assert changed == [(NAME, 1)]
    assert (
        "colour"
        in after["events"][[e["name"] for e in after["events"]].index(NAME)]["schema"]["properties"]
    )


def test_a_version_bump_passes_and_write_adds_the_new_version(lock, capsys):
    with isolated_event_registry():

        class ThingHappenedV2(Event):
            event_name = NAME
            event_version = 2

            thing_id: str

        out = check(lock, capsys)
        assert "  - samples.thing_happened v2: new, not in the lock yet" in out.splitlines()


def test_write_refuses_a_breaking_change_unless_allowed(lock, capsys):
    before = lock.read_text()
    with isolated_event_registry():
        replace_thing_happened(thing_id=int)

        with pytest.raises(CommandError, match="field 'label': field removed"):
            call_command("eventbus", "schema", "--write", "--lock", str(lock))
        assert lock.read_text() == before

        call_command("eventbus", "schema", "--write", "--lock", str(lock), "--allow-breaking")

    assert lock.read_text() != before


def test_removing_a_locked_version_is_breaking_unless_an_upcaster_reads_it(lock, capsys):
    with isolated_event_registry():
        events._registry.pop((NAME, 1))

        class ThingHappenedV2(Event):
            event_name = NAME
            event_version = 2

            thing_id: int

        with pytest.raises(
            CommandError, match=r"samples\.thing_happened v1: removed from the code"
        ):
            check(lock, capsys)

        @upcaster(NAME, from_version=1)
        def drop_label(payload: dict) -> dict:
            return {"thing_id": payload["thing_id"]}

        out = check(lock, capsys)

    assert "  - samples.thing_happened v1: removed from the code (upcast when read)" in out


def test_check_without_a_lock_says_how_to_make_one(tmp_path):
    missing = tmp_path / "none.json"
    with pytest.raises(CommandError) as raised:
        call_command("eventbus", "schema", "--check", "--lock", str(missing))

    assert str(raised.value) == (
        f"The schema lock {missing} does not exist; create it with "
        "`manage.py eventbus schema --write` and commit it."
    )

"""The typed public surface of the bus: what mypy sees is what the code does."""

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, assert_type

from mypy.main import define_options
from mypy.options import PER_MODULE_OPTIONS

from eventbus import Event
from eventbus.testing import event_from_schema
from orders.events import OrderPlaced

ROOT = Path(__file__).resolve().parent.parent

BEFORE_SETUP = """
import sys
from eventbus import Event, publish
import accounts.events, orders.events
from eventbus.publishing import publish as defined
assert publish is defined
print(sorted(m for m in ("django.apps.registry", "eventbus.models") if m in sys.modules))
"""


def run_before_setup(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with no DJANGO_SETTINGS_MODULE."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": "", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_events_modules_and_publish_import_before_django_is_set_up():
    """publish() is a plain import of eventbus, yet importing it loads no model: an events
    module can `from eventbus import Event` before the app registry exists."""
    done = run_before_setup(BEFORE_SETUP)

    assert done.stderr == ""
    assert done.stdout == "[]\n"


def test_the_check_would_catch_an_import_of_the_models():
    """Not vacuous: the same run fails when something on the way imports the models."""
    done = run_before_setup("import eventbus.storage.portable\n" + BEFORE_SETUP)

    assert done.returncode == 1
    assert "ImproperlyConfigured: Requested setting" in done.stderr
    assert done.stdout == ""


def test_event_from_schema_returns_the_class_it_is_given() -> None:
    """mypy checks the assert_type calls: the helper is generic in the event class."""
    placed = event_from_schema(OrderPlaced, order_id=7)
    by_name = event_from_schema("orders.order_placed", order_id=7)

    assert_type(placed, OrderPlaced)
    assert_type(by_name, Event)
    assert type(placed) is OrderPlaced
    assert placed.order_id == 7
    assert by_name == placed


def missing_strict_flags(mypy_config: dict[str, Any]) -> dict[str, bool]:
    """The flags --strict sets that the eventbus override (or the global section, for a
    flag it sets for every module) leaves unset, with the value strict mode gives them."""
    _, _, strict = define_options()
    bus = next(o for o in mypy_config["overrides"] if "eventbus" in o["module"])
    effective = {**mypy_config, **bus}
    return {
        flag: value
        for flag, value in strict
        if flag in PER_MODULE_OPTIONS and effective.get(flag) != value
    }


def test_the_bus_is_checked_with_every_flag_of_strict_mode() -> None:
    """mypy reads `strict = true` only globally, so pyproject.toml lists the per-module flags
    of --strict for eventbus; when a mypy upgrade adds one, this names it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]

    assert missing_strict_flags(config) == {}


def test_the_strict_flags_check_would_catch_a_missing_flag() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    bus = next(o for o in config["overrides"] if "eventbus" in o["module"])
    del bus["implicit_reexport"]

    assert missing_strict_flags(config) == {"implicit_reexport": False}

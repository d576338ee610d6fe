"""The typed public surface of the bus: what mypy sees is what the code does."""

import subprocess
import sys
from pathlib import Path
from typing import assert_type

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

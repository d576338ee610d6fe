"""The typed public surface of the bus: what mypy sees is what the code does."""

import subprocess
import sys
from pathlib import Path

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
    done = run_before_setup("import eventbus.store\n" + BEFORE_SETUP)

    assert done.returncode == 1
    assert "ImproperlyConfigured: Requested setting" in done.stderr
    assert done.stdout == ""

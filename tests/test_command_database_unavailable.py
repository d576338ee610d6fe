"""`manage.py eventbus <action>` when the database cannot be reached: one line saying so and
exit status 1, not a traceback. Real processes against a PostgreSQL that is not there (a
closed port), so no server is needed. (On SQLite, a file that cannot be opened fails in
Django's own system checks, before any command runs.)"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def eventbus(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": database_url,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "eventbus", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    "action",
    [
        ["stats"],
        [
            "replay",
            "--event",
            "orders.order_placed",
            "--handler",
            "accounts.handlers.record_order_placed",
        ],
        ["dead-letters", "list"],
    ],
)
def test_an_eventbus_action_says_the_postgresql_database_is_unavailable(action):
    result = eventbus(f"postgres://postgres@127.0.0.1:{closed_port()}/nowhere", *action)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(
        f"CommandError: eventbus {action[0]}: the database is unavailable ("
    )
    assert "Connection refused" in result.stderr
    assert result.stderr.rstrip().endswith(
        "What was committed before stays; run the command again when it is back."
    )

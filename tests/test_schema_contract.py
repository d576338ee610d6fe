"""The OpenAPI schema as a contract: schemathesis against the served API finds no failure.

The monolith is served by gunicorn on a throwaway SQLite database with the demo data, once
under the test settings (DEBUG off, as in production) and once under the development
settings ``make run`` uses (DEBUG on, where Django answers its technical pages unless
config.errors turns them into JSON; the data-ownership guard on; real password hashing, so
that run is the slower). Django's development and live-test servers don't read chunked
request bodies, which schemathesis sends, so they desynchronise the connection: gunicorn
serves both. schemathesis's CLI runs every phase (examples, coverage, fuzzing, stateful)
with the checks below against the schema the server serves, authenticated as the demo
customer. Generation is deterministic and bounded per operation, so a run is repeatable;
the whole takes about two minutes and a quarter. Deactivating the account ends the
customer's session, so that operation runs alone, last.

Run by ``make test-schema`` (in CI after ``make test``), not by ``make test``.
"""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.management.commands.load_demo_data import CUSTOMER
from tests.support.http import http
from tests.support.processes import gunicorn_serving
from tools.split import run

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "ignored_auth",
]
PHASES = ["examples", "coverage", "fuzzing", "stateful"]
MAX_EXAMPLES = 30
DEACTIVATE = "/api/accounts/me/deactivate/"
PRODUCTS = "/api/orders/products/"
SCHEMATHESIS = Path(sys.executable).parent / "st"
#: The settings modules the API is served under: production's behaviour, then ``make run``'s.
SERVED_SETTINGS = ["config.settings.test", "config.settings.dev"]

pytestmark = pytest.mark.schema


@pytest.fixture(scope="module")
def served_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The monolith under gunicorn with the settings module a test names (indirect
    parametrisation) on a fresh SQLite database with the demo data: its URL."""
    tmp_path = tmp_path_factory.mktemp("served_api")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": request.param,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'api.sqlite3'}",
        "EVENTBUS_TRANSPORT": "local",
        "EVENTBUS_DELIVERY": "inline",
    }
    run(["manage.py", "migrate", "--no-input", "-v0"], env=env, timeout=120)
    run(["manage.py", "load_demo_data", "--quiet"], env=env, timeout=120)
    with gunicorn_serving("api", env, ready_status=200, what="gunicorn serves the API") as (url, _):
        yield url


def schemathesis(*arguments: str, cwd: Path) -> tuple[int, str]:
    """Run schemathesis with the project's bounds: its exit code and its report."""
    command = [
        str(SCHEMATHESIS),
        "run",
        *arguments,
        f"--max-examples={MAX_EXAMPLES}",
        "--generation-deterministic",
        "--workers=1",
        "--request-timeout=10",
        "--no-color",
    ]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("served_api", SERVED_SETTINGS, indirect=True)
def test_the_api_conforms_to_its_schema(served_api: str, tmp_path: Path) -> None:
    # given the demo customer's access token
    username, _, password = CUSTOMER
    login = http(
        "POST", f"{served_api}/api/accounts/login/", {"username": username, "password": password}
    )
    assert login.status == 200, login
    token = login.body["access"]

    every_check = [
        f"{served_api}/api/schema/",
        f"--checks={','.join(CHECKS)}",
        f"--phases={','.join(PHASES)}",
        f"--header=Authorization: Bearer {token}",
    ]

    # when schemathesis runs every operation but the deactivation, then that one
    everything_else = schemathesis(*every_check, f"--exclude-path={DEACTIVATE}", cwd=tmp_path)
    deactivation = schemathesis(*every_check, f"--include-path={DEACTIVATE}", cwd=tmp_path)

    # then no check failed and nothing errored, in any phase, and every operation ran
    assert everything_else[0] == 0, everything_else[1]
    selected, total = operations(everything_else[1])
    assert selected == total - 1
    assert deactivation[0] == 0, deactivation[1]
    assert operations(deactivation[1])[0] == 1


@pytest.mark.parametrize("served_api", SERVED_SETTINGS[:1], indirect=True)
def test_the_run_fails_on_a_planted_undocumented_status(served_api: str, tmp_path: Path) -> None:
    # given the served schema without the catalogue's 404 for a page that is not a number
    schema = http("GET", f"{served_api}/api/schema/?format=json").body
    del schema["paths"][PRODUCTS]["get"]["responses"]["404"]
    planted = tmp_path / "planted-schema.json"
    planted.write_text(json.dumps(schema))

    # when
    code, report = schemathesis(
        str(planted),
        f"--url={served_api}",
        "--checks=status_code_conformance",
        "--phases=coverage",
        f"--include-path={PRODUCTS}",
        cwd=tmp_path,
    )

    # then
    assert code == 1, report
    assert "Undocumented status code" in report
    assert "Received: 404" in report


def operations(report: str) -> tuple[int, int]:
    """How many operations a run selected, of how many in the schema."""
    match = re.search(r"Operations:\s+(\d+) selected / (\d+) total", report)
    assert match, report
    return int(match[1]), int(match[2])

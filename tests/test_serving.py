"""Served like production: gunicorn with gunicorn.conf.py on the production settings.

Each test starts the WSGI app under gunicorn (a free port on 127.0.0.1, a throwaway SQLite
database, ``collectstatic`` into a temporary STATIC_ROOT first), as ``make serve`` does:
- whitenoise serves the admin's, the browsable API's and Swagger UI's files, and the
  pages name them by their hashed names;
- DRF's register throttle and django-axes' login lockout hold across two workers, with the
  database cache and with Redis. Each request opens a new connection, and the access log
  (which carries the worker's pid and the correlation id) shows both workers served them.
"""

import os
import re
import secrets
import shutil
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.databases import poll
from tests.support.http import Response, http
from tests.support.processes import client_ports, gunicorn_serving
from tools.split import Processes, run

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REGISTER = "/api/accounts/register/"
LOGIN = "/api/accounts/login/"
PASSWORD = "correct-horse-battery"
ACCESS_LINE = re.compile(r"pid=<(?P<pid>\d+)> correlation_id=(?P<correlation>\S+)")


def production_env(tmp_path: Path, **environment: str) -> dict[str, str]:
    """The environment of the production settings on plain HTTP at 127.0.0.1, with a
    database and a STATIC_ROOT under ``tmp_path``; no Redis unless ``environment`` says so."""
    inherited = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CACHE_KEY_PREFIX"}}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'served.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "EVENTBUS_TRANSPORT": "local",
        "EVENTBUS_DELIVERY": "inline",
        "PYTHONUNBUFFERED": "1",
        **environment,
    }


@pytest.fixture(scope="module")
def set_up(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Set up once, as ``make serve`` does: migrate (which makes the cache table too) and
    collectstatic. Each test serves a copy of the database and the same static files."""
    root = tmp_path_factory.mktemp("serving")
    env = production_env(root)
    run(["manage.py", "migrate", "--no-input", "-v0"], env=env, timeout=120)
    run(["manage.py", "collectstatic", "--no-input", "-v0"], env=env, timeout=120)
    return root


@contextmanager
def served(
    set_up: Path, tmp_path: Path, *, workers: int, **environment: str
) -> Iterator[tuple[str, Processes]]:
    """The monolith on the production settings under gunicorn: its URL and its processes."""
    shutil.copyfile(set_up / "served.sqlite3", tmp_path / "served.sqlite3")
    env = production_env(tmp_path, DJANGO_STATIC_ROOT=str(set_up / "static"), **environment)
    with gunicorn_serving(
        "web", env, workers=workers, what="gunicorn serves the production settings"
    ) as serving:
        yield serving


def fetch(url: str) -> tuple[int, str, str]:
    """GET as a browser would: the status, the content type and the body as text."""
    request = urllib.request.Request(url, headers={"Accept": "text/html,*/*"})
    try:
        with urllib.request.urlopen(request, timeout=15) as reply:
            return (
                reply.status,
                reply.headers["Content-Type"],
                reply.read().decode(errors="replace"),
            )
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode(errors="replace")


def static_paths(html: str, prefix: str) -> list[str]:
    """The /static/PREFIX... paths a page names (in href or src)."""
    return re.findall(rf'(?:href|src)="(/static/{re.escape(prefix)}[^"]+)"', html)


def workers_that_served(server: Processes, correlations: set[str]) -> set[str]:
    """The pids of the workers whose access log lines carry one of these correlation ids."""
    pids = set()
    for line in server.output["web"]:
        match = ACCESS_LINE.search(line)
        if match and match["correlation"] in correlations:
            pids.add(match["pid"])
    return pids


def post(url: str, body: dict[str, str]) -> tuple[Response, str]:
    """One POST on a new connection, with a correlation id of its own: the reply and the id."""
    correlation = str(uuid.uuid4())
    return http("POST", url, body, correlation=correlation), correlation


def hold_a_worker(url: str, server: Processes) -> tuple[socket.socket, int]:
    """Keep one idle worker busy with a request whose headers never end, so that the next
    requests go to the other worker: the open connection and the busy worker's pid (from
    /proc: the worker holding the connection). Closing the connection frees the worker."""
    port = urlsplit(url).port
    master = server.processes["web"].pid
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection.sendall(b"GET /api/ HTTP/1.1\r\n")
    local_port = connection.getsockname()[1]

    def holder() -> int | None:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        for pid in map(int, children):
            with suppress(OSError):
                if client_ports(pid, local_port):
                    return pid
        return None

    pid = poll(holder, timeout=10, what="a worker takes the unfinished request")
    assert pid is not None  # poll returns only a truthy value
    return connection, pid


def in_turn(
    url: str, server: Processes, first: list[Callable[[], str]], then: list[Callable[[], str]]
) -> tuple[str, str]:
    """Run the ``first`` requests on one worker and the ``then`` ones on the other, each
    returning its correlation id; check in the access log that they did, and return the two
    workers' pids."""
    held, second_worker = hold_a_worker(url, server)
    firsts = {send() for send in first}
    also_held, first_worker = hold_a_worker(url, server)
    held.close()
    thens = {send() for send in then}
    also_held.close()
    poll(
        lambda: (
            workers_that_served(server, firsts | thens) == {str(first_worker), str(second_worker)}
        ),
        timeout=10,
        what="the access log shows both workers",
    )
    assert workers_that_served(server, firsts) == {str(first_worker)}
    assert workers_that_served(server, thens) == {str(second_worker)}
    return str(first_worker), str(second_worker)


def redis_reachable() -> bool:
    parts = urlsplit(REDIS_URL)
    with suppress(OSError), socket.create_connection((parts.hostname, parts.port or 6379), 2):
        return True
    return False


def test_static_files_are_served_by_whitenoise_under_their_hashed_names(
    set_up: Path, tmp_path: Path
) -> None:
    # given the production settings under gunicorn, after collectstatic
    with served(set_up, tmp_path, workers=1) as (url, _):
        # when the admin, the browsable API and Swagger UI pages are fetched
        admin = fetch(f"{url}/admin/login/")
        api = fetch(f"{url}/api/")
        docs = fetch(f"{url}/api/docs/")
        assert (admin[0], api[0], docs[0]) == (200, 200, 200)

        # then each names its files by hashed names, and each answers 200
        hashed = re.compile(r"\.[0-9a-f]{12}\.\w+$")
        admin_css = static_paths(admin[2], "admin/css/")
        api_assets = static_paths(api[2], "rest_framework/")
        swagger = static_paths(docs[2], "drf_spectacular_sidecar/swagger-ui-dist/")
        assert any(p.endswith(".css") for p in api_assets)
        assert any(p.endswith(".js") for p in api_assets)
        assert any("swagger-ui-bundle" in p for p in swagger)
        assets = [*admin_css, *api_assets, *swagger]
        assert admin_css and all(hashed.search(p) for p in assets), assets
        for path in assets:
            status, content_type, _ = fetch(f"{url}{path}")
            assert status == 200, path
            if path.endswith((".css", ".js")):
                assert content_type.split(";")[0] in {"text/css", "text/javascript"}, path


def throttle_holds_across_workers(set_up: Path, tmp_path: Path, **environment: str) -> None:
    # given a register rate of 3 an hour, served by two workers
    rate = {"THROTTLE_REGISTER_RATE": "3/hour"}
    with served(set_up, tmp_path, workers=2, **rate, **environment) as (url, server):
        replies: list[int] = []

        def register(n: int) -> Callable[[], str]:
            def send() -> str:
                body = {"username": f"user{n}", "email": f"u{n}@example.com", "password": PASSWORD}
                reply, correlation = post(f"{url}{REGISTER}", body)
                replies.append(reply.status)
                return correlation

            return send

        # when one client registers twice on one worker, then three times on the other
        in_turn(url, server, [register(0), register(1)], [register(2), register(3), register(4)])

        # then the third request is the last one let through: the count is shared
        assert replies == [201, 201, 201, 429, 429]


def test_register_throttle_holds_across_two_workers_with_the_database_cache(
    set_up: Path, tmp_path: Path
) -> None:
    throttle_holds_across_workers(set_up, tmp_path)


def test_register_throttle_holds_across_two_workers_with_redis(
    set_up: Path, tmp_path: Path
) -> None:
    if not redis_reachable():
        pytest.skip(f"no Redis at {REDIS_URL} (set TEST_REDIS_URL)")
    # a key prefix of its own, so no earlier run's counts are seen
    throttle_holds_across_workers(
        set_up, tmp_path, REDIS_URL=REDIS_URL, CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex}"
    )


def test_login_lockout_holds_across_two_workers(set_up: Path, tmp_path: Path) -> None:
    # given a user, and a limit of 3 failures, served by two workers
    with served(set_up, tmp_path, workers=2, LOGIN_FAILURE_LIMIT="3") as (url, server):
        body = {"username": "carol", "email": "carol@example.com", "password": PASSWORD}
        created, _ = post(f"{url}{REGISTER}", body)
        assert created.status == 201
        replies: list[int] = []

        def log_in(password: str) -> Callable[[], str]:
            def send() -> str:
                reply, correlation = post(
                    f"{url}{LOGIN}", {"username": "carol", "password": password}
                )
                replies.append(reply.status)
                return correlation

            return send

        # when two wrong passwords go to one worker, then a third and the right one to the other
        in_turn(
            url,
            server,
            [log_in("wrong-1"), log_in("wrong-2")],
            [log_in("wrong-3"), log_in(PASSWORD)],
        )

        # then the other worker counts the first worker's failures: locked out after three
        assert replies == [401, 401, 401, 429]

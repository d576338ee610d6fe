"""Project processes for tests: ``manage.py`` in a fresh process, free ports, the monolith
served by gunicorn, and a process's TCP connections read from ``/proc``."""

import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path

from tests.support.databases import Database, poll, throwaway
from tests.support.http import http
from tools.split import Processes, run, web_server


@cache
def manage(*args: str) -> str:
    """The standard output of ``manage.py ARGS`` under the test settings, in a fresh process:
    the project's events only, none defined by tests. Raises if it fails."""
    return run(
        ["manage.py", *args], env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    )


def free_ports(count: int) -> list[int]:
    """Ports nobody listens on now (the OS picks them; held together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def closed_port() -> int:
    """A port where nothing listens: connecting is refused at once."""
    return free_ports(1)[0]


@contextmanager
def monolith_server(server: str, port: int) -> Iterator[tuple[str, Database]]:
    """The monolith (config.settings.dev, inline delivery) on a fresh database on the
    PostgreSQL ``server``, served by gunicorn: yields its URL and its database, which is
    dropped afterwards."""
    with throwaway(server, "splittest_monolith") as database:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DATABASE_URL": database.url,
            "DB_CONN_MAX_AGE": "60",
            "EVENTBUS_TRANSPORT": "local",
            "EVENTBUS_DELIVERY": "inline",
            "PYTHONUNBUFFERED": "1",
        }
        run(["manage.py", "migrate", "--no-input", "-v0"], env=env, timeout=120)
        run(["manage.py", "load_catalogue"], env=env, timeout=120)
        with gunicorn_serving("monolith-web", env, port=port, what="the monolith serves") as web:
            yield web[0], database


@contextmanager
def gunicorn_serving(
    name: str,
    env: dict[str, str],
    *,
    what: str,
    port: int | None = None,
    workers: int = 1,
    ready_status: int | None = None,
) -> Iterator[tuple[str, Processes]]:
    """The project's WSGI app under gunicorn as process ``name`` with ``env``, on ``port``
    (a free one by default): yields its URL and its processes once ``GET /api/`` answers
    (``ready_status`` exactly, or anything below 500), within 60 s; stopped afterwards.
    Raises if the server exits or never answers."""
    if port is None:
        (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    server = Processes(quiet=True)
    try:
        server.launch(name, web_server(port, workers=workers), env)

        def serving() -> bool:
            server.check_alive()
            with suppress(OSError):
                status = http("GET", f"{url}/api/", timeout=2).status
                return status == ready_status if ready_status else status < 500
            return False

        poll(serving, timeout=60, what=what)
        yield url, server
    finally:
        server.stop()


def client_ports(pid: int, remote_port: int) -> set[int]:
    """Local ports of the process's TCP connections to ``remote_port``, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with suppress(OSError):
            target = os.readlink(fd)
            if match := re.fullmatch(r"socket:\[(\d+)\]", target):
                inodes.add(match.group(1))
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(OSError), open(table) as lines:
            next(lines)
            for line in lines:
                parts = line.split()
                local, remote, inode = parts[1], parts[2], parts[9]
                if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == remote_port:
                    ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports

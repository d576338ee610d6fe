"""Throwaway PostgreSQL databases and real `manage.py` subprocesses for the crash proofs.

The proofs never use pytest-django's database: each test clones a database migrated once
per session (CREATE DATABASE ... TEMPLATE, a fraction of a second), runs the worker and the
load as separate processes against it, checks it with plain SQL, and drops it.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent.parent
SETTINGS = "tests.proof.settings"
POSTGRES_SCHEMES = ("postgres://", "postgresql://", "pgsql://")


def postgres_url() -> str | None:
    """DATABASE_URL when it names PostgreSQL (make test-postgres, CI), else None."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(POSTGRES_SCHEMES) else None


def url_for(database: str) -> str:
    """The DATABASE_URL server (host, port, user) with another database name."""
    url = postgres_url()
    assert url is not None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(url_for("postgres"), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise RuntimeError(
            f"PostgreSQL named by DATABASE_URL is unreachable ({exc}). The crash proofs need it."
        ) from exc


def create_database(name: str, *, template: str | None = None) -> None:
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{clause}')


def drop_database(name: str) -> None:
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def new_name(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


def env_for(database: str, **extra: str) -> dict[str, str]:
    """The environment of a subprocess: proof settings, worker mode, this database."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DATABASE_URL=url_for(database),
        EVENTBUS_DELIVERY="worker",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def manage(database: str, *args: str, timeout: float = 90, **env: str) -> str:
    """Run `manage.py ARGS` to completion; return its stdout, fail with its output if it fails."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env_for(database, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, (
        f"manage.py {' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


def spawn(database: str, *args: str, **env: str) -> subprocess.Popen[str]:
    """Start `manage.py ARGS` in the background, its output kept for later."""
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env_for(database, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def worker(database: str, *options: str, **env: str) -> subprocess.Popen[str]:
    return spawn(database, "eventbus", "worker", *options, **env)


def kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL: no handler runs, no transaction is finished, the connection just drops."""
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)


@contextmanager
def migrated_template() -> Iterator[str]:
    """A database migrated with the proof settings, to clone; dropped at the end."""
    name = new_name("proof_template")
    create_database(name)
    try:
        manage(name, "migrate", "--no-input", timeout=120)
        yield name
    finally:
        drop_database(name)


@contextmanager
def throwaway_database(template: str, prefix: str) -> Iterator[str]:
    name = new_name(prefix)
    create_database(name, template=template)
    try:
        yield name
    finally:
        drop_database(name)


def query(database: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url_for(database), autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def scalar(database: str, sql: str, params: Sequence[Any] = ()) -> Any:
    return query(database, sql, params)[0][0]


def fill_ticks(database: str, events: int) -> None:
    """Insert ``events`` undispatched proof.tick_happened rows straight into the outbox.

    Faster than publishing them from a process (no Django start-up); the rows are what
    publish() writes: a random UUID as id is fine, the claim only needs an order."""
    with psycopg.connect(url_for(database), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO eventbus_outboxmessage (id, name, version, occurred_at, producer, "
            "correlation_id, causation_id, aggregate_id, payload, dispatched_at) "
            "SELECT gen_random_uuid(), 'proof.tick_happened', 1, now(), 'proof', 'proof', "
            "NULL, '', jsonb_build_object('n', n), NULL FROM generate_series(1, %s) AS n",
            [events],
        )


def registered(database: str, process: subprocess.Popen[str]) -> bool:
    """Whether the worker process has registered (it is about to claim its first batch)."""
    return bool(
        scalar(database, "SELECT count(*) FROM eventbus_worker WHERE pid = %s", [process.pid])
    )


def wait_for(condition: Any, *, timeout: float, every: float = 0.05, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(every)

"""Throwaway PostgreSQL databases and real `manage.py` subprocesses for the crash proofs.

The proofs never use pytest-django's database: each test clones a database migrated once
per session (CREATE DATABASE ... TEMPLATE, a fraction of a second), runs the worker and the
load as separate processes against it, checks it with plain SQL, and drops it.
"""

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.databases import Database, throwaway
from tools.split import PYTHON, ROOT, run

SETTINGS = "tests.proof.settings"
POSTGRES_SCHEMES = ("postgres://", "postgresql://", "pgsql://")


def postgres_url() -> str | None:
    """DATABASE_URL when it names PostgreSQL (make test-postgres, CI), else None."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(POSTGRES_SCHEMES) else None


def server() -> str:
    """The PostgreSQL server of DATABASE_URL, where the proofs make their databases."""
    url = postgres_url()
    assert url is not None, "the crash proofs need DATABASE_URL=postgres://..."
    return url


def env_for(db: Database, **extra: str) -> dict[str, str]:
    """The environment of a subprocess: proof settings, worker mode, this database."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DATABASE_URL=db.url,
        EVENTBUS_DELIVERY="worker",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def manage(db: Database, *args: str, timeout: float = 90, **env: str) -> str:
    """Run `manage.py ARGS` to completion; return its stdout, fail with its output if it fails."""
    return run(["manage.py", *args], env=env_for(db, **env), timeout=timeout)


def spawn(db: Database, *args: str, **env: str) -> subprocess.Popen[str]:
    """Start `manage.py ARGS` in the background, its output kept for later."""
    return subprocess.Popen(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env_for(db, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def worker(db: Database, *options: str, **env: str) -> subprocess.Popen[str]:
    return spawn(db, "eventbus", "worker", *options, **env)


def kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL: no handler runs, no transaction is finished, the connection just drops."""
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)


@contextmanager
def migrated_template() -> Iterator[Database]:
    """A database migrated with the proof settings, to clone; dropped at the end."""
    with throwaway(server(), "proof_template") as template:
        manage(template, "migrate", "--no-input", timeout=120)
        yield template


@contextmanager
def throwaway_database(template: Database, prefix: str) -> Iterator[Database]:
    """A copy of ``template`` named ``<prefix>_<random>``, dropped afterwards."""
    with throwaway(server(), prefix, template=template) as db:
        yield db


def fill_ticks(db: Database, events: int) -> None:
    """Insert ``events`` undispatched proof.tick_happened rows straight into the outbox.

    Faster than publishing them from a process (no Django start-up); the rows are what
    publish() writes: a random UUID as id is fine, the claim only needs an order."""
    db.execute(
        "INSERT INTO eventbus_outboxmessage (id, name, version, occurred_at, producer, "
        "correlation_id, causation_id, aggregate_id, payload, dispatched_at) "
        "SELECT gen_random_uuid(), 'proof.tick_happened', 1, now(), 'proof', 'proof', "
        "NULL, '', jsonb_build_object('n', n), NULL FROM generate_series(1, %s) AS n",
        [events],
    )


def registered(db: Database, process: subprocess.Popen[str]) -> bool:
    """Whether the worker process has registered (it is about to claim its first batch)."""
    return bool(db.value("SELECT count(*) FROM eventbus_worker WHERE pid = %s", [process.pid]))

"""Throwaway databases and real `manage.py` subprocesses for the crash proofs.

The proofs never use pytest-django's database: each test clones a database migrated once
per session (on PostgreSQL CREATE DATABASE ... TEMPLATE, a fraction of a second; on MariaDB
the template's tables created again and their rows copied), runs the worker and the load as
separate processes against it, checks it with plain SQL, and drops it. The few statements
that differ between the two servers are here, behind one function each.
"""

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.support import databases
from tests.support.databases import Database, _mariadb_connect, throwaway
from tools.split import PYTHON, ROOT, run

SETTINGS = "tests.proof.settings"
#: The servers the proofs run on, and the DATABASE_URL schemes that name each.
SCHEMES = {
    "postgresql": ("postgres://", "postgresql://", "pgsql://"),
    "mariadb": ("mysql://", "mariadb://"),
}
#: How to run the suite against each.
MAKE_TARGET = {"postgresql": "make test-postgres", "mariadb": "make test-mariadb"}


def server_url(vendor: str) -> str | None:
    """DATABASE_URL when it names a ``vendor`` server (make test-postgres, make
    test-mariadb, CI), else None."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(SCHEMES[vendor]) else None


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
def migrated_template(server: str) -> Iterator[Database]:
    """A database on ``server`` migrated with the proof settings, to clone; dropped at the
    end."""
    with throwaway(server, "proof_template") as template:
        manage(template, "migrate", "--no-input", timeout=120)
        yield template


@contextmanager
def throwaway_database(template: Database, prefix: str) -> Iterator[Database]:
    """A copy of ``template`` named ``<prefix>_<random>``, dropped afterwards."""
    with throwaway(template.server, prefix, template=template) as db:
        yield db


def fill_ticks(db: Database, events: int) -> None:
    """Insert ``events`` undispatched proof.tick_happened rows straight into the outbox.

    Faster than publishing them from a process (no Django start-up); the rows are what
    publish() writes: a random UUID as id is fine, the claim only needs an order."""
    if db.mariadb:
        db.execute(
            "INSERT INTO eventbus_outboxmessage (id, name, version, occurred_at, producer, "
            "correlation_id, causation_id, aggregate_id, payload, dispatched_at) "
            "SELECT uuid(), 'proof.tick_happened', 1, utc_timestamp(6), 'proof', 'proof', "
            f"NULL, '', json_object('n', seq), NULL FROM seq_1_to_{int(events)}"
        )
        return
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


@contextmanager
def outbox_locked(db: Database) -> Iterator[Callable[[], int]]:
    """Hold the outbox table locked against every other connection until the block ends;
    yields a function that counts the connections waiting for it."""
    if db.mariadb:
        gate: Any = _mariadb_connect(db.server, db.name)
        try:
            gate.cursor().execute("LOCK TABLES eventbus_outboxmessage WRITE")
            yield lambda: int(
                db.value(
                    "SELECT count(*) FROM information_schema.processlist WHERE db = %s "
                    "AND state = 'Waiting for table metadata lock'",
                    [db.name],
                )
            )
        finally:
            gate.close()
        return
    with databases.connect(db.url, autocommit=False) as pg:
        databases.run_sql(pg, "LOCK TABLE eventbus_outboxmessage IN EXCLUSIVE MODE")
        yield lambda: int(
            db.value(
                "SELECT count(*) FROM pg_locks WHERE NOT granted "
                "AND relation = 'eventbus_outboxmessage'::regclass",
            )
        )

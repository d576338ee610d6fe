"""Throwaway PostgreSQL databases, read from outside with plain SQL, and polling until a
condition holds.

Connections go through the driver Django's PostgreSQL backend runs on (psycopg 3, else
psycopg2), with the DB-API alone, so the same tests prove the bus on either driver.
"""

import importlib
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.db.backends.postgresql.psycopg_any import is_psycopg3

driver: Any = importlib.import_module("psycopg" if is_psycopg3 else "psycopg2")


def connect(url: str, *, autocommit: bool = True, timeout: int | None = None) -> Any:
    """A DB-API connection to ``url`` through the driver in use; a context manager that
    closes it (psycopg2's own would only end the transaction)."""
    extra = {"connect_timeout": timeout} if timeout else {}
    connection = driver.connect(url, **extra)
    connection.autocommit = autocommit
    return closing(connection)


def run_sql(connection: Any, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Execute ``sql``; its rows, or [] for a statement that returns none."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params or None)
        return cursor.fetchall() if cursor.description else []


def database_url(server: str, name: str) -> str:
    """The URL of database ``name`` on ``server`` (any URL of that server: its database, if
    it names one, is replaced)."""
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def unreachable(server: str) -> str | None:
    """None if PostgreSQL at ``server`` answers, else why not."""
    try:
        with connect(database_url(server, "postgres"), timeout=3):
            return None
    except driver.Error as exc:
        return f"PostgreSQL at {server} ({exc})"


def unique_name(prefix: str) -> str:
    """``<prefix>_<8 random hex digits>``: databases of runs side by side do not collide."""
    return f"{prefix}_{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Database:
    """One database on a server, written to by others and read here (autocommit, a
    connection per query)."""

    server: str
    name: str

    @property
    def url(self) -> str:
        return database_url(self.server, self.name)

    def create(self, *, template: "Database | None" = None) -> None:
        """Create it empty (or as a copy of ``template``), dropping any of the same name."""
        clause = f' TEMPLATE "{template.name}"' if template else ""
        with _admin(self.server) as connection:
            run_sql(connection, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            run_sql(connection, f'CREATE DATABASE "{self.name}"{clause}')

    def drop(self) -> None:
        """Drop it if it exists, disconnecting whoever is still connected."""
        with _admin(self.server) as connection:
            run_sql(connection, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with connect(self.url) as connection:
            run_sql(connection, sql, params)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with connect(self.url) as connection:
            return run_sql(connection, sql, params)

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.rows(sql, params)[0][0]

    def has_table(self, table: str) -> bool:
        return bool(self.value("SELECT to_regclass(%s) IS NOT NULL", (table,)))


@contextmanager
def throwaway(server: str, prefix: str, *, template: Database | None = None) -> Iterator[Database]:
    """A new database named ``<prefix>_<random>`` (a copy of ``template`` if given), dropped
    afterwards."""
    database = Database(server, unique_name(prefix))
    database.create(template=template)
    try:
        yield database
    finally:
        database.drop()


def _admin(server: str) -> Any:
    try:
        return connect(database_url(server, "postgres"), timeout=5)
    except driver.OperationalError as exc:
        raise RuntimeError(f"PostgreSQL at {server} is unreachable ({exc}).") from exc


def poll[T](check: Callable[[], T], *, timeout: float, what: str, interval: float = 0.2) -> T:
    """Call ``check`` until it returns something truthy and return that; fail naming ``what``
    at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting until {what}")
        time.sleep(interval)

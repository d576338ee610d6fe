"""Throwaway PostgreSQL and MariaDB databases, read from outside with plain SQL, and polling
until a condition holds.

The server is a URL (``postgres://...`` or ``mysql://...``); a ``Database`` speaks to it with
the driver Django's PostgreSQL backend runs on (psycopg 3, else psycopg2: the DB-API alone,
so the same tests prove the bus on either driver) or with MySQLdb (mysqlclient); all take
``%s`` parameters.
"""

import importlib
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

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


MARIADB_SCHEMES = ("mysql", "mariadb")


def database_url(server: str, name: str) -> str:
    """The URL of database ``name`` on ``server`` (any URL of that server: its database, if
    it names one, is replaced)."""
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def is_mariadb(server: str) -> bool:
    """Whether ``server`` is a MariaDB URL (mysql://), rather than a PostgreSQL one."""
    return urlsplit(server).scheme in MARIADB_SCHEMES


def unreachable(server: str) -> str | None:
    """None if the server at ``server`` answers, else why not."""
    if is_mariadb(server):
        import MySQLdb

        try:
            _mariadb_connect(server, None, connect_timeout=3).close()
            return None
        except MySQLdb.Error as exc:
            return f"MariaDB at {server} ({exc})"
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

    @property
    def mariadb(self) -> bool:
        return is_mariadb(self.server)

    def create(self, *, template: "Database | None" = None) -> None:
        """Create it empty (or as a copy of ``template``), dropping any of the same name."""
        if self.mariadb:
            self._mariadb_create(template)
            return
        clause = f' TEMPLATE "{template.name}"' if template else ""
        with _admin(self.server) as connection:
            run_sql(connection, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            run_sql(connection, f'CREATE DATABASE "{self.name}"{clause}')

    def drop(self) -> None:
        """Drop it if it exists, disconnecting whoever is still connected."""
        if self.mariadb:
            self.disconnect_others()
            self._mariadb_admin(f"DROP DATABASE IF EXISTS `{self.name}`")
            return
        with _admin(self.server) as connection:
            run_sql(connection, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.rows(sql, params)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.mariadb:
            connection = _mariadb_connect(self.server, self.name)
            try:
                cursor = connection.cursor()
                cursor.execute(sql, tuple(params) if params else None)
                return list(cursor.fetchall() or ())
            finally:
                connection.close()
        with connect(self.url) as connection:
            return run_sql(connection, sql, params)

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.rows(sql, params)[0][0]

    def has_table(self, table: str) -> bool:
        if self.mariadb:
            return bool(
                self.value(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema = %s AND table_name = %s",
                    (self.name, table),
                )
            )
        return bool(self.value("SELECT to_regclass(%s) IS NOT NULL", (table,)))

    def disconnect_others(self) -> int:
        """Drop every other connection to this database, as a server restart or a failover
        does; returns how many there were."""
        if not self.mariadb:
            return int(
                self.value(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        import MySQLdb

        connection = _mariadb_connect(self.server, None)
        try:
            cursor = connection.cursor()
            cursor.execute(
                "SELECT id FROM information_schema.processlist "
                "WHERE db = %s AND id <> connection_id()",
                (self.name,),
            )
            ids = [row[0] for row in cursor.fetchall()]
            for connection_id in ids:
                with suppress(MySQLdb.OperationalError):  # it went away by itself meanwhile
                    cursor.execute(f"KILL CONNECTION {int(connection_id)}")
            return len(ids)
        finally:
            connection.close()

    def _mariadb_admin(self, *statements: str) -> None:
        connection = _mariadb_connect(self.server, None, connect_timeout=5)
        try:
            cursor = connection.cursor()
            for statement in statements:
                cursor.execute(statement)
        finally:
            connection.close()

    def _mariadb_create(self, template: "Database | None") -> None:
        """MariaDB has no template databases: the template's tables are created again from
        their ``SHOW CREATE TABLE`` (keys, indexes and foreign keys included) and their rows
        copied (the applied migrations, content types, permissions)."""
        self.drop()
        self._mariadb_admin(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4")
        if template is None:
            return
        connection = _mariadb_connect(self.server, self.name)
        try:
            cursor = connection.cursor()
            cursor.execute("SET SESSION foreign_key_checks = 0")
            cursor.execute(
                f"SHOW FULL TABLES FROM `{template.name}` WHERE table_type = 'BASE TABLE'"
            )
            tables = [row[0] for row in cursor.fetchall()]
            for table in tables:
                cursor.execute(f"SHOW CREATE TABLE `{template.name}`.`{table}`")
                cursor.execute(cursor.fetchone()[1])
            for table in tables:
                cursor.execute(f"INSERT INTO `{table}` SELECT * FROM `{template.name}`.`{table}`")
        finally:
            connection.close()


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


def _mariadb_connect(server: str, database: str | None, *, connect_timeout: int = 10) -> Any:
    """An autocommit MySQLdb connection to ``database`` (none: the server alone)."""
    import MySQLdb

    parts = urlsplit(server)
    options: dict[str, Any] = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
        "charset": "utf8mb4",
        "autocommit": True,
        "connect_timeout": connect_timeout,
    }
    if database is not None:
        options["database"] = database
    return MySQLdb.connect(**options)


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

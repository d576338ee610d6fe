"""Internal: what the bus's long-running processes share (worker, consumer, relay)."""

import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone

#: What a lost or refused database connection raises (a restart, a failover, a connection
#: killed on the server): the process closes its connection, pauses and carries on.
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)

#: Reconnecting to a database or broker that is away: the first pause, doubled after each
#: failure up to the longest.
RECONNECT_FIRST_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 30.0

#: How often a worker or consumer refreshes its heartbeat row.
HEARTBEAT_EVERY = timedelta(seconds=5)
#: A worker or consumer whose heartbeat is older than this is taken for dead.
PRESUMED_DEAD_AFTER = timedelta(seconds=30)


#: The name this process is registered under while a worker or consumer runs in it.
_registered_name: ContextVar[str | None] = ContextVar("eventbus_process_name", default=None)


def process_name() -> str:
    """Who is delivering, as a failed attempt and a task's result record it: the name of the
    worker or consumer running in this process (its heartbeat row's, as `eventbus stats`
    lists it), else ``host:pid`` (a web process delivering inline, a command such as
    ``eventbus retry``). The pid is read at each call, so a forked process names itself."""
    return _registered_name.get() or f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def stop_on_signals(name: str, stop: Callable[[], None], logger: logging.Logger) -> Iterator[None]:
    """While the block runs, SIGTERM and SIGINT call ``stop()`` (which should let the current
    batch finish) instead of killing the process, and ``logger`` says so; the previous
    handlers come back after."""

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("%s: %s, stopping after this batch", name, signal.Signals(signum).name)
        stop()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def next_reconnect_pause(previous: float) -> float:
    """The pause before the next connection attempt, after one of ``previous`` seconds
    (0 for the first failure)."""
    return min(max(previous * 2, RECONNECT_FIRST_SECONDS), RECONNECT_MAX_SECONDS)


def close_database_connection(using: str) -> None:
    """Drop this thread's connection to ``using`` after it failed, so that the next query
    opens a new one (Django reconnects only between requests by itself)."""
    with suppress(*DATABASE_UNAVAILABLE):  # gone already: Django has forgotten it
        connections[using].close()


#: MariaDB's (and MySQL's) error codes for a connection that went away: 1927 killed by the
#: server, 2006 gone, 2013 lost during a query, 4031 closed for inactivity. MySQLdb keeps the
#: connection object open after them, so they are told apart by their code.
MARIADB_CONNECTION_LOST = frozenset({1927, 2006, 2013, 4031})


def connection_lost(exc: BaseException, using: str) -> bool:
    """Whether ``exc`` is the database connection going away (not a handler's own error such
    as a deadlock or a lock timeout, after which the connection still works)."""
    if not isinstance(exc, DATABASE_UNAVAILABLE):
        return False
    connection = connections[using]
    raw = connection.connection
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    code = cause.args[0] if connection.vendor == "mysql" and cause.args else None
    return (
        raw is None
        or connection.closed_in_transaction
        or bool(getattr(raw, "closed", False) or getattr(raw, "broken", False))
        or code in MARIADB_CONNECTION_LOST
    )


class Heartbeat:
    """A process's row in a heartbeat table (the Worker or Consumer model), refreshed at most
    every HEARTBEAT_EVERY; others take the process for dead once it is PRESUMED_DEAD_AFTER old.
    A row pruned meanwhile (the database was away longer than that, and another process
    started) is made again at the next beat."""

    def __init__(self, rows: QuerySet[Any], name: str, fields: dict[str, Any]) -> None:
        self.rows = rows
        self.name = name
        self.fields = fields
        self._last = time.monotonic()

    def beat(self) -> None:
        """Refresh the row if HEARTBEAT_EVERY has passed since the last time. Raises what
        the database raises (DATABASE_UNAVAILABLE while it is away)."""
        if time.monotonic() - self._last < HEARTBEAT_EVERY.total_seconds():
            return
        now = timezone.now()
        if not self.rows.filter(name=self.name).update(heartbeat_at=now):
            self.rows.create(name=self.name, **{**self.fields, "heartbeat_at": now})
        self._last = time.monotonic()


@contextmanager
def heartbeat_row(
    model: Any,
    *,
    using: str,
    name: str,
    check: Callable[[QuerySet[Any], datetime], None] | None = None,
    **fields: Any,
) -> Iterator[Heartbeat]:
    """Register this process in ``model``'s table for the life of the block, and remove it
    after. In one transaction, rows of processes presumed dead go first, then ``check(rows,
    now)`` may refuse to start (by raising), then this process's row is created. Within the
    block, ``process_name()`` is ``name``."""
    now = timezone.now()
    rows = model.objects.using(using)
    row_fields = {
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "started_at": now,
        "heartbeat_at": now,
        **fields,
    }
    with transaction.atomic(using=using):
        rows.filter(heartbeat_at__lt=now - PRESUMED_DEAD_AFTER).delete()
        if check is not None:
            check(rows, now)
        rows.create(name=name, **row_fields)
    registered_as = _registered_name.set(name)
    try:
        yield Heartbeat(rows, name, row_fields)
    finally:
        _registered_name.reset(registered_as)
        try:
            rows.filter(name=name).delete()
        except DATABASE_UNAVAILABLE:
            # Stopping while the database is away: the row goes stale and is pruned later.
            close_database_connection(using)

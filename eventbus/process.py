"""Internal: what the bus's long-running processes share (worker, consumer, relay)."""

import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

#: How often a worker or consumer refreshes its heartbeat row.
HEARTBEAT_EVERY = timedelta(seconds=5)
#: A worker or consumer whose heartbeat is older than this is taken for dead.
PRESUMED_DEAD_AFTER = timedelta(seconds=30)


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


class Heartbeat:
    """A process's row in a heartbeat table (the Worker or Consumer model), refreshed at most
    every HEARTBEAT_EVERY; others take the process for dead once it is PRESUMED_DEAD_AFTER old."""

    def __init__(self, rows: QuerySet[Any], name: str) -> None:
        self.rows = rows
        self.name = name
        self._last = time.monotonic()

    def beat(self) -> None:
        """Refresh the row if HEARTBEAT_EVERY has passed since the last time."""
        if time.monotonic() - self._last < HEARTBEAT_EVERY.total_seconds():
            return
        self.rows.filter(name=self.name).update(heartbeat_at=timezone.now())
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
    now)`` may refuse to start (by raising), then this process's row is created."""
    now = timezone.now()
    rows = model.objects.using(using)
    with transaction.atomic(using=using):
        rows.filter(heartbeat_at__lt=now - PRESUMED_DEAD_AFTER).delete()
        if check is not None:
            check(rows, now)
        rows.create(
            name=name,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            started_at=now,
            heartbeat_at=now,
            **fields,
        )
    try:
        yield Heartbeat(rows, name)
    finally:
        rows.filter(name=name).delete()

"""The delivery worker: claims outbox rows and due retries in batches until told to stop.

In worker mode it delivers every published event; in inline mode it finishes rows that a
dead process left undispatched (after the grace period) and runs due retries. In both it
runs the Django tasks enqueued through eventbus.tasks (they are due deliveries), of every
queue or of the ``queues`` it is given. On PostgreSQL it sleeps on LISTEN/NOTIFY and wakes
as soon as a transaction publishes or enqueues; every ``poll`` seconds it also looks by
itself (retries fall due without any notification). A database that goes away (a restart,
a failover, its connections killed) is waited for with backoff, and the worker carries on
where the outbox stands when it is back.
"""

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone

from eventbus.conf import bus_settings
from eventbus.delivery.batch import deliver_outbox_batch
from eventbus.delivery.due import BATCH_SIZE, UNDISPATCHED_GRACE, retry_due_batch
from eventbus.delivery.engine import Outcome
from eventbus.exceptions import EventBusError
from eventbus.models import Worker as WorkerRow
from eventbus.process import (
    DATABASE_UNAVAILABLE,
    Heartbeat,
    close_database_connection,
    heartbeat_row,
    next_reconnect_pause,
    stop_on_signals,
)
from eventbus.storage import store_for
from eventbus.transports import transport

logger = logging.getLogger("eventbus.delivery.worker")

#: While the outbox keeps the worker busy, how often it still looks for due retries.
RETRY_CHECK_EVERY = timedelta(seconds=1)


class WorkerAlreadyRunning(EventBusError):
    """On SQLite a second worker would only wait for the first one's write lock."""


@dataclass
class WorkerTotals:
    messages: int = 0
    deliveries: int = 0
    retries: int = 0
    batches: int = 0
    relayed: int = 0
    reconnects: int = 0


class Worker:
    """One worker process. ``run()`` returns after a stop signal, or when drained if ``once``."""

    def __init__(
        self,
        *,
        using: str = "default",
        batch_size: int = BATCH_SIZE,
        poll: float = 1.0,
        once: bool = False,
        grace: timedelta = UNDISPATCHED_GRACE,
        on_batch: Callable[[WorkerTotals], None] | None = None,
        queues: Collection[str] | None = None,
    ) -> None:
        self.using = using
        self.batch_size = batch_size
        self.poll = poll
        self.once = once
        self.grace = grace
        self.on_batch = on_batch
        self.queues = frozenset(queues) if queues is not None else None  # None: every queue
        self.totals = WorkerTotals()
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stopping = False
        self._next_retry_check = 0.0
        self._more_due = False  # the last tick filled a batch: there may be more
        self._notified = False  # PostgreSQL: a commit that publishes wakes the worker
        self.relayer = transport().relayer(using=using)

    # --- life cycle ----------------------------------------------------------------------

    def run(self) -> WorkerTotals:
        stopping = stop_on_signals(f"worker {self.name}", self.stop, logger)
        registered = heartbeat_row(
            WorkerRow, using=self.using, name=self.name, check=self._refuse_a_second_sqlite_worker
        )
        try:
            with registered as heartbeat, stopping, self._listener() as wait:
                self._serve(heartbeat, wait)
        finally:
            if self.relayer is not None:
                self.relayer.close()
        return self.totals

    def _serve(self, heartbeat: Heartbeat, wait: Callable[[float], None]) -> None:
        """Deliver until stopped (or drained, with ``once``), beating the heartbeat."""
        logger.info(
            "worker %s started: %s mode, batches of %d, %s database",
            self.name,
            bus_settings.DELIVERY,
            self.batch_size,
            connections[self.using].vendor,
        )
        # Woken by NOTIFY, a worker whose batches came back short has taken all there
        # was: whatever commits meanwhile has notified it, so it waits instead of
        # claiming again (half the queries per event when events come one at a time).
        notified = self._notified and bus_settings.DELIVERY == "worker"
        backoff = 0.0
        while not self._stopping:
            try:
                worked = self.tick()
                heartbeat.beat()
            except DATABASE_UNAVAILABLE as exc:
                # A batch cut short rolled back: its rows are still there to claim.
                close_database_connection(self.using)
                self.totals.reconnects += 1
                backoff = next_reconnect_pause(backoff)
                logger.warning("database unavailable (%s); retrying in %.1f s", exc, backoff)
                self._sleep(backoff)
                continue
            backoff = 0.0
            if worked and (self.once or self._more_due or not notified):
                continue
            if self.once:
                break
            wait(self.poll)
        logger.info(
            "worker %s stopped: %d messages, %d deliveries, %d retries in %d batches, %d relayed",
            self.name,
            self.totals.messages,
            self.totals.deliveries,
            self.totals.retries,
            self.totals.batches,
            self.totals.relayed,
        )

    def stop(self) -> None:
        """Finish the current batch, then return from run()."""
        self._stopping = True

    def tick(self) -> int:
        """One relay batch, one outbox batch and one batch of due retries; returns how
        much was done.

        The relay goes first: in split mode a NOTIFY usually means an event another
        service waits for, and the local claim and retry queries (two transactions) would
        only delay it; they do not depend on it (the relay reads only the broker column).
        After a full outbox batch the retries are skipped unless RETRY_CHECK_EVERY has
        passed since they were last looked for."""
        relayed = self.relayer.tick() if self.relayer is not None else 0
        self.totals.relayed += relayed
        occurred_before = None
        if bus_settings.DELIVERY == "inline":  # the publishers deliver; take only the stranded
            occurred_before = timezone.now() - self.grace
        batch = deliver_outbox_batch(
            using=self.using, batch_size=self.batch_size, occurred_before=occurred_before
        )
        retried: list[Outcome] = []
        # While the outbox fills whole batches, due retries are looked for once a second
        # rather than after every batch: they are due on a scale of seconds anyway.
        if batch.messages < self.batch_size or time.monotonic() >= self._next_retry_check:
            retried = retry_due_batch(
                using=self.using, batch_size=self.batch_size, queues=self.queues
            )
            self._next_retry_check = time.monotonic() + RETRY_CHECK_EVERY.total_seconds()
        self._more_due = (
            batch.messages == self.batch_size
            or len(retried) == self.batch_size
            or relayed == (self.relayer.batch_size if self.relayer is not None else -1)
        )
        if batch.messages or retried:
            self.totals.batches += 1
            self.totals.messages += batch.messages
            self.totals.deliveries += batch.deliveries
            self.totals.retries += len(retried)
            logger.debug(
                "batch: %d messages %s, %d retries", batch.messages, batch.statuses, len(retried)
            )
            if self.on_batch is not None:
                self.on_batch(self.totals)
        return batch.messages + len(retried) + relayed

    # --- registration, signals, waiting --------------------------------------------------

    def _refuse_a_second_sqlite_worker(self, rows: QuerySet[WorkerRow], now: datetime) -> None:
        if connections[self.using].vendor != "sqlite":
            return
        other = rows.first()
        if other is not None:
            raise WorkerAlreadyRunning(
                f"Another worker is running ({other.name}, last seen "
                f"{(now - other.heartbeat_at).total_seconds():.0f} s ago). On SQLite one "
                "worker is enough: writes take the whole database in turn, so a second "
                "one would only wait. Use PostgreSQL to run several."
            )

    @contextmanager
    def _listener(self) -> Iterator[Callable[[float], None]]:
        """Yield wait(seconds): returns early on a NOTIFY (PostgreSQL) or a stop request.

        A listening connection that fails (the database went away) is dropped, and the wait
        sleeps instead; the next wait listens again once the database answers. A NOTIFY sent
        meanwhile is lost, which the ``poll`` look makes up for."""
        store = store_for(self.using)
        listener = store.listener()
        if listener is None:
            yield self._sleep
            return
        self._notified = True
        current: list[Any] = [listener]

        def wait(seconds: float) -> None:
            deadline = time.monotonic() + seconds
            while not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                try:
                    if current[0] is None:
                        current[0] = store.listener()
                    # Short slices, so a stop signal is seen promptly; a NOTIFY ends the wait.
                    if current[0].wait(min(left, 0.5)):
                        return
                except DATABASE_UNAVAILABLE as exc:
                    if current[0] is not None:
                        logger.warning("listening for NOTIFY failed (%s); polling", exc)
                        _close_quietly(current[0])
                        current[0] = None
                    self._sleep(min(left, self.poll))
                    return

        try:
            yield wait
        finally:
            if current[0] is not None:
                _close_quietly(current[0])

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < deadline:
            time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))


def _close_quietly(listener: Any) -> None:
    with suppress(*DATABASE_UNAVAILABLE):
        listener.close()

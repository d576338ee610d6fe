"""The consumer process: one durable queue per module, handled in batches, acked after commit.

It consumes the events that this process's handlers subscribe to and that no installed
module produces (those arrive locally, through the outbox). A lost broker connection, or a
database that is away (a restart, a failover), is retried with backoff; messages that were
not yet acknowledged come back and are deduplicated by event id. While it runs, a
``Consumer`` row (name, host, pid, queues) carries its heartbeat, so readiness checks and
``eventbus stats`` can see it; a clean stop removes the row, and rows whose heartbeat went
stale are pruned when a consumer starts.
"""

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass

from eventbus.broker.amqp import CONNECTION_ERRORS, BatchingConsumer, Received
from eventbus.broker.inbox import receive
from eventbus.broker.topology import consumed_queues
from eventbus.conf import bus_settings
from eventbus.models import Consumer as ConsumerRow
from eventbus.process import (
    DATABASE_UNAVAILABLE,
    close_database_connection,
    heartbeat_row,
    next_reconnect_pause,
    stop_on_signals,
)

logger = logging.getLogger("eventbus.broker.consumer")


@dataclass
class ConsumerTotals:
    messages: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    reconnects: int = 0


class Consumer:
    """``run()`` consumes until a stop signal (or, with ``once``, until a poll finds nothing)."""

    def __init__(self, *, using: str = "default", once: bool = False, poll: float = 1.0) -> None:
        self.using = using
        self.once = once
        self.poll = poll
        self.totals = ConsumerTotals()
        self.queues = consumed_queues()
        self.name = f"consumer-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._stopping = False
        self._transport = BatchingConsumer(
            bus_settings.BROKER_URL,
            bus_settings.EXCHANGE,
            self.queues,
            prefetch=bus_settings.PREFETCH,
            handle=self._handle,
            confirm_timeout=bus_settings.CONFIRM_TIMEOUT_SECONDS,
        )

    def stop(self) -> None:
        self._stopping = True

    def _handle(self, batch: list[Received]) -> list[tuple[Received, str]]:
        result = receive(batch, using=self.using)
        self.totals.messages += len(batch)
        self.totals.stored += result.stored
        self.totals.duplicates += result.duplicates
        self.totals.dead_lettered += len(result.rejected)
        return result.rejected

    def run(self) -> ConsumerTotals:
        backoff = 0.0
        registered = heartbeat_row(
            ConsumerRow, using=self.using, name=self.name, queues=list(self.queues)
        )
        with registered as heartbeat, stop_on_signals("consumer", self.stop, logger):
            while not self._stopping:
                try:
                    heartbeat.beat()
                    handled = self._transport.poll(timeout=self.poll)
                    backoff = 0.0
                except DATABASE_UNAVAILABLE as exc:
                    close_database_connection(self.using)
                    backoff = self._reconnect_after("database unavailable", exc, backoff)
                    continue
                except CONNECTION_ERRORS as exc:
                    backoff = self._reconnect_after("broker connection lost", exc, backoff)
                    continue
                if self.once and not handled:
                    break
        self._transport.close()
        return self.totals

    def _reconnect_after(self, what: str, exc: BaseException, backoff: float) -> float:
        """Close the broker connection (the unacknowledged batch goes back to the queue),
        say why, pause, and return the pause to double next time."""
        self._transport.close()
        self.totals.reconnects += 1
        backoff = next_reconnect_pause(backoff)
        logger.warning("%s (%s); retrying in %.1f s", what, exc, backoff)
        self._pause(backoff)
        return backoff

    def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < deadline:
            time.sleep(0.05)

"""The consumer process: one durable queue per module, handled in batches, acked after commit.

It consumes the events that this process's handlers subscribe to and that no installed
module produces (those arrive locally, through the outbox). A lost broker connection is
retried with backoff; messages that were not yet acknowledged come back and are
deduplicated by event id.
"""

import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from django.apps import apps

from eventbus.conf import bus_settings
from eventbus.inbox import receive
from eventbus.subscriptions import all_subscriptions
from eventbus.transports.amqp import CONNECTION_ERRORS, BatchingConsumer, Received
from eventbus.transports.wire import binding_key

logger = logging.getLogger("eventbus.consumer")

MAX_BACKOFF_SECONDS = 30.0


def queue_name(module: str) -> str:
    return f"{bus_settings.QUEUE_PREFIX}{module}.events"


def consumed_queues() -> dict[str, list[str]]:
    """Queue per consuming module -> binding keys, for events produced elsewhere."""
    queues: dict[str, set[str]] = {}
    for sub in all_subscriptions():
        if apps.is_installed(sub.event.producer()):
            continue
        queues.setdefault(queue_name(sub.module), set()).add(binding_key(sub.event.event_name))
    return {queue: sorted(keys) for queue, keys in sorted(queues.items())}


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
        self._stopping = False
        self._transport = BatchingConsumer(
            bus_settings.BROKER_URL,
            bus_settings.EXCHANGE,
            self.queues,
            prefetch=bus_settings.PREFETCH,
            handle=self._handle,
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
        backoff = 0.5
        with self._stop_on_signals():
            while not self._stopping:
                try:
                    handled = self._transport.poll(timeout=self.poll)
                    backoff = 0.5
                except CONNECTION_ERRORS as exc:
                    self._transport.close()
                    self.totals.reconnects += 1
                    logger.warning("broker connection lost (%s); retrying in %.1f s", exc, backoff)
                    self._pause(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                    continue
                if self.once and not handled:
                    break
        self._transport.close()
        return self.totals

    def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < deadline:
            time.sleep(0.05)

    @contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        def request_stop(signum: int, frame: FrameType | None) -> None:
            logger.info("consumer: %s, stopping after this batch", signal.Signals(signum).name)
            self.stop()

        previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

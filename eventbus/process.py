"""Internal: what the bus's long-running processes share (worker, consumer, relay)."""

import logging
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType

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

"""When a failed delivery is tried again: exponential backoff with jitter."""

import random
from datetime import datetime, timedelta

from eventbus.conf import bus_settings


def retry_delay(attempts: int) -> timedelta:
    """Delay before the next attempt after ``attempts`` failures (1 -> base, 2 -> 2x base...)."""
    base = bus_settings.RETRY_BASE_SECONDS
    delay = min(bus_settings.RETRY_MAX_SECONDS, base * 2 ** max(attempts - 1, 0))
    jitter = bus_settings.RETRY_JITTER
    if jitter:
        delay *= 1 + random.uniform(-jitter, jitter)
    return timedelta(seconds=delay)


def next_attempt_at(now: datetime, attempts: int) -> datetime:
    return now + retry_delay(attempts)

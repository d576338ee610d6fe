"""Login throttling: count failed logins per username and per client address in Django's cache.

Each key counts failures in a fixed window of ``LOGIN_FAILURE_WINDOW_SECONDS`` that starts at
its first failure; once a key reaches ``LOGIN_FAILURE_LIMIT`` failures, logins for it are
refused until the window ends. Usernames are keyed case-insensitively.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

KEY_PREFIX = "accounts:login-failures"


def _keys(username: str, client_ip: str | None) -> list[str]:
    keys = [_username_key(username)]
    if client_ip:
        keys.append(f"{KEY_PREFIX}:ip:{client_ip}")
    return keys


def _username_key(username: str) -> str:
    # Hashed: usernames can hold characters some cache backends refuse in keys.
    digest = hashlib.sha256(username.casefold().encode()).hexdigest()
    return f"{KEY_PREFIX}:user:{digest}"


def _limit() -> int:
    return int(settings.LOGIN_FAILURE_LIMIT)


def _window() -> int:
    return int(settings.LOGIN_FAILURE_WINDOW_SECONDS)


def login_retry_after(*, username: str, client_ip: str | None) -> int | None:
    """Seconds until a login for this username from this address may be tried, or None
    when it may be tried now (neither the username nor the address is over the limit)."""
    waits = []
    now = time.time()
    for key in _keys(username, client_ip):
        failures = cache.get(key)
        if failures is not None and failures >= _limit():
            until = cache.get(f"{key}:until", now + _window())
            waits.append(max(1, math.ceil(until - now)))
    return max(waits) if waits else None


def login_failure_record(*, username: str, client_ip: str | None) -> None:
    """Count one failed login against the username and the client address."""
    window = _window()
    until = time.time() + window
    for key in _keys(username, client_ip):
        if cache.add(key, 0, timeout=window):
            cache.set(f"{key}:until", until, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout=window)
            cache.set(f"{key}:until", until, timeout=window)


def login_failures_clear(*, username: str) -> None:
    """Forget the username's failures (after a successful login). The address keeps its count."""
    key = _username_key(username)
    cache.delete_many([key, f"{key}:until"])

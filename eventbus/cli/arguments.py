"""Argument types shared by the `eventbus` actions: durations and ISO 8601 moments.

Each raises ``argparse.ArgumentTypeError`` with a message saying what was expected, which
argparse (and so ``call_command``) turns into an error naming the option.
"""

import re
from argparse import ArgumentTypeError
from datetime import UTC, datetime, timedelta

_DURATION_PART = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``45s`` or a sum of them (``1d12h``); more than zero."""
    cleaned = text.strip().lower()
    parts = _DURATION_PART.findall(cleaned)
    if not parts or "".join(n + u for n, u in parts) != cleaned:
        raise ArgumentTypeError(
            f"{text!r} is not a duration; write a number and a unit, d, h, m or s (e.g. 30d, 12h)."
        )
    total = sum((timedelta(**{_UNITS[unit]: int(n)}) for n, unit in parts), timedelta())
    if total <= timedelta():
        raise ArgumentTypeError(f"{text!r} is zero; give a duration of more than zero.")
    return total


def moment(text: str) -> datetime:
    """An ISO 8601 date (its midnight) or datetime; one without an offset is UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date or datetime (e.g. 2026-03-01 or "
            "2026-03-01T12:30:00+01:00)."
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a whole number.") from None
    if value < 1:
        raise ArgumentTypeError(f"{text!r} must be at least 1.")
    return value

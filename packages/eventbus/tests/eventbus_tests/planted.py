"""Planted handlers for the redelivery drill's tests: one that counts with no dedup key (not
idempotent: the drill must catch it) and one that keys its effect by the event id.

Their effects are rows of a table of their own, made by ``effects_table()`` and dropped after
it, so they commit or roll back with the handler's transaction like a real handler's.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

from eventbus import current_envelope

TABLE = "eventbus_planted_effect"


@contextmanager
def effects_table() -> Iterator[None]:
    """The table the planted handlers write to, for the block (autocommit DDL)."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (dedup_key varchar(64) UNIQUE)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {TABLE}")


def effects() -> int:
    """How many times a planted handler's effect stands."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
        (count,) = cursor.fetchone()
    return int(count)


def count_with_no_dedup_key(event: Any) -> None:
    """Not idempotent: every call adds one to the count."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (dedup_key) VALUES (NULL)")


def count_once_per_event(event: Any) -> None:
    """Idempotent: the event id is the dedup key, so a redelivery adds nothing."""
    envelope = current_envelope()
    assert envelope is not None, "runs as a handler, under the bus"
    # MariaDB has no ON CONFLICT; INSERT IGNORE is its way to skip a duplicate key.
    insert = "INSERT IGNORE INTO" if connection.vendor == "mysql" else "INSERT INTO"
    skip = "" if connection.vendor == "mysql" else " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(f"{insert} {TABLE} (dedup_key) VALUES (%s){skip}", [str(envelope.event_id)])

"""Counting subscribers: each applies one non-idempotent effect per delivery.

Beside the project's own handlers (accounts and orders), they make a double delivery
visible: the counter of an (event, handler) pair goes to 2. Environment knobs, read at
every call so the proof can widen the window a kill lands in:

- ``PROOF_HANDLER_SLEEP_MS``: sleep this long in every call (a slow handler);
- ``PROOF_ATTEMPT_LOG``: append "<event id> <handler>" to this file on every call, before the
  effect commits; lines beyond the counters' sum are attempts a crash rolled back.
"""

import os
import time

from django.db import connection

from accounts.events import UserRegistered
from eventbus import current_envelope, subscriber
from orders.events import OrderCancelled, OrderPlaced
from tests.proof.events import TickHappened
from tests.proof.models import Effect

_INSERT = f"INSERT INTO {Effect._meta.db_table} (event_id, handler, applied) VALUES (%s, %s, 1) "
_ON_CONFLICT = (
    f"{_INSERT}ON CONFLICT (event_id, handler) "
    f"DO UPDATE SET applied = {Effect._meta.db_table}.applied + 1"
)
_ON_DUPLICATE_KEY = f"{_INSERT}ON DUPLICATE KEY UPDATE applied = applied + 1"  # MariaDB


def _count(handler: str) -> None:
    envelope = current_envelope()
    assert envelope is not None, "the bus sets the envelope around every handler"
    sleep_ms = float(os.environ.get("PROOF_HANDLER_SLEEP_MS") or 0)
    if sleep_ms:
        time.sleep(sleep_ms / 1000)
    log = os.environ.get("PROOF_ATTEMPT_LOG")
    if log:
        with open(log, "a") as attempts:
            attempts.write(f"{envelope.event_id} {handler}\n")
    with connection.cursor() as cursor:
        upsert = _ON_DUPLICATE_KEY if connection.vendor == "mysql" else _ON_CONFLICT
        cursor.execute(upsert, [envelope.event_id, handler])


@subscriber(UserRegistered)
def count_user_registered(event: UserRegistered) -> None:
    _count("count_user_registered")


@subscriber(OrderPlaced)
def count_order_placed(event: OrderPlaced) -> None:
    _count("count_order_placed")


@subscriber(OrderCancelled)
def count_order_cancelled(event: OrderCancelled) -> None:
    _count("count_order_cancelled")


@subscriber(TickHappened)
def count_tick_a(event: TickHappened) -> None:
    _count("count_tick_a")


@subscriber(TickHappened)
def count_tick_b(event: TickHappened) -> None:
    _count("count_tick_b")

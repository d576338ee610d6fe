"""What the consumer stored is on disk before it returns: the broker forgets an acked message.

Transactions whose input is a durable outbox row may commit without waiting for the fsync
(a commit lost in a crash is delivered again), and the consumer's success records relax its
transaction the same way, so that its effects are visible sooner. But its input is a broker
message, acknowledged as soon as ``receive`` returns: a commit lost after that would lose
the event. So ``receive`` flushes the commits before it returns.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection

from eventbus.broker.amqp import Received
from eventbus.broker.inbox import receive
from eventbus.broker.wire import encode
from eventbus.models import Delivery, OutboxMessage
from eventbus_tests.sample import ThingHappened, thing_happened_envelope

pytestmark = pytest.mark.django_db(transaction=True)

FLUSH = "SELECT set_config('synchronous_commit', 'on', true), pg_current_xact_id()"


@contextmanager
def statements_seen() -> Iterator[list[tuple[str, str, object]]]:
    """(statement, synchronous_commit, transaction id) right after each statement of the
    block, read on the same connection and transaction without going through Django."""
    seen: list[tuple[str, str, object]] = []

    def observe(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any):
        result = execute(sql, params, many, context)
        raw = context["connection"].connection
        if raw.info.transaction_status == 2:  # INTRANS: after a statement of an atomic block
            with raw.cursor() as cursor:  # the driver's own cursor: psycopg 3 or psycopg2
                cursor.execute(
                    "SELECT current_setting('synchronous_commit'), pg_current_xact_id_if_assigned()"
                )
                setting, xid = cursor.fetchone()
        else:  # autocommit: the statement was its own transaction, already committed
            setting, xid = "(committed)", None
        seen.append((sql, setting, xid))
        return result

    with connection.execute_wrapper(observe):
        yield seen


def arriving(thing_id: int) -> Received:
    envelope = thing_happened_envelope({"thing_id": thing_id, "label": ""})
    wire = encode(envelope)
    return Received("q", 1, wire.message_id, wire.body, wire.headers)


@pytest.fixture
def postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("commit durability per transaction is PostgreSQL's (make test-postgres)")


def test_a_stored_message_is_on_disk_when_receive_returns(postgresql, subscribe):
    handled: list[int] = []
    subscribe(ThingHappened, lambda event: handled.append(event.thing_id))

    with statements_seen() as seen:
        result = receive([arriving(7)])

    assert (result.stored, result.duplicates, result.rejected) == (1, 0, [])
    assert handled == [7]
    assert OutboxMessage.objects.count() == 1
    assert list(Delivery.objects.values_list("status", flat=True)) == ["succeeded"]
    # The storing transaction committed relaxed (visible at once), then one statement in a
    # transaction of its own committed synchronously, which flushes the WAL up to it.
    storing = [(setting, xid) for sql, setting, xid in seen[:-1]]
    assert storing[-1][0] == "off" and storing[-1][1] is not None
    assert seen[-1] == (FLUSH, "(committed)", None)


def test_a_batch_with_nothing_new_or_seen_before_does_not_flush(postgresql):
    with statements_seen() as seen:
        result = receive([Received("q", 1, "not-an-id", b"{", {})])

    assert (result.stored, result.duplicates, len(result.rejected)) == (0, 0, 1)
    assert seen == []
    assert OutboxMessage.objects.count() == 0


def test_a_duplicate_is_flushed_too(postgresql, subscribe):
    subscribe(ThingHappened, lambda event: None)
    message = arriving(8)
    receive([message])

    with statements_seen() as seen:
        result = receive([message])

    assert (result.stored, result.duplicates, result.rejected) == (0, 1, [])
    assert seen[-1] == (FLUSH, "(committed)", None)
    assert OutboxMessage.objects.count() == 1

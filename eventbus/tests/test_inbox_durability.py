"""The consumer's transaction commits durably: the broker forgets a message once it is acked.

Transactions whose input is a durable outbox row may commit without waiting for the fsync
(a commit lost in a crash is delivered again). The consumer's input is the broker message,
acknowledged as soon as its transaction commits: a commit lost after that would lose the
event, so that commit must wait for the disk even though the success records relax it.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from eventbus.broker.amqp import Received
from eventbus.broker.inbox import receive
from eventbus.broker.wire import encode
from eventbus.envelope import Envelope
from eventbus.ids import uuid7
from eventbus.models import Delivery, OutboxMessage
from eventbus.tests.sample import ThingHappened

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def synchronous_commit_after_each_statement() -> Iterator[list[tuple[str, str]]]:
    """(statement, synchronous_commit right after it) for every statement in the block,
    read on the same connection and transaction without going through Django."""
    seen: list[tuple[str, str]] = []

    def observe(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any):
        result = execute(sql, params, many, context)
        raw = context["connection"].connection
        row = raw.execute("SHOW synchronous_commit").fetchone()
        seen.append((sql, row[0]))
        return result

    with connection.execute_wrapper(observe):
        yield seen


def arriving() -> Received:
    envelope = Envelope(
        event_id=uuid7(),
        name="samples.thing_happened",
        version=1,
        occurred_at=timezone.now(),
        producer="samples",
        correlation_id="c",
        causation_id=None,
        payload={"thing_id": 7, "label": ""},
    )
    wire = encode(envelope)
    return Received("q", 1, wire.message_id, wire.body, wire.headers)


def test_a_received_message_and_its_handlers_effects_commit_waiting_for_the_disk(subscribe):
    if connection.vendor != "postgresql":
        pytest.skip("per-transaction commit durability is PostgreSQL's (make test-postgres)")
    handled: list[int] = []
    subscribe(ThingHappened, lambda event: handled.append(event.thing_id))

    with synchronous_commit_after_each_statement() as seen:
        result = receive([arriving()])

    assert (result.stored, result.duplicates, result.rejected) == (1, 0, [])
    assert handled == [7]
    assert OutboxMessage.objects.count() == 1
    assert list(Delivery.objects.values_list("status", flat=True)) == ["succeeded"]
    # The success record relaxed the commit; the transaction's last statement undid it.
    assert "off" in [value for _, value in seen]
    assert seen[-1] == ("SET LOCAL synchronous_commit TO ON", "on")

"""write_together(): several publishes and task enqueues written in one statement at the end."""

import uuid
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from eventbus import NotInTransactionError, publish, write_together
from eventbus.models import Delivery, OutboxMessage
from eventbus.tasks.results import RUN_TASK
from eventbus_tests.sample import OtherThingHappened, ThingHappened
from eventbus_tests.sample_tasks import record

# Out of the redelivery drill: these count handler calls and statements exactly.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.eventbus_redeliver(False)]

POSTGRESQL = connection.vendor == "postgresql"
TASKS = {"default": {"BACKEND": "eventbus.tasks.OutboxTaskBackend"}}


def bus_writes(captured: CaptureQueriesContext) -> list[str]:
    """The statements that wrote the bus's rows (outbox rows, deliveries)."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith("SELECT")
        and ("eventbus_outboxmessage" in q["sql"] or "eventbus_delivery" in q["sql"])
    ]


@override_settings(TASKS=TASKS)
def test_the_block_s_events_and_tasks_are_written_together_at_its_end(subscribe: Any) -> None:
    calls: list[tuple[str, int]] = []

    def on_thing(event: ThingHappened) -> None:
        calls.append(("thing", event.thing_id))

    def on_other(event: OtherThingHappened) -> None:
        calls.append(("other", event.thing_id))

    subscribe(ThingHappened, on_thing)
    subscribe(OtherThingHappened, on_other)

    # when two events are published and a task enqueued in one block
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        with write_together():
            first = publish(ThingHappened(thing_id=1))
            second = publish(OtherThingHappened(thing_id=2))
            task = record.enqueue("together")
            # then nothing is written while the block runs,
            assert OutboxMessage.objects.count() == 0
        # and all of it at its end: one statement on PostgreSQL (three outbox rows and the
        # task's delivery), one per row elsewhere
        assert OutboxMessage.objects.count() == 3
        assert len(bus_writes(captured)) == (1 if POSTGRESQL else 4)

    # and it all committed as if written one by one: both events delivered inline after the
    # commit, in publish order, and the task waiting for the worker
    assert calls == [("thing", 1), ("other", 2)]
    assert set(OutboxMessage.objects.values_list("id", flat=True)) == {
        first.event_id,
        second.event_id,
        uuid.UUID(task.id),
    }
    delivery = Delivery.objects.get(handler=RUN_TASK)
    assert (str(delivery.message_id), delivery.status) == (task.id, "waiting")


def test_a_block_that_raises_writes_and_schedules_nothing(subscribe: Any) -> None:
    calls: list[int] = []
    subscribe(ThingHappened, lambda event: calls.append(event.thing_id))

    # when the block raises and its caller carries on and commits
    with transaction.atomic():
        with pytest.raises(RuntimeError), write_together():
            publish(ThingHappened(thing_id=1))
            raise RuntimeError("changed my mind")
        publish(ThingHappened(thing_id=2))

    # then only the publish after it exists and was delivered
    assert list(OutboxMessage.objects.values_list("payload", flat=True)) == [
        {"thing_id": 2, "label": ""}
    ]
    assert calls == [2]


def test_a_block_inside_another_joins_it() -> None:
    with transaction.atomic(), write_together():
        publish(ThingHappened(thing_id=1))
        with write_together():
            publish(ThingHappened(thing_id=2))
        # the inner block's end wrote nothing: the outer one writes both
        assert OutboxMessage.objects.count() == 0
    assert OutboxMessage.objects.count() == 2


def test_outside_a_transaction_it_is_refused() -> None:
    with pytest.raises(NotInTransactionError, match=r"inside `with transaction\.atomic\(\):`"):
        write_together().__enter__()
    assert OutboxMessage.objects.count() == 0

"""eventbus.tasks: Django's tasks framework on the bus's outbox, run by `eventbus worker`."""

import os
import re
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.tasks import TaskResultStatus
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
from django.test import override_settings
from django.utils import timezone

from eventbus import publish
from eventbus.delivery.due import retry_due_batch
from eventbus.events import registered_events
from eventbus.exceptions import EventDefinitionError
from eventbus.models import Delivery, DeliveryAttempt, OutboxMessage, TaskReturn
from eventbus.operations.stats import stats
from eventbus.signals import delivery_dead_lettered, delivery_succeeded
from eventbus.tasks.backend import InvalidTaskArguments
from eventbus.tasks.events import TaskEnqueued
from eventbus.tasks.results import RUN_TASK
from eventbus_tests import sample_tasks
from eventbus_tests.sample import ThingHappened
from eventbus_tests.sample_tasks import (
    CALLS,
    add,
    attempt_number,
    fail,
    give_back_an_object,
    record,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Out of the redelivery drill: these count a task's calls and their order exactly, and
    # a task, like any handler, is run at least once (the drill runs each three times and
    # reorders the worker's batches, priorities included).
    pytest.mark.eventbus_redeliver(False),
]

TASKS = {
    "default": {
        "BACKEND": "eventbus.tasks.OutboxTaskBackend",
        "QUEUES": ["default", "reports"],
    }
}


@pytest.fixture(autouse=True)
def outbox_tasks() -> Iterator[None]:
    CALLS.clear()
    with override_settings(TASKS=TASKS):
        yield


def worker_once(*queues: str) -> str:
    out = StringIO()
    args = [arg for queue in queues for arg in ("--queue", queue)]
    call_command("eventbus", "worker", "--once", *args, stdout=out)
    return out.getvalue()


def make_due() -> None:
    Delivery.objects.filter(next_attempt_at__isnull=False).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def task_delivery(result_id: str) -> Delivery:
    return Delivery.objects.get(message_id=uuid.UUID(result_id), handler=RUN_TASK)


# --- the four the issue asks for ------------------------------------------------------------


def test_a_task_enqueued_in_a_rolled_back_transaction_is_never_written_nor_run():
    with pytest.raises(RuntimeError), transaction.atomic():
        result = record.enqueue("rolled back")
        assert OutboxMessage.objects.filter(pk=result.id).count() == 1  # inside: written
        raise RuntimeError("roll back")

    assert OutboxMessage.objects.count() == 0
    assert Delivery.objects.count() == 0
    worker_once()
    assert CALLS == []
    with pytest.raises(TaskResultDoesNotExist):
        record.get_result(result.id)


def test_a_committed_task_waits_for_the_worker_and_then_reads_successful():
    with transaction.atomic():
        result = add.enqueue(2, 3)

    assert CALLS == []  # inline delivery mode, yet nothing ran in the "request"
    ready = add.get_result(result.id)
    assert ready.status == TaskResultStatus.READY
    assert ready.attempts == 0
    assert ready.args == [2, 3]
    assert ready.kwargs == {}

    out = worker_once()

    assert CALLS == [("add", 2, 3)]
    assert "1 retries" in out  # a task is a due delivery of the worker
    done = add.get_result(result.id)
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value == 5
    assert done.attempts == 1
    assert done.errors == []
    assert done.finished_at is not None and done.enqueued_at == ready.enqueued_at
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 5
    delivery = task_delivery(result.id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("succeeded", 1, "")
    assert TaskReturn.objects.get(message_id=uuid.UUID(result.id)).value == 5
    worker_once()
    assert CALLS == [("add", 2, 3)]  # never run twice


def test_a_failing_task_is_retried_then_dead_lettered_with_its_errors_readable():
    result = fail.enqueue("no printer")

    worker_once()
    first = fail.get_result(result.id)
    assert first.status == TaskResultStatus.READY  # failed, will be retried
    assert first.attempts == 1
    assert [e.exception_class_path for e in first.errors] == ["builtins.ValueError"]
    assert first.errors[0].exception_class is ValueError
    assert first.errors[0].traceback.endswith("ValueError: no printer\n")
    delivery = task_delivery(result.id)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == "ValueError: no printer"
    assert delivery.next_attempt_at is not None
    retry_in = delivery.next_attempt_at - delivery.updated_at
    assert retry_in == timedelta(seconds=10)  # the bus's backoff (RETRY_BASE_SECONDS)

    worker_once()  # not due yet: left alone
    assert task_delivery(result.id).attempts == 1
    for _ in range(2):
        make_due()
        worker_once()

    dead = fail.get_result(result.id)
    assert dead.status == TaskResultStatus.FAILED
    assert dead.attempts == 3  # MAX_ATTEMPTS in these tests
    assert len(dead.errors) == 3
    assert dead.finished_at is not None
    with pytest.raises(ValueError, match="Task failed"):
        dead.return_value  # noqa: B018
    delivery = task_delivery(result.id)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("dead", 3, None)
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 3
    make_due()
    worker_once()
    assert task_delivery(result.id).attempts == 3  # a dead letter is not run again


def test_get_result_reads_one_row_and_the_errors_only_of_a_task_that_failed(
    django_assert_num_queries,
):
    done = add.enqueue(2, 3)
    retried = fail.enqueue("jammed")
    worker_once()

    with django_assert_num_queries(1):  # the delivery, its event and its return value
        assert add.get_result(done.id).return_value == 5
    with django_assert_num_queries(2):  # and its failed attempt
        assert len(fail.get_result(retried.id).errors) == 1


def test_a_task_s_return_value_is_written_in_one_statement_and_replaced_by_a_rerun():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    result = add.enqueue(2, 3)
    with CaptureQueriesContext(connection) as run:
        worker_once()

    statements = [q["sql"] for q in run.captured_queries]
    table = connection.ops.quote_name("eventbus_taskreturn")  # `...` on MariaDB
    writes = [sql for sql in statements if sql.startswith(f"INSERT INTO {table}")]
    assert len(writes) == 1, statements
    assert not [sql for sql in statements if f"FROM {table}" in sql], statements
    # a second run of the same task (as a replay makes) replaces the value it returned
    TaskReturn.objects.filter(message_id=uuid.UUID(result.id)).update(value=0, worker="old")
    call_command(
        "eventbus", "replay", "--event", "eventbus.task_enqueued", "--handler", RUN_TASK,
        "--again", stdout=StringIO(),
    )  # fmt: skip
    returned = TaskReturn.objects.get(message_id=uuid.UUID(result.id))
    assert returned.value == 5 and returned.worker != "old"


def test_a_task_whose_run_after_is_in_the_future_waits_for_it():
    run_after = timezone.now() + timedelta(hours=1)
    result = record.using(run_after=run_after).enqueue("later")

    worker_once()

    assert CALLS == []
    delivery = task_delivery(result.id)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        "waiting",
        0,
        run_after,
    )
    assert record.get_result(result.id).status == TaskResultStatus.READY
    assert record.get_result(result.id).task.run_after == run_after

    outcomes = retry_due_batch(now=run_after + timedelta(seconds=1))

    assert [o.status for o in outcomes] == ["succeeded"]
    assert CALLS == ["later"]
    assert record.get_result(result.id).status == TaskResultStatus.SUCCESSFUL


# --- Django's API ---------------------------------------------------------------------------


def test_higher_priority_tasks_run_first_among_due_ones():
    record.using(priority=-5).enqueue("low")
    record.enqueue("normal")
    record.using(priority=10).enqueue("high")
    record.using(priority=-5).enqueue("low again")

    worker_once()

    assert CALLS == ["high", "normal", "low", "low again"]


def test_a_worker_given_queues_runs_only_their_tasks_and_every_event_delivery(subscribe):
    handled = []
    subscribe(ThingHappened, lambda event: handled.append(event.thing_id))
    report = record.using(queue_name="reports").enqueue("report")
    record.enqueue("default")

    worker_once("default")

    assert CALLS == ["default"]
    assert task_delivery(report.id).status == "waiting"
    worker_once("reports")
    assert CALLS == ["default", "report"]


def test_a_worker_refuses_a_queue_no_backend_has():
    with pytest.raises(
        CommandError, match=r"--queue nope: no OutboxTaskBackend .*\['default', 'reports'\]"
    ):
        worker_once("nope")


def test_enqueue_refuses_an_unknown_queue_and_writes_nothing():
    with pytest.raises(InvalidTask, match=r"Queue 'emails' is not valid for backend\."):
        record.using(queue_name="emails").enqueue("x")

    assert OutboxMessage.objects.count() == 0


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((object(),), {}, "The arguments of eventbus_tests.sample_tasks.record must be JSON"),
        ((), {"label": timezone.now()}, "The keyword arguments of eventbus_tests.sample_tasks"),
        (({1: "a"},), {}, "dict keys must be strings"),
        ((float("nan"),), {}, "must be JSON"),
    ],
)
def test_enqueue_refuses_arguments_that_are_not_json_and_writes_nothing(args, kwargs, message):
    with pytest.raises(InvalidTaskArguments, match=message):
        record.enqueue(*args, **kwargs)

    assert OutboxMessage.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_a_task_that_takes_context_sees_its_attempt():
    result = attempt_number.enqueue(succeed_at=2)

    worker_once()
    make_due()
    worker_once()

    assert CALLS == [1, 2]
    done = attempt_number.get_result(result.id)
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value == 2
    assert done.attempts == 2
    assert [e.traceback.splitlines()[-1] for e in done.errors] == ["RuntimeError: attempt 1 of 2"]


def test_worker_ids_name_the_worker_that_made_each_attempt():
    from django.tasks.signals import task_started

    started: list[list[str]] = []

    def on_started(sender, *, task_result, **extra):
        started.append(task_result.worker_ids)

    result = attempt_number.enqueue(succeed_at=2)
    task_started.connect(on_started)
    try:
        worker_once()  # one worker fails the first attempt
        make_due()
        worker_once()  # another one succeeds
    finally:
        task_started.disconnect(on_started)

    done = attempt_number.get_result(result.id)
    a_worker = re.compile(rf"{re.escape(socket.gethostname())}:{os.getpid()}:[0-9a-f]{{6}}")
    assert len(done.worker_ids) == done.attempts == 2
    assert all(a_worker.fullmatch(name) for name in done.worker_ids), done.worker_ids
    assert done.worker_ids[0] != done.worker_ids[1]  # each `worker` run has a name of its own
    assert started == [done.worker_ids[:1], done.worker_ids[1:]]
    (failure,) = DeliveryAttempt.objects.filter(delivery=task_delivery(result.id))
    assert failure.worker == done.worker_ids[0]
    assert TaskReturn.objects.get(message_id=uuid.UUID(result.id)).worker == done.worker_ids[1]


def test_a_return_value_that_is_not_json_is_a_dead_letter_at_once():
    result = give_back_an_object.enqueue()

    worker_once()

    delivery = task_delivery(result.id)
    assert (delivery.status, delivery.attempts) == ("dead", 1)
    assert delivery.last_error.startswith(
        "DoNotRetry: the return value of eventbus_tests.sample_tasks.give_back_an_object "
        "must be JSON"
    )
    assert give_back_an_object.get_result(result.id).status == TaskResultStatus.FAILED
    assert not TaskReturn.objects.exists()


@pytest.mark.parametrize("result_id", ["not-a-uuid", str(uuid.uuid4())])
def test_get_result_of_an_unknown_id_raises_django_s_error(result_id):
    with pytest.raises(TaskResultDoesNotExist):
        record.get_result(result_id)


def test_get_result_of_an_event_that_is_not_a_task_raises_django_s_error():
    with transaction.atomic():
        envelope = publish(ThingHappened(thing_id=1))

    with pytest.raises(TaskResultDoesNotExist):
        record.get_result(str(envelope.event_id))


def test_enqueue_outside_a_transaction_commits_on_its_own():
    result = record.enqueue("autocommit")

    assert not transaction.get_connection().in_atomic_block
    assert OutboxMessage.objects.get(pk=result.id).name == "eventbus.task_enqueued"
    worker_once()
    assert CALLS == ["autocommit"]


# --- the bus around it ----------------------------------------------------------------------


def test_a_task_sends_the_bus_s_lifecycle_signals():
    seen = []

    def on_success(sender, *, envelope, handler_id, **extra):
        seen.append(("succeeded", sender, handler_id))

    def on_dead(sender, *, envelope, handler_id, error, **extra):
        seen.append(("dead", sender, error))

    delivery_succeeded.connect(on_success)
    delivery_dead_lettered.connect(on_dead)
    try:
        record.enqueue("x")
        give_back_an_object.enqueue()
        worker_once()
    finally:
        delivery_succeeded.disconnect(on_success)
        delivery_dead_lettered.disconnect(on_dead)

    assert seen[0] == ("succeeded", "eventbus.task_enqueued", RUN_TASK)
    assert seen[1][:2] == ("dead", "eventbus.task_enqueued")


def test_stats_show_the_tasks_by_status():
    record.enqueue("ok")
    fail.enqueue("ko")
    record.using(run_after=timezone.now() + timedelta(hours=1)).enqueue("later")
    worker_once()

    line = next(h for h in stats().handlers if h.handler == RUN_TASK)

    assert (line.subscribed, line.succeeded, line.failed, line.waiting) == (True, 1, 1, 1)
    out = StringIO()
    call_command("eventbus", "stats", stdout=out)
    assert RUN_TASK in out.getvalue()


def test_the_admin_lists_tasks_among_the_deliveries(admin_client):
    result = record.using(queue_name="reports", priority=3).enqueue("listed")

    page = admin_client.get("/admin/eventbus/delivery/", {"queue": "reports"})
    detail = admin_client.get(f"/admin/eventbus/delivery/{task_delivery(result.id).pk}/change/")

    assert page.status_code == 200
    assert result.id in page.content.decode()
    assert "eventbus.task_enqueued" in page.content.decode()
    assert detail.status_code == 200
    assert "reports" in detail.content.decode()


def test_the_task_event_stays_out_of_the_modules_contracts():
    assert TaskEnqueued not in registered_events()
    out = StringIO()
    call_command("eventbus", "catalog", "--format", "json", stdout=out)
    assert "eventbus.task_enqueued" not in out.getvalue()
    with pytest.raises(EventDefinitionError, match="internal to the bus"), transaction.atomic():
        publish(TaskEnqueued(task="x.y", backend="default", args=[], kwargs={}))


def test_the_runner_is_the_subscribed_handler():
    from eventbus.subscriptions import subscription

    sub = subscription(RUN_TASK)
    assert sub is not None and sub.event is TaskEnqueued
    assert sample_tasks.record.module_path == "eventbus_tests.sample_tasks.record"


def test_a_task_arriving_from_the_broker_is_refused_as_malformed():
    from eventbus.broker.amqp import Received
    from eventbus.broker.inbox import read
    from eventbus.broker.wire import MalformedMessage, encode
    from eventbus.publishing import new_envelope

    event = TaskEnqueued(
        task="eventbus_tests.sample_tasks.record", backend="default", args=["x"], kwargs={}
    )
    wire = encode(new_envelope(event))
    received = Received(
        queue="orders.events",
        delivery_tag=1,
        message_id=wire.message_id,
        body=wire.body,
        headers=wire.headers,
        routing_key="eventbus.task_enqueued.v1",
    )

    with pytest.raises(
        MalformedMessage, match="internal to the bus: it never travels over the broker"
    ):
        read(received)
    assert OutboxMessage.objects.count() == 0


def test_purging_a_finished_task_removes_its_result_with_it():
    from eventbus.operations.purge import purge

    result = record.enqueue("old")
    worker_once()
    two_days_ago = timezone.now() - timedelta(days=2)
    OutboxMessage.objects.filter(pk=uuid.UUID(result.id)).update(
        occurred_at=two_days_ago, dispatched_at=two_days_ago
    )

    purged = purge(older_than=timedelta(days=1))

    assert (purged.messages, purged.deliveries) == (1, 1)
    assert not TaskReturn.objects.exists()
    with pytest.raises(TaskResultDoesNotExist):
        record.get_result(result.id)


def test_the_runner_is_subscribed_only_where_settings_use_the_outbox_backend():
    """A project without OutboxTaskBackend in TASKS gets no task handler (nor a line in its
    stats); this project's settings name it."""
    from eventbus.tasks import configured

    assert configured() is True
    with override_settings(
        TASKS={"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    ):
        assert configured() is False
    with override_settings(TASKS={}):
        assert configured() is False


def test_django_s_task_signals_are_sent_started_per_attempt_finished_once():
    from django.tasks.signals import task_finished, task_started

    from eventbus.tasks import OutboxTaskBackend

    seen: list[tuple[str, str, str, object]] = []

    def on_started(sender, *, task_result, **extra):
        seen.append(("started", task_result.id, task_result.status, sender))

    def on_finished(sender, *, task_result, **extra):
        value = task_result.return_value if task_result.status == "SUCCESSFUL" else None
        seen.append(("finished", task_result.id, task_result.status, value))

    task_started.connect(on_started)
    task_finished.connect(on_finished)
    try:
        # given a task that succeeds, and one that fails on each of its 3 attempts
        ok = add.enqueue(2, 3)
        bad = fail.enqueue("no printer")
        worker_once()
        for _ in range(2):
            make_due()
            worker_once()
    finally:
        task_started.disconnect(on_started)
        task_finished.disconnect(on_finished)

    # then each attempt was started, and each task finished once, as get_result reads it
    started = [s for s in seen if s[0] == "started"]
    assert sorted(started, key=lambda s: s[1] != ok.id) == [
        ("started", ok.id, TaskResultStatus.RUNNING, OutboxTaskBackend),
        *[("started", bad.id, TaskResultStatus.RUNNING, OutboxTaskBackend)] * 3,
    ]
    assert [s for s in seen if s[0] == "finished"] == [
        ("finished", ok.id, TaskResultStatus.SUCCESSFUL, 5),
        ("finished", bad.id, TaskResultStatus.FAILED, None),
    ]

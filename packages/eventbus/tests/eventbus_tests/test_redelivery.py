"""The redelivery drill (eventbus.delivery.redelivery) and its pytest switch.

What the drill does to each handler, through every entry point, is in
test_engine_scenarios.py; here: how it orders a batch, and the negative control, a planted
handler that is not idempotent, which fails under ``--eventbus-redeliver`` and passes without.
"""

import os
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from eventbus import publish
from eventbus.delivery.due import retry_due_batch
from eventbus.delivery.redelivery import arrange, drilling, redelivering
from eventbus.delivery.worker import Worker
from eventbus.envelope import Envelope
from eventbus.models import Delivery
from eventbus.testing_redeliver import wanted
from eventbus_tests.sample import OrderedThingHappened, ThingHappened

WORKER_MODE = {"DELIVERY": "worker", "MAX_ATTEMPTS": 3, "RETRY_BASE_SECONDS": 10, "RETRY_JITTER": 0}


def envelope(label: str, aggregate: str) -> Envelope:
    return Envelope(
        uuid.uuid4(),
        label,
        1,
        datetime(2026, 1, 1, tzinfo=UTC),
        "samples",
        "c",
        None,
        {},
        aggregate,
    )


def _itself(item: Envelope) -> Envelope:
    return item


# --- the order of a batch ------------------------------------------------------------


@pytest.mark.eventbus_redeliver(False)
def test_off_a_batch_keeps_its_order():
    batch = [envelope("a1", "a"), envelope("b1", "b"), envelope("a2", "a")]

    assert not drilling()
    assert arrange(batch, _itself) is batch


def test_under_the_drill_aggregates_swap_and_each_keeps_its_own_order():
    batch = [
        envelope("a1", "a"),
        envelope("b1", "b"),
        envelope("a2", "a"),
        envelope("lone", ""),  # no aggregate: an aggregate of its own
        envelope("b2", "b"),
    ]

    before = drilling()  # on under --eventbus-redeliver
    with redelivering():
        arranged = arrange(batch, _itself)

    assert [e.name for e in arranged] == ["lone", "b1", "b2", "a1", "a2"]
    assert drilling() is before  # restored after the block


def _deliver_a_worker_batch(subscribe) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []

    def in_order(event: OrderedThingHappened) -> None:
        seen.append((event.thing_id, event.step))

    subscribe(OrderedThingHappened, in_order, ordered=True)
    with override_settings(EVENTBUS=WORKER_MODE):
        with transaction.atomic():
            publish(OrderedThingHappened(thing_id=7, step=1))
            publish(OrderedThingHappened(thing_id=8, step=1))
            publish(OrderedThingHappened(thing_id=7, step=2))
        Worker(once=True, batch_size=10).run()
    return seen


@pytest.mark.django_db(transaction=True)
@pytest.mark.eventbus_redeliver
def test_the_worker_delivers_a_batch_reordered_but_in_order_per_aggregate(subscribe):
    seen = _deliver_a_worker_batch(subscribe)

    # Aggregate 8 before 7, 7's steps in order; each event crashed once then delivered twice.
    assert seen == [(8, 1)] * 3 + [(7, 1)] * 3 + [(7, 2)] * 3
    assert list(Delivery.objects.values_list("status", "attempts")) == [("succeeded", 1)] * 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.eventbus_redeliver(False)
def test_without_the_drill_the_worker_delivers_a_batch_in_publish_order(subscribe):
    assert _deliver_a_worker_batch(subscribe) == [(7, 1), (8, 1), (7, 2)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.eventbus_redeliver
def test_a_batch_of_due_retries_is_reordered_too(subscribe):
    seen: list[int] = []
    down = {"now": True}

    def flaky(event: ThingHappened) -> None:
        if down["now"]:
            raise ConnectionError("the mail server is away")
        seen.append(event.thing_id)

    subscribe(ThingHappened, flaky)
    for thing_id in (7, 8):
        with transaction.atomic():
            publish(ThingHappened(thing_id=thing_id))
    down["now"] = False
    due = timezone.now() - timedelta(seconds=10)
    for offset, thing_id in enumerate((7, 8)):  # 7 is due first
        Delivery.objects.filter(message__payload__thing_id=thing_id).update(
            next_attempt_at=due + timedelta(seconds=offset)
        )

    retry_due_batch()

    assert seen == [8, 8, 8, 7, 7, 7]
    assert list(Delivery.objects.values_list("status", "attempts")) == [("succeeded", 2)] * 2


# --- the switch and the marker -------------------------------------------------------


@pytest.mark.parametrize("argument", ["yes", 1, None])
def test_a_marker_argument_that_is_not_a_bool_is_refused(request, argument):
    request.node.add_marker(pytest.mark.eventbus_redeliver(argument))

    with pytest.raises(pytest.UsageError, match=r"needs True or False"):
        wanted(request.node)


# --- the negative control: a planted handler that is not idempotent -------------------

PLANTED_TESTS = """
import pytest
from django.db import transaction

from eventbus import publish
from eventbus.subscriptions import subscriber, unsubscribe
from eventbus_tests import planted
from eventbus_tests.sample import ThingHappened

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def planted_handler():
    subscriber(ThingHappened)(planted.count_with_no_dedup_key)
    with planted.effects_table():
        yield
    unsubscribe("eventbus_tests.planted.count_with_no_dedup_key")


def publish_one_thing_and_count():
    with transaction.atomic():
        publish(ThingHappened(thing_id=1))
    assert planted.effects() == 1


def test_unmarked():
    publish_one_thing_and_count()


@pytest.mark.eventbus_redeliver
def test_marked_on():
    publish_one_thing_and_count()


@pytest.mark.eventbus_redeliver(False)
def test_marked_off():
    publish_one_thing_and_count()
"""


def run_planted(tmp_path: Path, *options: str) -> dict[str, str]:
    """Run the planted tests in a pytest of their own (SQLite, in memory); {test: outcome}."""
    path = tmp_path / "test_planted.py"
    path.write_text(textwrap.dedent(PLANTED_TESTS))
    # The bus's tests' own pytest.ini and settings, and the eventbus this process imported.
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    project = Path(settings.BASE_DIR).parent
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(project / "pytest.ini"),
            "--rootdir",
            str(project),
            "-p",
            "eventbus.testing",
            "-p",
            "no:cacheprovider",
            "-rA",
            *options,
            str(path),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    outcomes = {}
    for line in result.stdout.splitlines():  # the summary: "PASSED ...::test_unmarked"
        outcome, _, test = line.partition(" ")
        if outcome in ("PASSED", "FAILED") and "::" in test:
            outcomes[test.rsplit("::", 1)[1].split()[0]] = outcome.lower()
    assert outcomes, result.stdout + result.stderr
    return outcomes


def test_a_handler_that_is_not_idempotent_fails_under_the_switch_and_passes_without(tmp_path):
    assert run_planted(tmp_path) == {
        "test_unmarked": "passed",
        "test_marked_on": "failed",
        "test_marked_off": "passed",
    }
    assert run_planted(tmp_path, "--eventbus-redeliver") == {
        "test_unmarked": "failed",
        "test_marked_on": "failed",
        "test_marked_off": "passed",
    }

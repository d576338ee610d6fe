"""The worker's guarantees on PostgreSQL and MariaDB, proven with real processes that are
killed.

Every test runs `manage.py` subprocesses (the worker, a load of real order placements)
against a throwaway database of its own and checks the result with plain SQL:

- SIGKILLed at random moments and restarted, the worker loses nothing and applies nothing
  twice: every committed order has exactly one effect in every subscriber, and a rolled-back
  transaction left no event;
- two and four workers share one backlog without delivering any event twice, each doing
  part of it;
- SIGTERM stops a worker after its current batch, with exit status 0 and its summary.

Double deliveries are made visible by tests.proof's counting subscribers, which have no
idempotency of their own (a second delivery would count 2).

Each test runs once per server, on the one DATABASE_URL names: PostgreSQL (`make
test-postgres`) or MariaDB (`make test-mariadb`), both of which CI runs; the other server's
run is skipped, naming the command that runs it. With such a URL and no server they fail,
they never skip.
"""

import json
import random
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest

from tests.proof import harness
from tests.support.databases import Database, poll

pytestmark = [pytest.mark.postgres, pytest.mark.mariadb]

ORDER_HANDLERS = {
    "accounts.user_registered": {
        "orders.handlers.replicate_registered_customer",
        "tests.proof.handlers.count_user_registered",
    },
    "orders.order_placed": {
        "accounts.handlers.record_order_placed",
        "tests.proof.handlers.count_order_placed",
    },
    "orders.order_cancelled": {
        "accounts.handlers.record_order_cancelled",
        "tests.proof.handlers.count_order_cancelled",
    },
    # orders' confirmation of each placed order, a Django task run by the same workers
    "eventbus.task_enqueued": {"eventbus.tasks.runner.run_task"},
}
TICK_HANDLERS = {
    "proof.tick_happened": {
        "tests.proof.handlers.count_tick_a",
        "tests.proof.handlers.count_tick_b",
    }
}
SUMMARY = re.compile(r"Delivered (\d+) messages \((\d+) deliveries\) and (\d+) retries")


@pytest.fixture(scope="module", params=["postgresql", "mariadb"])
def template(request: pytest.FixtureRequest) -> Iterator[Database]:
    """The migrated database each proof clones, on each server in turn."""
    vendor = request.param
    server = harness.server_url(vendor)
    if server is None:
        pytest.skip(
            f"needs {vendor} (run {harness.MAKE_TARGET[vendor]}): DATABASE_URL names another "
            "database"
        )
    with harness.migrated_template(server) as migrated:
        yield migrated


def summary(stdout: str) -> tuple[int, int]:
    """(messages, deliveries) from the worker's last line."""
    found = SUMMARY.search(stdout)
    assert found, f"no summary in the worker's output: {stdout!r}"
    return int(found[1]), int(found[2])


def assert_each_event_delivered_once(db: Database, handlers: dict[str, set[str]]) -> int:
    """Nothing undispatched; one succeeded delivery per (event, expected handler) and no
    other; every counting handler applied each event exactly once. Returns the events."""
    assert db.value("SELECT count(*) FROM eventbus_outboxmessage") > 0
    assert db.rows("SELECT id FROM eventbus_outboxmessage WHERE dispatched_at IS NULL") == [], (
        "undispatched events are left"
    )
    assert db.rows("SELECT status, count(*) FROM eventbus_delivery GROUP BY status") == [
        ("succeeded", db.value("SELECT count(*) FROM eventbus_delivery"))
    ]
    assert db.value("SELECT count(*) FROM eventbus_deliveryattempt") == 0
    assert db.value("SELECT max(attempts) FROM eventbus_delivery") == 1

    delivered: dict[object, set[str]] = {}
    names: dict[object, str] = {}
    for event_id, name, handler in db.rows(
        "SELECT m.id, m.name, d.handler FROM eventbus_outboxmessage m "
        "LEFT JOIN eventbus_delivery d ON d.message_id = m.id",
    ):
        names[event_id] = name
        rows = delivered.setdefault(event_id, set())
        if handler is not None:
            assert handler not in rows, f"{handler} has two delivery rows for {event_id}"
            rows.add(handler)
    wrong = {e: (names[e], got) for e, got in delivered.items() if got != handlers[names[e]]}
    assert wrong == {}, f"events whose deliveries are not exactly their handlers: {wrong}"
    expected_deliveries = sum(len(handlers[n]) for n in names.values())
    assert db.value("SELECT count(*) FROM eventbus_delivery") == expected_deliveries

    counted = {
        (event_id, f"tests.proof.handlers.{handler}"): applied
        for event_id, handler, applied in db.rows(
            "SELECT event_id, handler, applied FROM proof_effect"
        )
    }
    expected = {
        (e, h) for e, name in names.items() for h in handlers[name] if h.startswith("tests.proof.")
    }
    assert set(counted) == expected, "a counting handler missed an event or counted a foreign one"
    twice = {key: n for key, n in counted.items() if n != 1}
    assert twice == {}, f"effects applied more than once: {twice}"
    return len(names)


def slow_worker(db: Database, batch: int, attempt_log: Path) -> subprocess.Popen[str]:
    """A worker on ``db`` in batches of ``batch`` whose handlers take ~2 ms a call, logging
    each attempt to ``attempt_log``."""
    slow = {"PROOF_HANDLER_SLEEP_MS": "2", "PROOF_ATTEMPT_LOG": str(attempt_log)}
    return harness.worker(db, f"--batch-size={batch}", "--poll=0.2", **slow)


def attempts_logged(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_a_worker_killed_at_random_moments_loses_nothing_and_applies_nothing_twice(
    template: Database, tmp_path: Path
) -> None:
    # Given a load of real registrations and order placements (a quarter rolled back on
    # purpose, a fifth of the committed orders then cancelled) published in worker mode,
    rng = random.Random()
    seed = rng.randrange(1_000_000)
    report, attempt_log = tmp_path / "load.json", tmp_path / "attempts.log"
    slow = {"PROOF_HANDLER_SLEEP_MS": "8", "PROOF_ATTEMPT_LOG": str(attempt_log)}
    with harness.throwaway_database(template, "proof_crash") as db:
        load = harness.spawn(
            db,
            "proof_load",
            "--users=6",
            "--orders=200",
            "--rollback-every=4",
            "--cancel-every=5",
            f"--seed={seed}",
            f"--report={report}",
        )
        # when the worker delivering it is SIGKILLed at random moments and started again
        # (while it starts, the load piles up a backlog, so it has work when it dies),
        kills, busy_kills = 0, 0
        deadline = time.monotonic() + 100
        while load.poll() is None or kills < 5:
            assert time.monotonic() < deadline, f"the load did not finish (seed {seed})"
            worker = harness.worker(db, "--batch-size=20", "--poll=0.2", **slow)
            poll(
                partial(harness.registered, db, worker),
                timeout=60,
                what="a worker start",
                interval=0.05,
            )
            time.sleep(rng.uniform(0.05, 0.8))
            backlog = db.value(
                "SELECT count(*) FROM eventbus_outboxmessage WHERE dispatched_at IS NULL"
            )
            harness.kill(worker)
            kills += 1
            busy_kills += backlog > 0
        _, load_err = load.communicate()
        assert load.returncode == 0, load_err
        # and a last worker drains what is left,
        drained, _ = summary(harness.manage(db, "eventbus", "worker", "--once", timeout=90, **slow))

        # then every committed order has exactly one effect in every subscriber,
        loaded = json.loads(report.read_text())
        committed = loaded["committed"]
        assert len(committed) == 150
        assert sorted(db.rows("SELECT id FROM orders_order")) == sorted(
            (o["order_id"],) for o in committed
        ), "an order of a rolled-back transaction exists, or a committed one is missing"
        records = db.rows(
            "SELECT order_id, user_id, total, currency, placed, cancelled "
            "FROM accounts_orderrecord ORDER BY order_id",
        )
        assert records == sorted(
            (o["order_id"], o["customer_id"], Decimal(o["total"]), "EUR", True, o["cancelled"])
            for o in committed
        )
        assert sum(o["cancelled"] for o in committed) == 30
        assert db.rows(
            "SELECT customer_id, username FROM orders_customer ORDER BY customer_id"
        ) == [(uid, f"proof{i}") for i, uid in enumerate(loaded["user_ids"])]
        events = assert_each_event_delivered_once(db, ORDER_HANDLERS)
        # (and each placed order's confirmation task, run once)
        assert events == 6 + 150 + 30 + 150
        counted = events - 150  # the tasks have no counting handler
        # and no event exists for a rolled-back transaction.
        stored = {str(e) for (e,) in db.rows("SELECT id FROM eventbus_outboxmessage")}
        assert len(loaded["rolled_back_events"]) == 50
        assert stored.isdisjoint(loaded["rolled_back_events"])
        assert {e for o in committed for e in o["events"]} <= stored

    # The kills did land mid-batch: handler calls whose effects a kill rolled back.
    rolled_back_calls = attempts_logged(attempt_log) - counted  # one counting handler each
    print(
        f"seed {seed}: {kills} kills ({busy_kills} with a backlog), {rolled_back_calls} handler "
        f"calls rolled back by kills, {drained} messages left for the final drain, "
        f"{loaded['replica_waits']} waits for a replica"
    )
    assert rolled_back_calls > 0, "no kill interrupted a batch; the proof proved nothing"


@pytest.mark.parametrize("workers", [2, 4])
def test_parallel_workers_share_a_backlog_and_deliver_each_event_once(
    template: Database, workers: int
) -> None:
    # Given 5,000 events with two subscribers each, published before any worker runs,
    events = 5000
    with harness.throwaway_database(template, f"proof_parallel{workers}") as db:
        harness.fill_ticks(db, events)
        # when N workers start on it at the same moment (the table is locked until all of
        # them wait on their first claim, so a fast starter cannot drain it alone),
        with harness.outbox_locked(db) as waiting:
            procs = [
                harness.worker(db, "--once", "--batch-size=50", PROOF_HANDLER_SLEEP_MS="0.2")
                for _ in range(workers)
            ]
            poll(
                lambda: waiting() == workers,
                timeout=60,
                what=f"{workers} workers waiting on their first claim",
                interval=0.05,
            )
        outputs = [p.communicate(timeout=90) for p in procs]

        # then each worker did part of the work, and together exactly all of it, once.
        for p, (_, err) in zip(procs, outputs, strict=True):
            assert p.returncode == 0, err
        totals = [summary(out) for out, _ in outputs]
        print(f"{workers} workers delivered {[m for m, _ in totals]} messages")
        assert all(messages > 0 for messages, _ in totals), totals
        assert sum(m for m, _ in totals) == events
        assert sum(d for _, d in totals) == 2 * events
        assert assert_each_event_delivered_once(db, TICK_HANDLERS) == events


def test_sigterm_stops_the_worker_after_its_current_batch(
    template: Database, tmp_path: Path
) -> None:
    # Given a worker draining a backlog through a slow handler (a batch takes ~0.2 s),
    events, batch = 3000, 50
    attempt_log = tmp_path / "attempts.log"
    with harness.throwaway_database(template, "proof_sigterm") as db:
        harness.fill_ticks(db, events)
        worker = slow_worker(db, batch, attempt_log)
        dispatched_sql = (
            "SELECT count(*) FROM eventbus_outboxmessage WHERE dispatched_at IS NOT NULL"
        )
        poll(
            lambda: db.value(dispatched_sql) >= 2 * batch,
            timeout=60,
            what="a drain",
            interval=0.05,
        )

        # when it is sent SIGTERM in the middle of the drain,
        time.sleep(random.uniform(0, 0.2))  # anywhere within a batch
        worker.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        out, err = worker.communicate(timeout=30)
        stopped_in = time.monotonic() - sent

        # then it exits 0 with its summary, having finished the batch it was in, no more,
        assert worker.returncode == 0, err
        assert "SIGTERM, stopping after this batch" in err
        messages, deliveries = summary(out)
        assert 0 < messages < events
        assert messages % batch == 0, "a partial batch was committed"
        assert deliveries == 2 * messages
        assert stopped_in < 5, f"took {stopped_in:.1f} s to stop"
        # and left no half-done batch: every dispatched row has both deliveries and effects,
        # no undispatched row has any, and no handler call was thrown away.
        assert db.value(dispatched_sql) == messages
        per_row = Counter(
            dispatched is not None
            for (dispatched,) in db.rows(
                "SELECT m.dispatched_at FROM eventbus_delivery d "
                "JOIN eventbus_outboxmessage m ON m.id = d.message_id",
            )
        )
        assert per_row == {True: 2 * messages}
        assert db.value("SELECT count(*) FROM proof_effect") == 2 * messages
        assert db.value("SELECT coalesce(max(applied), 0) FROM proof_effect") == 1
        assert attempts_logged(attempt_log) == 2 * messages
        assert db.value("SELECT count(*) FROM eventbus_worker") == 0

        # A worker started afterwards delivers exactly the rest.
        quick = {"PROOF_ATTEMPT_LOG": str(attempt_log)}
        rest, _ = summary(harness.manage(db, "eventbus", "worker", "--once", timeout=90, **quick))
        assert rest == events - messages
        assert assert_each_event_delivered_once(db, TICK_HANDLERS) == events


def test_a_worker_whose_database_connections_are_killed_carries_on(
    template: Database, tmp_path: Path
) -> None:
    # Given a worker draining a backlog through a slow handler,
    events, batch = 1000, 20
    attempt_log = tmp_path / "attempts.log"
    with harness.throwaway_database(template, "proof_outage") as db:
        harness.fill_ticks(db, events)
        worker = slow_worker(db, batch, attempt_log)
        undispatched = "SELECT count(*) FROM eventbus_outboxmessage WHERE dispatched_at IS NULL"
        poll(lambda: db.value(undispatched) < events - batch, timeout=60, what="a drain")

        # when the server drops every connection it has (a restart, a failover), twice,
        for _ in range(2):  # (the second once the worker is connected again)
            poll(
                lambda: db.disconnect_others() > 0,
                timeout=30,
                what="a connection to drop",
                interval=0.05,
            )

        # then the worker is still running, reconnects and drains the rest,
        poll(lambda: db.value(undispatched) == 0, timeout=90, what="the rest drained")
        assert worker.poll() is None, worker.communicate()[1]
        # with its heartbeat row still there, and says why it paused,
        assert db.value("SELECT count(*) FROM eventbus_worker") == 1
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
        assert "database unavailable" in err
        # each event delivered exactly once: a batch cut short rolled back with its effects.
        assert summary(out)[0] <= events
        assert assert_each_event_delivered_once(db, TICK_HANDLERS) == events

"""The operations dashboard's render time with 1M outbox rows and their deliveries in history.

Fills a fresh PostgreSQL database by INSERT ... SELECT generate_series: ``--history`` events
spread evenly over the last ``--hours`` hours (so about history/hours in the dashboard's
hour), each dispatched 3 ms after it occurred with one succeeded delivery 1-40 ms after it;
one event in 200 also has a failed or dead delivery to a second handler, under one of three
exception types; ``--backlog`` undispatched events in the last five minutes; two workers,
one stale. Then VACUUM ANALYZE, as autovacuum would.

Renders ``/admin/eventbus/dashboard/`` through Django's test Client as a logged-in superuser,
once to warm up and then ``--renders`` times, and prints the median and the slowest, the
queries of one render, and the plan of each of the bus's statements (EXPLAIN ANALYZE).

    python bench/dashboard_render.py [--history 1000000] [--hours 24] [--renders 20]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import setup

ERRORS = ("RuntimeError: downstream is down", "KeyError: 'sku'", "TimeoutError: timed out")


def fill(url: str, *, history: int, hours: int, backlog: int) -> None:
    import psycopg

    from eventbus.models import Delivery, OutboxMessage

    outbox, deliveries = OutboxMessage._meta.db_table, Delivery._meta.db_table
    columns = (
        "id, name, version, occurred_at, producer, correlation_id, causation_id, "
        "aggregate_id, payload, dispatched_at"
    )
    # uuid7-shaped ids: 48 bits of the event's milliseconds, then the row number.
    row = (
        "(lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') "
        "|| lpad(to_hex(i), 20, '0'))::uuid, 'bench.benchmark_ticked', 1, ts, 'bench', "
        "'bench', NULL, '', jsonb_build_object('n', i)"
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit TO OFF")
        conn.execute(
            f"INSERT INTO {outbox} ({columns}) SELECT {row}, ts + interval '3 ms' FROM ("
            f"SELECT i, now() - interval '{hours} hours' * ({history} - i)::float / {history} "
            f"AS ts FROM generate_series(1, {history}) AS i) AS s"
        )
        conn.execute(
            f"INSERT INTO {outbox} ({columns}) SELECT {row}, NULL FROM ("
            f"SELECT i, now() - interval '5 minutes' * random() AS ts "
            f"FROM generate_series({history + 1}, {history + backlog}) AS i) AS s"
        )
        insert = (
            f"INSERT INTO {deliveries} (message_id, handler, status, attempts, last_error, "
            "last_traceback, next_attempt_at, created_at, updated_at) "
        )
        conn.execute(
            insert + "SELECT id, '_events.noop', 'succeeded', 1, '', '', NULL, "
            "occurred_at + interval '1 ms' * (1 + (payload->>'n')::int % 40), "
            f"occurred_at + interval '1 ms' * (1 + (payload->>'n')::int % 40) FROM {outbox} "
            "WHERE dispatched_at IS NOT NULL"
        )
        errors = "ARRAY[" + ", ".join(f"'{e.replace("'", "''")}'" for e in ERRORS) + "]"
        conn.execute(
            insert + "SELECT id, '_events.fragile', "
            "CASE WHEN n % 400 = 0 THEN 'dead' ELSE 'failed' END, 3, "
            f"({errors})[1 + n / 200 % 3], 'Traceback ...', "
            "CASE WHEN n % 400 = 0 THEN NULL ELSE now() + interval '1 hour' END, "
            "occurred_at + interval '5 ms', occurred_at + interval '1 minute' FROM ("
            f"SELECT id, occurred_at, (payload->>'n')::int AS n FROM {outbox} "
            "WHERE dispatched_at IS NOT NULL) AS m WHERE n % 200 = 0"
        )
        conn.execute(
            "INSERT INTO eventbus_worker (name, hostname, pid, started_at, heartbeat_at) VALUES "
            "('bench-1', 'bench', 1, now(), now()), "
            "('bench-2', 'bench', 2, now() - interval '1 hour', now() - interval '10 minutes')"
        )
        conn.execute(f"VACUUM ANALYZE {outbox}")
        conn.execute(f"VACUUM ANALYZE {deliveries}")


def explain(sql: str) -> list[str]:
    """The plan of a statement as Django logged it (its parameters inlined)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}")
        return [line for (line,) in cursor.fetchall()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=1_000_000, help="delivered events")
    parser.add_argument("--hours", type=int, default=24, help="the history spans these")
    parser.add_argument("--backlog", type=int, default=300, help="undispatched events")
    parser.add_argument("--renders", type=int, default=20)
    args = parser.parse_args()
    setup("postgres", "dash_render")

    import os

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from eventbus.models import Delivery, OutboxMessage

    start = time.perf_counter()
    fill(os.environ["DATABASE_URL"], history=args.history, hours=args.hours, backlog=args.backlog)
    print(
        f"filled {OutboxMessage.objects.count():,} outbox rows and "
        f"{Delivery.objects.count():,} deliveries in {time.perf_counter() - start:.1f} s"
    )

    setup_test_environment()
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("bench", password="bench"))
    url = "/admin/eventbus/dashboard/"
    first = client.get(url)  # warm-up: templates, connection
    assert first.status_code == 200, first.status_code
    timings = []
    for _ in range(args.renders):
        began = time.perf_counter()
        page = client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
        assert page.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)

    snapshot = page.context["snapshot"]
    hour = snapshot.timeline
    print(
        f"the hour: {sum(m.published for m in hour.minutes):,} published, "
        f"{sum(m.deliveries for m in hour.minutes):,} deliveries, backlog now "
        f"{snapshot.gauges.backlog}; {sum(g.count for g in snapshot.failures):,} failed or "
        f"dead deliveries in {len(snapshot.failures)} groups"
    )
    print(
        f"render of {url} ({args.renders} renders, test Client, superuser): "
        f"median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms  "
        "(target <= 300 ms)"
    )
    sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    print(f"{len(queries.captured_queries)} queries, {sql_ms:.1f} ms of SQL in one render")
    for query in queries.captured_queries:
        if "eventbus_" not in query["sql"]:
            continue
        plan = explain(query["sql"])
        nodes = [line.strip() for line in plan if "Scan" in line or "Execution" in line]
        print(f"  {query['sql'][:90]}...")
        print("\n".join(f"      {line}" for line in nodes))


if __name__ == "__main__":
    main()

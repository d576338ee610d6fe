"""The worker draining a backlog to one no-op handler, against a bare SQL claim-and-mark loop.

Bare: the raw driver (psycopg, or mysqlclient on MariaDB), per batch one transaction:
``SELECT <the outbox columns> ... WHERE dispatched_at IS NULL ORDER BY id LIMIT n FOR UPDATE
SKIP LOCKED``, a no-op call per row, ``UPDATE ... SET dispatched_at = now() WHERE id IN
(...)``, commit (on PostgreSQL with ``synchronous_commit`` off, as the worker's batches have
it; MariaDB has no per-transaction equivalent, so neither side relaxes there). Bus:
``Worker(once=True)`` in-process, which also records one delivery row per (event, handler)
and looks for due retries after every batch. Each round refills the same backlog for each
side in turn, on the same database.

    python bench/worker_throughput.py [--db postgres|mariadb] [--events 5000]
        [--batch-size 100] [--rounds 7]
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import setup


def bare_claim_sql(outbox: str) -> str:
    """The bare loop's claim, the same on PostgreSQL and MariaDB: the oldest undispatched
    rows, skipping those another transaction holds."""
    return (
        "SELECT id, name, version, occurred_at, producer, correlation_id, causation_id, "
        f"aggregate_id, payload, dispatched_at FROM {outbox} WHERE dispatched_at IS NULL "
        "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="backlog per round and side")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--db", choices=["postgres", "mariadb"], default="postgres")
    args = parser.parse_args()
    os.environ["EVENTBUS_DELIVERY"] = "worker"  # the worker delivers everything, at once
    setup(args.db, "worker_throughput")
    report(args, mariadb_loops(args) if args.db == "mariadb" else postgres_loops(args))


class Loops(NamedTuple):
    """One database's side of the benchmark: refill the backlog, drain it bare or with the
    bus (each returns how many events it took), close the raw connection."""

    refill: Callable[[], None]
    bare: Callable[[], int]
    bus: Callable[[], int]
    close: Callable[[], None]


def postgres_loops(args: argparse.Namespace) -> Loops:
    import psycopg
    from _events import BenchmarkTicked, fill_sql

    from eventbus.delivery.worker import Worker
    from eventbus.models import Delivery, OutboxMessage

    outbox = OutboxMessage._meta.db_table
    deliveries = Delivery._meta.db_table
    raw = psycopg.connect(os.environ["DATABASE_URL"], autocommit=False)

    def refill() -> None:
        with raw.cursor() as cur:
            cur.execute(f"TRUNCATE {outbox}, {deliveries} CASCADE")
            cur.execute(
                fill_sql(
                    outbox, count=args.events, name=BenchmarkTicked.event_name, dispatched=False
                )
            )
            cur.execute(f"ANALYZE {outbox}")
        raw.commit()

    def noop(payload: object) -> None:
        return None

    claim_sql = bare_claim_sql(outbox)
    mark_sql = f"UPDATE {outbox} SET dispatched_at = now() WHERE id = ANY(%s)"

    def bare() -> int:
        done = 0
        while True:
            with raw.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit TO OFF")
                rows = cur.execute(claim_sql, [args.batch_size]).fetchall()
                if not rows:
                    raw.commit()
                    return done
                for row in rows:
                    noop(row[8])
                cur.execute(mark_sql, [[row[0] for row in rows]])
            raw.commit()
            done += len(rows)

    def bus() -> int:
        return Worker(once=True, batch_size=args.batch_size).run().messages

    return Loops(refill, bare, bus, raw.close)


def mariadb_loops(args: argparse.Namespace) -> Loops:
    import MySQLdb
    from _events import BenchmarkTicked, fill_sql_mariadb
    from django.db import connection

    from eventbus.delivery.worker import Worker
    from eventbus.models import Delivery, OutboxMessage

    outbox = OutboxMessage._meta.db_table
    deliveries = Delivery._meta.db_table
    settings = connection.settings_dict
    # The same session settings as Django's connection: READ COMMITTED, utf8mb4.
    raw = MySQLdb.connect(
        host=settings["HOST"],
        port=int(settings["PORT"] or 3306),
        user=settings["USER"],
        password=settings["PASSWORD"],
        database=settings["NAME"],
        charset="utf8mb4",
        autocommit=False,
    )
    raw.cursor().execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")

    def refill() -> None:
        cur = raw.cursor()
        cur.execute("SET SESSION foreign_key_checks = 0")
        cur.execute(f"TRUNCATE {deliveries}")
        cur.execute(f"TRUNCATE {outbox}")
        cur.execute("SET SESSION foreign_key_checks = 1")
        cur.execute(
            fill_sql_mariadb(
                outbox, count=args.events, name=BenchmarkTicked.event_name, dispatched=False
            )
        )
        raw.commit()
        cur.execute(f"ANALYZE TABLE {outbox}")
        cur.fetchall()
        raw.commit()

    def noop(payload: object) -> None:
        return None

    claim_sql = bare_claim_sql(outbox)

    def bare() -> int:
        done = 0
        cur = raw.cursor()
        while True:
            cur.execute(claim_sql, [args.batch_size])
            rows = cur.fetchall()
            if not rows:
                raw.commit()
                return done
            for row in rows:
                noop(row[8])
            marks = ", ".join(["%s"] * len(rows))
            cur.execute(
                f"UPDATE {outbox} SET dispatched_at = UTC_TIMESTAMP(6) WHERE id IN ({marks})",
                [row[0] for row in rows],
            )
            raw.commit()
            done += len(rows)

    def bus() -> int:
        return Worker(once=True, batch_size=args.batch_size).run().messages

    return Loops(refill, bare, bus, raw.close)


def report(args: argparse.Namespace, loops: Loops) -> None:
    from eventbus.models import Delivery

    refill, bare, bus, close = loops

    def timed(fn) -> float:
        refill()
        start = time.perf_counter()
        done = fn()
        elapsed = time.perf_counter() - start
        assert done == args.events, f"{fn.__name__} delivered {done} of {args.events}"
        return args.events / elapsed

    timed(bare), timed(bus)  # warm-up: connections, statement caches
    bare_rates, bus_rates = [], []
    for _ in range(args.rounds):
        bare_rates.append(timed(bare))
        bus_rates.append(timed(bus))
        assert Delivery.objects.filter(status="succeeded").count() == args.events
    close()

    ratio = statistics.median(b / a for a, b in zip(bare_rates, bus_rates, strict=True))
    database, driver = {"postgres": ("PostgreSQL", "psycopg"), "mariadb": ("MariaDB", "MySQLdb")}[
        args.db
    ]
    print(
        f"{database}, backlog {args.events} events per round and side, batches of "
        f"{args.batch_size}, {args.rounds} rounds"
    )
    print(f"bare claim + mark loop ({driver}): {statistics.median(bare_rates):8.0f} events/s")
    print(f"Worker(once=True), no-op handler:   {statistics.median(bus_rates):8.0f} events/s")
    print(f"ratio worker/bare (median of rounds): {ratio:6.2f}x  (target >= 0.5x)")


if __name__ == "__main__":
    main()

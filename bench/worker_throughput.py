"""The worker draining a backlog to one no-op handler, against a bare SQL claim-and-mark loop.

Bare: raw psycopg, per batch one transaction: ``SELECT <the outbox columns> ... WHERE
dispatched_at IS NULL ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED``, a no-op call per row,
``UPDATE ... SET dispatched_at = now() WHERE id = ANY(...)``, commit (with
``synchronous_commit`` off, as the worker's batches have it). Bus: ``Worker(once=True)``
in-process, which also records one delivery row per (event, handler) and looks for due
retries after every batch. Each round refills the same backlog for each side in turn.

    python bench/worker_throughput.py [--events 5000] [--batch-size 100] [--rounds 7]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="backlog per round and side")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    os.environ["EVENTBUS_DELIVERY"] = "worker"  # the worker delivers everything, at once
    setup("postgres", "worker_throughput")

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

    claim_sql = (
        "SELECT id, name, version, occurred_at, producer, correlation_id, causation_id, "
        f"aggregate_id, payload, dispatched_at FROM {outbox} WHERE dispatched_at IS NULL "
        "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
    )
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
    raw.close()

    ratio = statistics.median(b / a for a, b in zip(bare_rates, bus_rates, strict=True))
    print(
        f"PostgreSQL, backlog {args.events} events per round and side, batches of "
        f"{args.batch_size}, {args.rounds} rounds"
    )
    print(f"bare claim + mark loop (psycopg):   {statistics.median(bare_rates):8.0f} events/s")
    print(f"Worker(once=True), no-op handler:   {statistics.median(bus_rates):8.0f} events/s")
    print(f"ratio worker/bare (median of rounds): {ratio:6.2f}x  (target >= 0.5x)")


if __name__ == "__main__":
    main()

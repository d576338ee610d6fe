"""What the dashboard's index on dispatched_at costs the worker: with it, against without it.

One PostgreSQL database; each round drains the same backlog twice with ``Worker(once=True)``
to a no-op handler (as bench/worker_throughput.py does), once with the partial index
``eventbus_outbox_dispatched`` and once without it (dropped and made again on the emptied
table between the two, which takes no time), the order alternating from round to round.
The ratio is the median of the rounds' with/without throughput: 1.00x means the index costs
the worker nothing measurable.

    python bench/dashboard_index_cost.py [--events 10000] [--batch-size 100] [--rounds 9]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import setup

INDEX = "eventbus_outbox_dispatched"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="backlog per drain")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    os.environ["EVENTBUS_DELIVERY"] = "worker"
    setup("postgres", "dash_index_cost")

    from _events import BenchmarkTicked, fill_sql
    from django.db import connection

    from eventbus.delivery.worker import Worker
    from eventbus.models import Delivery, OutboxMessage

    outbox, deliveries = OutboxMessage._meta.db_table, Delivery._meta.db_table
    index_sql = next(
        str(index.create_sql(OutboxMessage, connection.schema_editor()))
        for index in OutboxMessage._meta.indexes
        if index.name == INDEX
    )

    def drain(with_index: bool) -> float:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {outbox}, {deliveries} CASCADE")
            cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")
            if with_index:
                cursor.execute(index_sql)
            name = BenchmarkTicked.event_name
            cursor.execute(fill_sql(outbox, count=args.events, name=name, dispatched=False))
            cursor.execute(f"ANALYZE {outbox}")
        start = time.perf_counter()
        done = Worker(once=True, batch_size=args.batch_size).run().messages
        elapsed = time.perf_counter() - start
        assert done == args.events, f"delivered {done} of {args.events}"
        return args.events / elapsed

    drain(True), drain(False)  # warm-up: connections, statement caches
    rates: dict[bool, list[float]] = {True: [], False: []}
    for round_ in range(args.rounds):
        for with_index in (True, False) if round_ % 2 else (False, True):
            rates[with_index].append(drain(with_index))
    ratios = [w / wo for w, wo in zip(rates[True], rates[False], strict=True)]
    ratio = statistics.median(ratios)
    print(
        f"PostgreSQL, Worker(once=True) draining {args.events} events to a no-op handler, "
        f"batches of {args.batch_size}, {args.rounds} rounds"
    )
    print(f"without {INDEX}: {statistics.median(rates[False]):8.0f} events/s")
    print(f"with {INDEX}:    {statistics.median(rates[True]):8.0f} events/s")
    print(f"rounds: {' '.join(f'{r:.2f}' for r in ratios)}")
    print(f"ratio with/without (median of rounds): {ratio:5.2f}x  (1.00x: no cost)")
    with connection.cursor() as cursor:  # the mark is no HOT update, with or without it
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = %s",
            [outbox],
        )
        updated, hot = cursor.fetchone()
    print(f"outbox updates in the run: {updated:,}, of which HOT: {hot:,}")


if __name__ == "__main__":
    main()

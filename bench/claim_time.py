"""The worker's claim query with 10 thousand and with 1 million delivered rows in history.

Two databases side by side, each with the same small undispatched backlog, one with 10k
and one with 1M dispatched rows before it (filled by INSERT ... SELECT generate_series,
with a delivery row each, then VACUUM ANALYZE as autovacuum would). Each round times ``--claims`` evaluations of the
exact statement the worker claims with (``PostgresStore.claim_outbox``, limited to the
batch size, in a transaction that is rolled back) on each database in turn; the ratio is
the median of the rounds'. The lookup of the claimed rows' deliveries that follows every
claim is timed beside it. Prints the EXPLAIN of the claim on both databases.

    python bench/claim_time.py [--history 10000 1000000] [--backlog 500] [--rounds 7]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import create_postgres_database, setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, nargs=2, default=[10_000, 1_000_000])
    parser.add_argument("--backlog", type=int, default=500, help="undispatched rows")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--claims", type=int, default=200, help="claims per round and side")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    os.environ["EVENTBUS_DELIVERY"] = "worker"
    setup("postgres", "claim_small")
    big_url = create_postgres_database("claim_big")

    import psycopg
    from _events import BenchmarkTicked, fill_sql
    from django.core.management import call_command
    from django.db import connections, transaction

    from eventbus.models import Delivery, OutboxMessage
    from eventbus.storage import store_for
    from eventbus.storage.postgresql import claim_outbox_statement

    connections.settings["big"] = {
        **connections.settings["default"],
        "NAME": big_url.rsplit("/")[-1],
    }
    call_command("migrate", database="big", verbosity=0)
    outbox = OutboxMessage._meta.db_table
    deliveries = Delivery._meta.db_table
    name = BenchmarkTicked.event_name
    sides = {"small": ("default", args.history[0]), "big": ("big", args.history[1])}

    for label, (alias, history) in sides.items():
        url = os.environ["DATABASE_URL"] if alias == "default" else big_url
        start = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET synchronous_commit TO OFF")
            conn.execute(fill_sql(outbox, count=history, name=name, dispatched=True))
            # The backlog sorts after the history (ids are time-ordered, as uuid7 are).
            conn.execute(
                fill_sql(outbox, count=args.backlog, name=name, dispatched=False, first=history + 1)
            )
            # Every delivered event has its delivery row (the claim looks for them).
            conn.execute(
                f"INSERT INTO {deliveries} (message_id, handler, status, attempts, last_error, "
                "last_traceback, next_attempt_at, created_at, updated_at) "
                "SELECT id, '_events.noop', 'succeeded', 1, '', '', NULL, now(), now() "
                f"FROM {outbox} WHERE dispatched_at IS NOT NULL"
            )
            conn.execute(f"VACUUM ANALYZE {outbox}")
            conn.execute(f"VACUUM ANALYZE {deliveries}")
        print(
            f"{label}: {history:>9,} delivered + {args.backlog} undispatched rows "
            f"filled in {time.perf_counter() - start:.1f} s"
        )

    def claims(alias: str) -> tuple[float, float]:
        """Seconds per claim, and per lookup of the claimed rows' deliveries (which follows
        the claim in every batch), each in a transaction rolled back."""
        claim_time = lookup_time = 0.0
        for _ in range(args.claims):
            with transaction.atomic(using=alias):
                start = time.perf_counter()
                rows = store_for(alias).claim_outbox(limit=args.batch_size).envelopes
                claimed = time.perf_counter()
                store_for(alias).deliveries_of([row.event_id for row in rows])
                lookup_time += time.perf_counter() - claimed
                claim_time += claimed - start
                transaction.set_rollback(True, using=alias)
        assert len(rows) == args.batch_size
        return claim_time / args.claims, lookup_time / args.claims

    claims("default"), claims("big")  # warm-up: connections, caches
    times: dict[str, list[tuple[float, float]]] = {"small": [], "big": []}
    for _ in range(args.rounds):
        for label, (alias, _) in sides.items():
            times[label].append(claims(alias))

    def explain(alias: str) -> list[str]:
        with transaction.atomic(using=alias):
            sql, params = claim_outbox_statement(limit=args.batch_size)
            with connections[alias].cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", params)
                plan = [row[0] for row in cursor.fetchall()]
            transaction.set_rollback(True, using=alias)
        return plan

    small, big = args.history
    print(
        f"claim of {args.batch_size} (SELECT ... FOR UPDATE SKIP LOCKED in a transaction), "
        f"{args.rounds} rounds x {args.claims} claims a side"
    )
    for what, index in (("claim query", 0), ("deliveries lookup", 1)):
        small_ms = statistics.median(t[index] for t in times["small"]) * 1e3
        big_ms = statistics.median(t[index] for t in times["big"]) * 1e3
        ratio = statistics.median(
            b[index] / s[index] for s, b in zip(times["small"], times["big"], strict=True)
        )
        target = "  (target <= 1.2x)" if index == 0 else ""
        print(
            f"{what:<18} history {small:>9,}: {small_ms:5.2f} ms   {big:>9,}: {big_ms:5.2f} ms"
            f"   ratio {ratio:4.2f}x{target}"
        )
    for alias, history in sides.values():
        plan = explain(alias)
        print(f"EXPLAIN ANALYZE of the claim with {history:,} rows of history:")
        print("\n".join(f"    {line}" for line in plan))
        assert any("eventbus_outbox_undispatched" in line for line in plan), "no partial index"


if __name__ == "__main__":
    main()

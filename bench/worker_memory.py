"""Peak memory of a worker process draining 200 thousand events to a no-op subscriber.

The backlog is filled by SQL; a child process runs the real command (`eventbus worker
--once`) on it and reports its peak resident set (``ru_maxrss``), beside the peak it had
once Django was set up and before the drain began.

    python bench/worker_memory.py [--events 200000] [--batch-size 100]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import attach, setup

TARGET_MB = 150


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(url: str, batch_size: int) -> None:
    attach(url)
    import _events  # noqa: F401  (subscribes the no-op handler)
    from django.core.management import call_command

    before = peak_mb()
    call_command("eventbus", "worker", "--once", f"--batch-size={batch_size}")
    print(json.dumps({"before_mb": before, "peak_mb": peak_mb()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--child", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["EVENTBUS_DELIVERY"] = "worker"
    if args.child:
        child(args.child, args.batch_size)
        return
    setup("postgres", "worker_memory")

    import psycopg
    from _events import BenchmarkTicked, fill_sql

    from eventbus.models import Delivery, OutboxMessage

    url = os.environ["DATABASE_URL"]
    outbox = OutboxMessage._meta.db_table
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            fill_sql(outbox, count=args.events, name=BenchmarkTicked.event_name, dispatched=False)
        )
        conn.execute(f"ANALYZE {outbox}")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, f"--child={url}", f"--batch-size={args.batch_size}"],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - start
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert f"Delivered {args.events} messages" in done.stdout, done.stdout
    assert Delivery.objects.filter(status="succeeded").count() == args.events
    print(
        f"PostgreSQL, {args.events:,} events drained by `eventbus worker --once` in batches of "
        f"{args.batch_size}, {elapsed:.0f} s ({args.events / elapsed:.0f} events/s incl. start-up)"
    )
    print(f"peak RSS after Django set-up:  {figures['before_mb']:6.1f} MB")
    print(f"peak RSS through the drain:    {figures['peak_mb']:6.1f} MB  (target < {TARGET_MB} MB)")


if __name__ == "__main__":
    main()

"""publish() + commit + inline dispatch to one no-op handler, against the bare equivalent.

Bare: in one transaction insert the same outbox row (same statement, same values), commit,
then call the no-op function directly. Bus: `with atomic(): publish(event)`, which also
records the handler's delivery in the handler's own transaction and marks the row
dispatched. The two alternate in rounds so drift in the machine affects both alike.

    python bench/publish_overhead.py --db sqlite|postgres [--events 2000] [--rounds 5]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--events", type=int, default=1000, help="events per round and side")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    setup(args.db, "publish_overhead")

    from django.db import transaction
    from django.utils import timezone

    from eventbus import Event, publish, subscriber
    from eventbus.context import correlation_scope
    from eventbus.envelope import Envelope
    from eventbus.ids import uuid7
    from eventbus.models import Delivery, OutboxMessage
    from eventbus.storage import store_for

    class BenchmarkTicked(Event):
        event_name = "bench.benchmark_ticked"
        event_version = 1
        n: int
        label: str

    def noop(event: BenchmarkTicked) -> None:
        return None

    subscriber(BenchmarkTicked)(noop)

    def bare(n: int) -> None:
        event = BenchmarkTicked(n=n, label="tick")
        with transaction.atomic():
            store_for("default").insert_message(
                Envelope(
                    event_id=uuid7(),
                    name=event.event_name,
                    version=event.event_version,
                    occurred_at=timezone.now(),
                    producer="bench",
                    correlation_id="bench",
                    causation_id=None,
                    payload=event.payload(),
                ),
                dispatched=True,
                notify=False,
                broker="",
            )
        noop(event)

    def bus(n: int) -> None:
        with transaction.atomic():
            publish(BenchmarkTicked(n=n, label="tick"))

    def run(fn, count: int) -> float:
        start = time.perf_counter()
        for i in range(count):
            fn(i)
        return (time.perf_counter() - start) / count

    with correlation_scope("bench"):
        run(bare, 200)  # warm-up: connection, statement caches
        run(bus, 200)
        bare_times, bus_times = [], []
        for _ in range(args.rounds):
            bare_times.append(run(bare, args.events))
            bus_times.append(run(bus, args.events))

    bare_us = statistics.median(bare_times) * 1e6
    bus_us = statistics.median(bus_times) * 1e6
    # Each round's bare and bus runs are adjacent in time: their ratio cancels slow drift.
    ratio = statistics.median(b / a for a, b in zip(bare_times, bus_times, strict=True))
    delivered = Delivery.objects.filter(status="succeeded").count()
    expected = 200 + args.rounds * args.events
    assert delivered == expected, f"{delivered} deliveries recorded, expected {expected}"
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()
    print(f"database: {args.db}  events per side: {args.rounds} x {args.events}")
    print(f"bare insert + commit + call:         {bare_us:8.1f} us/event")
    print(f"publish + commit + inline dispatch:  {bus_us:8.1f} us/event")
    print(f"ratio bus/bare (median of rounds):   {ratio:8.2f}x  (target <= 1.5x)")


if __name__ == "__main__":
    main()

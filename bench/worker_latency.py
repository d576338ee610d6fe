"""Commit-to-handler latency in worker mode, the worker idle and woken by LISTEN/NOTIFY.

A worker process (`eventbus worker`, polling only every 30 s, so every wake-up is a
NOTIFY) idles; this process publishes events one at a time, spaced, noting when each
COMMIT was sent and when it returned; the handler in the worker appends the time it was
called. Side by side, in alternate rounds: a bare listener process (raw psycopg, LISTEN,
notes the time of each notification) and a bare publisher (one INSERT with pg_notify,
commit): the floor this machine puts under any NOTIFY-driven delivery.

    python bench/worker_latency.py [--events 300] [--spacing-ms 20] [--rounds 6]
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import ROOT, setup

TARGETS_MS = {"p50": 10, "p99": 50}
BENCH = Path(__file__).resolve().parent

WORKER = (
    "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; import _django; "
    "_django.attach(sys.argv[3]); import _events; "
    "from django.core.management import call_command; import resource; "
    "cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2]); before = cpu(); "
    "call_command('eventbus', 'worker', '--poll', '30'); print('cpu', cpu() - before)"
)
BARE_LISTENER = """
import sys, time, psycopg
conn = psycopg.connect(sys.argv[1], autocommit=True)
conn.execute("LISTEN bench_bare")
print("listening", flush=True)
for note in conn.notifies():
    received = time.time()
    with open(sys.argv[2], "a") as out:
        out.write(f"{note.payload} {received!r}\\n")
"""


def read_receipts(path: Path, expected: int) -> dict[int, float]:
    deadline = time.monotonic() + 30
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= expected or time.monotonic() > deadline:
            return {int(n): float(t) for n, t in (line.split() for line in lines)}
        time.sleep(0.05)


def percentiles(received: dict[int, float], since: dict[int, float]) -> list[float]:
    """p50, p99, min, max of received - since, in ms."""
    missing = sorted(set(since) - set(received))
    assert not missing, f"{len(missing)} events never reached the handler"
    latencies = sorted((received[n] - since[n]) * 1e3 for n in since)
    p99 = latencies[min(len(latencies) - 1, round(0.99 * len(latencies)))]
    return [statistics.median(latencies), p99, latencies[0], latencies[-1]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300, help="per side")
    parser.add_argument("--spacing-ms", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    os.environ["EVENTBUS_DELIVERY"] = "worker"
    scratch = Path(tempfile.mkdtemp())
    bus_receipts, bare_receipts = scratch / "bus.txt", scratch / "bare.txt"
    os.environ["BENCH_RECEIPTS"] = str(bus_receipts)
    setup("postgres", "worker_latency")

    import psycopg
    from _events import LatencyProbed
    from django.db import transaction

    from eventbus import publish
    from eventbus.models import Worker as WorkerRow

    url = os.environ["DATABASE_URL"]
    raw = psycopg.connect(url)
    raw.execute("CREATE TABLE bench_bare (n integer)")
    raw.commit()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(BENCH), str(ROOT), url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
        subprocess.Popen(
            [sys.executable, "-c", BARE_LISTENER, url, str(bare_receipts)],
            stdout=subprocess.PIPE,
            text=True,
        ),
    ]
    worker, listener = processes

    def bus(n: int) -> tuple[float, float]:
        with transaction.atomic():
            publish(LatencyProbed(n=n))
            sent = time.time()
        return sent, time.time()

    def bare(n: int) -> tuple[float, float]:
        raw.execute(
            "WITH _notify AS (SELECT pg_notify('bench_bare', %s)) "
            "INSERT INTO bench_bare (n) SELECT %s FROM _notify",
            [str(n), n],
        )
        sent = time.time()
        raw.commit()
        return sent, time.time()

    sent: dict[str, dict[int, float]] = {"bus": {}, "bare": {}}
    committed: dict[str, dict[int, float]] = {"bus": {}, "bare": {}}

    def probe(side: str, fn: Callable[[int], tuple[float, float]], first: int, count: int) -> None:
        for n in range(first, first + count):
            sent[side][n], committed[side][n] = fn(n)
            time.sleep(args.spacing_ms / 1000)

    try:
        deadline = time.monotonic() + 60
        while not WorkerRow.objects.exists():
            assert time.monotonic() < deadline and worker.poll() is None, "the worker did not start"
            time.sleep(0.05)
        assert listener.stdout is not None and listener.stdout.readline().strip() == "listening"
        warm_up = 20  # connections, statement caches, imports
        probe("bus", bus, 0, warm_up)
        probe("bare", bare, 0, warm_up)
        per_round = args.events // args.rounds
        for r in range(args.rounds):
            first = warm_up + r * per_round
            probe("bus", bus, first, per_round)
            probe("bare", bare, first, per_round)
        received = {
            "bus": read_receipts(bus_receipts, warm_up + args.rounds * per_round),
            "bare": read_receipts(bare_receipts, warm_up + args.rounds * per_round),
        }
    finally:
        worker.send_signal(signal.SIGTERM)
        listener.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
        listener.communicate(timeout=30)
        raw.close()
    assert worker.returncode == 0, err

    print(
        f"PostgreSQL, idle listeners woken by NOTIFY, {args.rounds} x {per_round} events a side, "
        f"one every {args.spacing_ms:g} ms (after {warm_up} for warm-up)"
    )
    for side, label in (("bus", "worker -> handler"), ("bare", "bare LISTEN     ")):
        for since_label, since in (("COMMIT returned", committed), ("COMMIT sent", sent)):
            measured = {n: t for n, t in since[side].items() if n >= warm_up}
            p50, p99, low, high = percentiles(received[side], measured)
            print(
                f"{label} from {since_label:<15}: p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
                f"min {low:6.2f}  max {high:6.2f}"
            )
    worker_cpu = float(out.split("cpu ")[-1])
    print(
        f"worker process CPU per event: {worker_cpu / len(received['bus']) * 1e3:.2f} ms "
        "(its database backend's comes on top); the bare listener's is a few microseconds"
    )
    print(f"targets for the worker: p50 <= {TARGETS_MS['p50']} ms, p99 <= {TARGETS_MS['p99']} ms")
    print(
        "(a negative time: the listener, woken at the commit, ran before the publisher was "
        "scheduled again to note that its COMMIT had returned)"
    )


if __name__ == "__main__":
    main()

"""What the data-ownership guard adds to one ORM statement, on SQLite.

Times a one-row SELECT of orders' Order by primary key (the cheapest statement, so the
largest share for the guard), issued from an orders frame under 60 other frames, as in a
test or a request: with the guard off, and on (it finds an owned table, so it also walks the
stack to the module frame). Also times a statement on a shared table (the guard's regular
expression only), and the guard's check alone on each statement's SQL, which is steadier on
a busy machine than the difference of two timings (the same statement each time, as Django
sends them: the guard remembers each statement's tables, so a repeat is a look-up). Prints medians of the rounds, in
microseconds, and ratios.

    python bench/ownership_guard.py [--statements 5000] [--rounds 7]
"""

import argparse
import statistics
import sys
import time
import types
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import setup

DEPTH = 60


def _deep(depth: int, call: Callable[[], object]) -> object:
    return call() if depth == 0 else _deep(depth - 1, call)


_seen: list[str] = []


def _nothing() -> None:
    return None


def _keep_sql(execute: Callable[..., object], sql: str, *args: object) -> object:
    _seen.append(sql)
    return execute(sql, *args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    setup("sqlite", "ownership_guard")

    from django.db import connection

    from eventbus import ownership
    from eventbus.models import Delivery
    from eventbus.ownership.guard import crossings
    from orders.models import Order

    # A function of orders' code (imported as orders.benchprobe) that runs a callable.
    probe = types.ModuleType("orders.benchprobe")
    probe.__file__ = "orders/benchprobe.py"
    sys.modules[probe.__name__] = probe
    exec("def run(call):\n    return call()\n", probe.__dict__)
    in_orders: Callable[[Callable[[], object]], object] = probe.run

    statements: dict[str, Callable[[], object]] = {
        "owned table (orders_order)": lambda: Order.objects.filter(pk=1).first(),
        "shared table (eventbus_delivery)": lambda: Delivery.objects.filter(pk=1).first(),
    }
    for label, statement in statements.items():
        timings: dict[str, list[float]] = {"off": [], "raise": []}
        for _ in range(args.rounds):
            for mode in ("off", "raise"):
                ownership.install(mode)
                start = time.perf_counter()
                for _ in range(args.statements):
                    _deep(DEPTH, partial(in_orders, statement))
                timings[mode].append((time.perf_counter() - start) / args.statements * 1e6)
        with connection.execute_wrapper(_keep_sql):
            statement()
        sql = _seen[-1]
        check: list[float] = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            for _ in range(args.statements):
                _deep(DEPTH, partial(in_orders, partial(crossings, sql)))
            middle = time.perf_counter()
            for _ in range(args.statements):  # the same calls, without the check
                _deep(DEPTH, partial(in_orders, _nothing))
            end = time.perf_counter()
            check.append(((middle - start) - (end - middle)) / args.statements * 1e6)
        off, on = statistics.median(timings["off"]), statistics.median(timings["raise"])
        alone = statistics.median(check)
        print(
            f"{label}: {off:.1f} us off, {on:.1f} us on ({on / off:.2f}x); the check alone "
            f"{alone:.1f} us, {alone / off:.1%} of the statement; medians of {args.rounds} "
            f"rounds of {args.statements}"
        )
    ownership.uninstall()


if __name__ == "__main__":
    main()

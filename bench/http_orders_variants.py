"""POST /api/orders/ in process under variants of its settings, taking turns: what each costs.

The application of bench/http_orders_in_process.py (production settings with the bench's
bare endpoint, PostgreSQL, inline delivery), one database. Each variant in turn opens a new
connection with its settings and places ``--orders`` orders; ``--turns`` rounds of that, so
a machine whose speed drifts affects every variant alike. For each variant it prints the
median wall time per order, the CPU of this process (Python and psycopg) and the CPU of the
PostgreSQL backend serving the connection (from /proc, at the kernel's clock tick).

Variants:

- ``client``: parameters bound on the client, every statement parsed and planned by the
  server (Django's default; DB_PREPARED_STATEMENTS=0);
- ``prepared``: the project's setting: bound on the server, prepared after five runs, each
  execution planned for its values;
- ``generic``: prepared, and generic plans allowed (PostgreSQL's default plan_cache_mode);
  faster on a fresh database until a cached generic plan turns bad as tables grow
  (docs/performance.md);
- ``apart``: the project's setting, with orders' event and confirmation task written one
  statement each instead of together (write_together() off).

And what bounds the goal of bench/http_orders.py, with the project's setting:

- ``deferred``: worker delivery (EVENTBUS['DELIVERY'] = 'worker'), nobody delivering: the
  request alone, its event and task written to the outbox but not delivered in it;
- ``no-bus``: neither the event nor the task written (publish() and the enqueue skipped):
  the order as a plain Django endpoint, what it would cost without any bus;
- ``bare``: the bench's bare endpoint (validate the same body, INSERT one row, no token).

The last column is each variant's CPU (this process's and its PostgreSQL backend's) over
the bare endpoint's, when ``bare`` is among the variants.

    python bench/http_orders_variants.py [--turns 6] [--orders 300] [--variants client,prepared]
    python bench/http_orders_variants.py --variants prepared,deferred,no-bus,bare
"""

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_orders import BARE, BODY, ORDERS, process_cpu_seconds
from http_orders_in_process import in_process_application, wsgi_caller

VARIANTS = ("client", "prepared", "generic", "apart", "deferred", "no-bus", "bare")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--orders", type=int, default=300, help="requests a variant a turn")
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"unknown variants {sorted(unknown)}; choose among {VARIANTS}")

    tokens = in_process_application("http_variants", mode="inline", customers=args.customers)
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test import override_settings

    import orders.services

    call = wsgi_caller(get_wsgi_application(), BODY.encode())
    options = connection.settings_dict["OPTIONS"]
    prepared = dict(options)
    bus = Bus(orders.services)
    worker_delivery = {**settings.EVENTBUS, "DELIVERY": "worker"}
    settings_of: dict[str, tuple[dict[str, Any], Bus, Any]] = {
        "client": ({}, bus, contextlib.nullcontext()),
        "prepared": (prepared, bus, contextlib.nullcontext()),
        "generic": (
            {k: v for k, v in prepared.items() if k != "options"},
            bus,
            contextlib.nullcontext(),
        ),
        "apart": (prepared, bus.apart(), contextlib.nullcontext()),
        "deferred": (prepared, bus, override_settings(EVENTBUS=worker_delivery)),
        "no-bus": (prepared, bus.off(), contextlib.nullcontext()),
        "bare": (prepared, bus, contextlib.nullcontext()),
    }
    results: dict[str, list[tuple[float, float, float]]] = {v: [] for v in variants}
    print(f"{args.turns} turns of {args.orders} requests a variant, PostgreSQL")
    for _ in range(args.turns):
        for variant in variants:
            variant_options, variant_bus, settings_override = settings_of[variant]
            options.clear()
            options.update(variant_options)
            variant_bus.install()
            path, token_of = (
                (BARE, lambda i: None)
                if variant == "bare"
                else (ORDERS, lambda i: tokens[i % len(tokens)])
            )
            connection.close()
            with settings_override:
                for i in range(20):  # a new connection: warm it (and prepare its statements)
                    call(path, token_of(i))
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    (backend,) = cursor.fetchone()
                wall, cpu = time.perf_counter(), time.process_time()
                server = process_cpu_seconds(backend)
                for i in range(args.orders):
                    call(path, token_of(i))
                n = args.orders
                results[variant].append(
                    (
                        (time.perf_counter() - wall) / n * 1000,
                        (time.process_time() - cpu) / n * 1000,
                        (process_cpu_seconds(backend) - server) / n * 1000,
                    )
                )
    bus.install()
    medians = {
        variant: [statistics.median(r[k] for r in rows) for k in range(3)]
        for variant, rows in results.items()
    }
    bare_cpu = sum(medians["bare"][1:]) if "bare" in medians else None
    print("variant     wall ms  client CPU ms  PostgreSQL CPU ms  CPU x bare  (medians a request)")
    for variant, (wall_ms, cpu_ms, server_ms) in medians.items():
        ratio = f"{(cpu_ms + server_ms) / bare_cpu:10.2f}x" if bare_cpu else ""
        print(f"{variant:10} {wall_ms:8.2f} {cpu_ms:14.2f} {server_ms:18.2f}  {ratio}")
    connection.close()


class Bus:
    """What orders.services calls of the bus while a variant runs: publish(), the
    confirmation task and write_together(), each either the real one or skipped."""

    def __init__(self, services: Any, **replaced: Any) -> None:
        self.services = services
        self.real = {
            name: getattr(services, name)
            for name in ("publish", "send_order_confirmation", "write_together")
        }
        self.replaced = replaced

    def apart(self) -> "Bus":
        """The event and the task written one statement each."""
        return Bus(self.services, write_together=lambda **kwargs: contextlib.nullcontext())

    def off(self) -> "Bus":
        """Neither the event nor the task written."""
        return Bus(
            self.services,
            publish=lambda event, **kwargs: None,
            send_order_confirmation=_NoTask(),
            write_together=lambda **kwargs: contextlib.nullcontext(),
        )

    def install(self) -> None:
        for name, real in self.real.items():
            setattr(self.services, name, self.replaced.get(name, real))


class _NoTask:
    def enqueue(self, **kwargs: Any) -> None:
        return None


if __name__ == "__main__":
    main()

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

    python bench/http_orders_variants.py [--turns 6] [--orders 300] [--variants client,prepared]
"""

import argparse
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_orders import BODY, ORDERS
from http_orders_in_process import in_process_application, wsgi_caller

VARIANTS = ("client", "prepared", "generic", "apart")


def backend_cpu_seconds(pid: int) -> float:
    """User and system CPU of a local process, from /proc (clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--orders", type=int, default=300, help="orders a variant a turn")
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"unknown variants {sorted(unknown)}; choose among {VARIANTS}")

    tokens = in_process_application("http_variants", mode="inline", customers=args.customers)
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    import orders.services

    call = wsgi_caller(get_wsgi_application(), BODY.encode())
    options = connection.settings_dict["OPTIONS"]
    prepared = dict(options)
    together = orders.services.write_together
    settings_of: dict[str, tuple[dict[str, Any], Callable[..., Any]]] = {
        "client": ({}, together),
        "prepared": (prepared, together),
        "generic": ({k: v for k, v in prepared.items() if k != "options"}, together),
        "apart": (prepared, lambda **kwargs: contextlib.nullcontext()),
    }
    results: dict[str, list[tuple[float, float, float]]] = {v: [] for v in variants}
    print(f"{args.turns} turns of {args.orders} orders a variant, PostgreSQL, inline delivery")
    for _ in range(args.turns):
        for variant in variants:
            variant_options, write_together = settings_of[variant]
            options.clear()
            options.update(variant_options)
            orders.services.write_together = write_together
            connection.close()
            for i in range(20):  # a new connection: warm it (and prepare its statements)
                call(ORDERS, tokens[i % len(tokens)])
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                (backend,) = cursor.fetchone()
            wall, cpu = time.perf_counter(), time.process_time()
            server = backend_cpu_seconds(backend)
            for i in range(args.orders):
                call(ORDERS, tokens[i % len(tokens)])
            n = args.orders
            results[variant].append(
                (
                    (time.perf_counter() - wall) / n * 1000,
                    (time.process_time() - cpu) / n * 1000,
                    (backend_cpu_seconds(backend) - server) / n * 1000,
                )
            )
    print("variant     wall ms  client CPU ms  PostgreSQL CPU ms   (medians a order)")
    for variant, rows in results.items():
        wall_ms, cpu_ms, server_ms = (statistics.median(r[k] for r in rows) for k in range(3))
        print(f"{variant:10} {wall_ms:8.2f} {cpu_ms:14.2f} {server_ms:18.2f}")
    connection.close()


if __name__ == "__main__":
    main()

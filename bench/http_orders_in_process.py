"""POST /api/orders/ and the bare endpoint in process: what one request costs, counted.

The same application as bench/http_orders.py (production settings with the bench's bare
endpoint, PostgreSQL, a persistent connection, inline delivery unless --mode worker), called
through Django's WSGI handler without a server. For each endpoint it prints the SQL
statements one request runs (BEGIN and COMMIT not included), and over --requests requests
the round trips to PostgreSQL (psycopg waits, BEGIN, COMMIT and the connection's health
check included) and the Python function calls per request: counts that do not move with
the machine's load, unlike the wall and CPU times it prints beside them.

    python bench/http_orders_in_process.py [--requests 200] [--mode inline|worker] [--sql]
"""

import argparse
import cProfile
import io
import os
import pstats
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import ROOT, create_postgres_database
from http_orders import BARE, BODY, ORDERS, SETTINGS, prepare


def wsgi_caller(app: Callable[..., Any], body: bytes) -> Callable[[str, str | None], None]:
    def call(path: str, token: str | None) -> None:
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/json", "wsgi.errors": sys.stderr,
        }  # fmt: skip
        if token:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        status: list[str] = []
        b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
        if not status[0].startswith("201"):
            raise SystemExit(f"{path} answered {status[0]}")

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--mode", choices=["inline", "worker"], default="inline")
    parser.add_argument("--sql", action="store_true", help="print each statement")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DATABASE_URL=create_postgres_database("http_in_process"),
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DB_CONN_MAX_AGE="600",
        EVENTBUS_DELIVERY=args.mode,
    )
    tokens = prepare(args.customers)
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    call = wsgi_caller(get_wsgi_application(), BODY.encode())
    print(f"{args.requests} requests an endpoint, {args.mode} delivery, PostgreSQL")
    for path in (ORDERS, BARE):
        token_of: Callable[[int], str | None] = (
            (lambda i: tokens[i % len(tokens)]) if path == ORDERS else (lambda i: None)
        )
        for i in range(20):  # warm: connection, imports, caches
            call(path, token_of(i))
        statements: list[str] = []

        def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            statements.append(sql)  # noqa: B023 (used within this iteration only)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            call(path, token_of(0))
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(args.requests):
            call(path, token_of(i))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        profile = cProfile.Profile()
        profile.enable()
        for i in range(args.requests):
            call(path, token_of(i))
        profile.disable()
        stats = pstats.Stats(profile)
        table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
        waits = sum(v[1] for k, v in table.items() if k[2] == "wait" and "psycopg" in k[0])
        n = args.requests
        print(
            f"  {path:20} {len(statements)} statements, {waits / n:4.1f} round trips, "
            f"{stats.total_calls / n:6.0f} Python calls a request "  # type: ignore[attr-defined]
            f"({wall / n * 1000:.2f} ms wall, {cpu / n * 1000:.2f} ms CPU)",
            flush=True,
        )
        if args.sql:
            for sql in statements:
                print(f"      {sql[:110]}")
    connection.close()


if __name__ == "__main__":
    main()

"""POST /api/orders/ and the bare endpoint in process: what one request costs, counted.

The same application as bench/http_orders.py (production settings with the bench's bare
endpoint, PostgreSQL, a persistent connection, inline delivery unless --mode worker), called
through Django's WSGI handler without a server. For each endpoint it prints, for one
request, the SQL statements it runs (BEGIN and COMMIT not included) and its round trips to
PostgreSQL (the queries psycopg sends: BEGIN, COMMIT and the connection's health check
included; one query string of two statements is one); and over --requests requests,
psycopg's waits (the round-trip count this bench printed first: one a round trip, plus one
on the client alone for each autocommit switch and each commit with nothing left to
commit) and the Python function calls per request. Counts that do not move with the
machine's load, unlike the wall and CPU times it prints beside them. --sql prints each
statement and each query sent.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import ROOT, create_postgres_database
from http_orders import BARE, BODY, ORDERS, SETTINGS, prepare


@contextmanager
def counting_queries_sent() -> Iterator[list[bytes]]:
    """The queries psycopg sends to the server in the block, each one round trip: a cursor's
    (of either binding, prepared or not) and a command's (BEGIN, COMMIT). Counted by wrapping psycopg's own
    senders (private names, for this bench only; cProfile cannot count them: a generator's
    every resumption is a call to it)."""
    from psycopg import _connection_base, _cursor_base, client_cursor

    sent: list[bytes] = []
    targets = [
        (_connection_base.BaseConnection, "_exec_command", lambda args: args[1]),
        (_cursor_base.BaseCursor, "_execute_send", lambda args: args[1].query),
        (client_cursor.ClientCursorMixin, "_execute_send", lambda args: args[1].query),
        # Prepared statements (server-side binding): the PREPARE, once a connection, and
        # each execution of a prepared statement.
        (_cursor_base.BaseCursor, "_send_prepare", lambda args: b"PREPARE " + args[2].query),
        (_cursor_base.BaseCursor, "_send_query_prepared", lambda args: args[2].query),
    ]
    originals = [(cls, name, vars(cls)[name]) for cls, name, _ in targets]

    def wrap(original: Any, query_of: Callable[[tuple[Any, ...]], Any]) -> Any:
        def sending(*args: Any, **kwargs: Any) -> Any:
            query = query_of(args)
            sent.append(query if isinstance(query, bytes) else str(query).encode())
            return original(*args, **kwargs)

        return sending

    for (cls, name, query_of), (_, _, original) in zip(targets, originals, strict=True):
        setattr(cls, name, wrap(original, query_of))
    try:
        yield sent
    finally:
        for cls, name, original in originals:
            setattr(cls, name, original)


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


def in_process_application(name: str, *, mode: str, customers: int) -> list[str]:
    """Point Django at a new PostgreSQL database ``bench_<name>_...`` with the bench's
    production settings, persistent connections and ``mode`` delivery; migrate it, seed the
    catalogue and register ``customers`` customers; return their access tokens."""
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DATABASE_URL=create_postgres_database(name),
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DB_CONN_MAX_AGE="600",
        EVENTBUS_DELIVERY=mode,
    )
    return prepare(customers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--mode", choices=["inline", "worker"], default="inline")
    parser.add_argument("--sql", action="store_true", help="print each statement")
    args = parser.parse_args()

    tokens = in_process_application("http_in_process", mode=args.mode, customers=args.customers)
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

        with connection.execute_wrapper(record), counting_queries_sent() as sent:
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
            f"  {path:20} {len(statements)} statements, {len(sent)} round trips "
            f"({waits / n:4.1f} waits), "
            f"{stats.total_calls / n:6.0f} Python calls a request "  # type: ignore[attr-defined]
            f"({wall / n * 1000:.2f} ms wall, {cpu / n * 1000:.2f} ms CPU)",
            flush=True,
        )
        if args.sql:
            for sql in statements:
                print(f"      {sql[:110]}")
            print("    sent:")
            for query in sent:
                print(f"      {query[:110].decode()}")
    connection.close()


if __name__ == "__main__":
    main()

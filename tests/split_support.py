"""Support for the split-mode tests: real processes, throwaway databases, a private exchange.

Everything here talks to the deployment from outside, as a client or an operator would:
HTTP through urllib, the databases through psycopg, the broker through kombu. Nothing
imports accounts or orders: the same journey runs against the monolith and the services.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kombu
import psycopg
import pytest

from tools.split import MODULES, PYTHON, ROOT, SplitConfig

POSTGRES = os.environ.get("SPLIT_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")
BROKER_URL = os.environ.get("SPLIT_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")


# --- the services this needs -------------------------------------------------------------


def require_services() -> None:
    """PostgreSQL and RabbitMQ must answer: a skip on a laptop, a failure under CI=true."""
    problems = []
    try:
        with psycopg.connect(f"{POSTGRES}/postgres", connect_timeout=3):
            pass
    except Exception as exc:
        problems.append(f"PostgreSQL at {POSTGRES} ({exc})")
    try:
        with kombu.Connection(BROKER_URL, connect_timeout=3) as connection:
            connection.connect()
    except Exception as exc:
        problems.append(f"RabbitMQ at {BROKER_URL} ({exc})")
    if not problems:
        return
    message = "the split-mode tests need " + " and ".join(problems)
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}: unreachable under CI", pytrace=False)
    pytest.skip(message)


def free_ports(count: int) -> list[int]:
    """Ports nobody listens on now (the OS picks them; held together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def closed_port() -> int:
    """A port where nothing listens: connecting is refused at once."""
    return free_ports(1)[0]


def split_config(keys_dir: Path) -> SplitConfig:
    """A deployment of its own: database names, exchange, queue prefix and ports."""
    tag = uuid.uuid4().hex[:8]
    accounts_port, orders_port = free_ports(2)
    return SplitConfig(
        postgres=POSTGRES,
        broker=BROKER_URL,
        database_prefix=f"splittest_{tag}",
        queue_prefix=f"splittest-{tag}.",
        exchange=f"splittest-{tag}",
        ports={"accounts": accounts_port, "orders": orders_port},
        keys_dir=keys_dir,
        web_workers=1,  # two cores: six processes are enough
        fresh=True,
        quiet=True,
    )


def drop_databases(*names: str) -> None:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        for name in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def delete_broker_objects(config: SplitConfig) -> None:
    """The exchange, its unrouted queue and every queue of the deployment's prefix."""
    with kombu.Connection(BROKER_URL) as connection:
        channel = connection.channel()
        for module in MODULES:
            queue = queue_name(config, module)
            for name in (queue, f"{queue}.dead-letter"):
                channel.queue_delete(name)
        channel.queue_delete(f"{config.exchange}.unrouted")
        channel.exchange_delete(config.exchange)
        channel.exchange_delete(f"{config.exchange}.unrouted")


def queue_name(config: SplitConfig, module: str) -> str:
    return f"{config.queue_prefix}{module}.events"


# --- HTTP ---------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any

    def __repr__(self) -> str:  # what an assertion shows
        return f"<{self.status} {self.body!r}>"


def http(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = None,
    correlation: str | None = None,
    timeout: float = 15,
) -> Response:
    """One JSON request; an HTTP error status is a Response too, never an exception."""
    headers = {"Accept": "application/json"}
    if correlation:
        headers["X-Correlation-ID"] = correlation
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            status, reply_headers, raw = reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        status, reply_headers, raw = error.code, dict(error.headers), error.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return Response(status, reply_headers, parsed)


def poll[T](
    check: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.2
) -> T:
    """Call ``check`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting until {what}")
        time.sleep(interval)


# --- the journey ----------------------------------------------------------------------------

ORDERS = [[("MUG-001", 2)], [("TEE-001", 1), ("STICKER-01", 1)]]  # 25.00 and 23.10 EUR


@dataclass
class Journey:
    """What a walk through the API saw, for the comparison of the two deployments."""

    user_id: int
    token: str
    correlation: str
    stats_after_orders: dict[str, Any]
    orders_at_end: list[tuple[str, str, str]] = field(default_factory=list)
    early_conflicts: int = 0


def place_order(
    orders_url: str, token: str, lines: list[tuple[str, int]], correlation: str | None = None
) -> Response:
    return http(
        "POST",
        f"{orders_url}/api/orders/",
        {"lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines]},
        token=token,
        correlation=correlation,
    )


def place_when_known(
    orders_url: str,
    token: str,
    lines: list[tuple[str, int]],
    *,
    correlation: str | None = None,
    timeout: float = 60,
) -> tuple[Response, int]:
    """Place an order, honouring 409 + Retry-After until orders' replica has arrived."""
    deadline = time.monotonic() + timeout
    conflicts = 0
    while True:
        placed = place_order(orders_url, token, lines, correlation)
        if placed.status != 409:
            return placed, conflicts
        conflicts += 1
        retry_after = placed.headers.get("Retry-After", "")
        assert retry_after.isdigit(), f"409 without a Retry-After header: {placed}"
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"orders still does not know the customer after {timeout} s")
        # Honour the server's advice, but poll a little faster while it is far away.
        time.sleep(min(int(retry_after), left, 1.0))


def register(accounts_url: str, username: str, correlation: str | None = None) -> tuple[int, str]:
    """Register and log in through accounts; returns (user id, access token)."""
    password = f"{username}-correct-horse-battery"
    created = http(
        "POST",
        f"{accounts_url}/api/accounts/register/",
        {"username": username, "email": f"{username}@example.com", "password": password},
        correlation=correlation,
    )
    assert created.status == 201, created
    login = http(
        "POST",
        f"{accounts_url}/api/accounts/login/",
        {"username": username, "password": password},
        correlation=correlation,
    )
    assert login.status == 200, login
    return login.body["user"]["id"], login.body["access"]


def walk_the_journey(accounts_url: str, orders_url: str, username: str) -> Journey:
    """Register, log in, order (twice), see the profile's stats, deactivate, see the orders
    cancelled. The same steps whether the two URLs are one monolith or two services.

    Every request carries the correlation id ``journey-<username>``, and so does every
    event it causes, on whichever side of the broker: the summary selects them by it."""
    correlation = f"journey-{username}"
    user_id, token = register(accounts_url, username, correlation)
    conflicts = 0
    totals = []
    for lines in ORDERS:
        placed, early = place_when_known(orders_url, token, lines, correlation=correlation)
        conflicts += early
        assert placed.status == 201, placed
        assert placed.body["status"] == "placed"
        assert placed.body["customer_id"] == user_id
        totals.append(placed.body["total"])
    assert totals == ["25.00", "23.10"]

    def profile_counts_both() -> dict[str, Any] | None:
        me = http("GET", f"{accounts_url}/api/accounts/me/", token=token)
        assert me.status == 200, me
        return me.body if me.body["orders_count"] == len(ORDERS) else None

    me = poll(profile_counts_both, timeout=30, what="accounts' profile counts both orders")
    stats = {"orders_count": me["orders_count"], "total_spent": me["total_spent"]}
    assert stats == {"orders_count": 2, "total_spent": {"EUR": "48.10"}}

    deactivated = http(
        "POST",
        f"{accounts_url}/api/accounts/me/deactivate/",
        token=token,
        correlation=correlation,
    )
    assert deactivated.status in (200, 204), deactivated

    def orders_all_cancelled() -> list[tuple[str, str, str]] | None:
        listed = http("GET", f"{orders_url}/api/orders/", token=token)
        assert listed.status == 200, listed
        rows = sorted((o["status"], o["total"], o["cancel_reason"]) for o in listed.body["results"])
        return rows if all(status == "cancelled" for status, _, _ in rows) else None

    cancelled = poll(orders_all_cancelled, timeout=30, what="orders has cancelled the open orders")
    assert cancelled == [
        ("cancelled", "23.10", "customer_deactivated"),
        ("cancelled", "25.00", "customer_deactivated"),
    ]
    refused = place_order(orders_url, token, ORDERS[0])
    assert refused.status == 403, refused  # a still-valid token of a deactivated customer
    return Journey(user_id, token, correlation, stats, cancelled, conflicts)


# --- the databases ----------------------------------------------------------------------------


class Database:
    """A service's database, read from outside (autocommit, one query at a time)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(f"{POSTGRES}/{self.name}", autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()

    def value(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.rows(sql, params)[0][0]

    def has_table(self, table: str) -> bool:
        return bool(self.value("SELECT to_regclass(%s) IS NOT NULL", (table,)))


def journey_summary(journey: Journey, *, accounts: Database, orders: Database) -> dict[str, Any]:
    """The end state that must be the same in both modes, read from the databases.

    ``accounts`` and ``orders`` are the same database in the monolith. Events are grouped
    as the producers published them and as the handlers applied them: an event received
    from the broker is a row in the consumer's database, but it is the same event.
    """
    user_id = journey.user_id
    stats = accounts.rows(
        "SELECT currency, count(*), sum(total) FROM accounts_orderrecord "
        "WHERE user_id = %s AND NOT cancelled GROUP BY currency",
        (user_id,),
    )
    orders_rows = orders.rows(
        "SELECT status, total::text, cancel_reason FROM orders_order "
        "WHERE customer_id = %s ORDER BY id",
        (user_id,),
    )
    replica = orders.rows(
        "SELECT is_active FROM orders_customer WHERE customer_id = %s", (user_id,)
    )
    databases = {accounts.name: accounts, orders.name: orders}.values()
    published: set[str] = set()
    applied: Counter[tuple[str, str, str]] = Counter()
    for db in databases:
        published |= {
            name
            for (name,) in db.rows(
                "SELECT DISTINCT name FROM eventbus_outboxmessage "
                "WHERE broker <> 'received' AND correlation_id = %s",
                (journey.correlation,),
            )
        }
        applied.update(
            {
                (name, handler, status): n
                for name, handler, status, n in db.rows(
                    "SELECT m.name, d.handler, d.status, count(*) FROM eventbus_delivery d "
                    "JOIN eventbus_outboxmessage m ON m.id = d.message_id "
                    "WHERE m.correlation_id = %s GROUP BY m.name, d.handler, d.status",
                    (journey.correlation,),
                )
            }
        )
    return {
        "stats_after_orders": journey.stats_after_orders,
        "stats_at_end": sorted(stats),
        "orders": orders_rows,
        "replica_is_active": [active for (active,) in replica],
        "events_published": sorted(published),
        "deliveries": sorted(applied.items()),
    }


# --- the monolith, served the same way -------------------------------------------------------


@contextmanager
def monolith_server(port: int) -> Iterator[tuple[str, Database]]:
    """The monolith (config.settings.dev, inline delivery) on a fresh PostgreSQL database,
    served by gunicorn: yields its URL and its database; drops the database afterwards."""
    name = f"splittest_{uuid.uuid4().hex[:8]}_monolith"
    drop_databases(name)
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": f"{POSTGRES}/{name}",
        "DB_CONN_MAX_AGE": "60",
        "EVENTBUS_TRANSPORT": "local",
        "EVENTBUS_DELIVERY": "inline",
        "PYTHONUNBUFFERED": "1",
    }
    process = None
    try:
        for command in (["migrate", "--no-input", "-v0"], ["load_catalogue"]):
            subprocess.run(
                [PYTHON, "manage.py", *command],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                timeout=120,
            )
        process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"

        def serving() -> bool:
            assert process is not None and process.poll() is None, "the monolith exited"
            with suppress(OSError):
                return http("GET", f"{url}/api/", timeout=2).status < 500
            return False

        poll(serving, timeout=60, what="the monolith serves")
        yield url, Database(name)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        drop_databases(name)


# --- the broker, from outside ------------------------------------------------------------------


def get_all(queue: str) -> list[Any]:
    """Every message now in a queue, taken off it."""
    messages = []
    with kombu.Connection(BROKER_URL) as connection:
        channel = connection.channel()
        while (message := channel.basic_get(queue, no_ack=True)) is not None:
            messages.append(message)
    return messages


def queue_depth(queue: str) -> int:
    with kombu.Connection(BROKER_URL) as connection:
        return connection.channel().queue_declare(queue, passive=True).message_count


def rabbitmqctl(*args: str, timeout: float = 60) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def rabbitmqctl_usable() -> str | None:
    """None if rabbitmqctl can list connections here, else why not."""
    try:
        rabbitmqctl("list_connections", "name", timeout=30)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None


def broker_client_ports(pid: int) -> set[int]:
    """Local ports of the process's TCP connections to the broker (port 5672), from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with suppress(OSError):
            target = os.readlink(fd)
            if match := re.fullmatch(r"socket:\[(\d+)\]", target):
                inodes.add(match.group(1))
    broker_port = kombu.Connection(BROKER_URL).port or 5672
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(OSError), open(table) as lines:
            next(lines)
            for line in lines:
                parts = line.split()
                local, remote, inode = parts[1], parts[2], parts[9]
                if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == broker_port:
                    ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def broker_connections(pid: int) -> list[str]:
    """RabbitMQ's ids of this process's connections (matched by the client's port)."""
    ports = broker_client_ports(pid)
    listing = rabbitmqctl("list_connections", "pid", "peer_port")  # "<rabbit@host.1.2.3>\t46268"
    found = []
    for line in listing.splitlines():
        connection, _, port = line.rpartition("\t")
        if port.strip().isdigit() and int(port) in ports:
            found.append(connection.strip())
    return found


def close_connections(connections: list[str]) -> None:
    """Have RabbitMQ close these connections (as a broker restart or a network cut would),
    and only these: the broker is shared. All at once: rabbitmqctl takes seconds to start."""
    running = [
        subprocess.Popen(
            ["rabbitmqctl", "-q", "close_connection", c, "split test: connection cut"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in connections
    ]
    for process in running:
        _, err = process.communicate(timeout=60)
        if process.returncode != 0:
            raise RuntimeError(f"rabbitmqctl close_connection failed: {err.strip()}")


def manage_shell(config: SplitConfig, module: str, code: str, timeout: float = 120) -> str:
    """Run Python in a service's Django (``manage.py shell -c``), as an operator would."""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=config.env(module),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module}: manage.py shell failed:\n{done.stderr}")
    return done.stdout


def register_many(config: SplitConfig, prefix: str, count: int, pause: float = 0.0) -> None:
    """``count`` registrations through accounts' service, ``pause`` seconds apart (a fast
    hasher: the point is the events they publish, not 200 password hashes on two cores)."""
    manage_shell(
        config,
        "accounts",
        "from django.test import override_settings\n"
        "import time\n"
        "from accounts.services import user_register\n"
        "with override_settings(PASSWORD_HASHERS="
        "['django.contrib.auth.hashers.MD5PasswordHasher']):\n"
        f"    for i in range({count}):\n"
        f"        user_register(username=f'{prefix}{{i}}', email=f'{prefix}{{i}}@example.com', "
        "password='correct-horse-battery-42')\n"
        f"        time.sleep({pause})\n",
    )

"""Split mode proven with real processes: accounts and orders as two services over RabbitMQ.

One deployment (tools/split.py: two gunicorns, two workers, two consumers, two PostgreSQL
databases, a private exchange and queue prefix, free ports) serves the whole module. The
journey walks through it over HTTP and through a monolith served the same way, and both
must end in the same state; then processes are killed, connections cut, messages
duplicated, malformed messages injected and the broker taken away from the relay.

Marked ``split``: deselected by default (``make test`` runs on SQLite); ``make test-split``
runs them. They need PostgreSQL and RabbitMQ: without them they skip, or fail under CI=true.
"""

import json
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import amqp
import jwt
import kombu
import pytest
from amqp.exceptions import AccessRefused
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from playwright.sync_api import Browser

from eventbus.broker.topology import binding_key, dead_letter_exchange, dead_letter_queue
from tests.support import databases, rabbitmq
from tests.support.browser import (
    chromium,
    jwt_cookie_names,
    log_out,
    profile,
    status_line,
    walk_the_customer_journey,
)
from tests.support.databases import Database, poll
from tests.support.http import http
from tests.support.journey import (
    journey_summary,
    place_when_known,
    register,
    walk_the_journey,
)
from tests.support.processes import closed_port, free_ports, monolith_server
from tests.support.rabbitmq import (
    broker_connections,
    close_connections,
    delete_broker_objects,
    get_all,
    queue_name,
    rabbitmqctl_unusable,
    user_names,
    user_permissions,
)
from tests.support.register_users import register_many
from tests.support.session import Session
from tests.support.span_files import DIRECTORY_VARIABLE, SpanRecord, read_spans, span_env
from tools.split import MODULES, SplitConfig, SplitDeployment, broker_users, running

pytestmark = pytest.mark.split

POSTGRES = os.environ.get("SPLIT_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")
BROKER_URL = os.environ.get("SPLIT_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
CONSUMER, WORKER = "orders-consumer", "accounts-worker"
REGISTERED_HANDLER = "orders.handlers.replicate_registered_customer"


def unavailable(message: str) -> None:
    """A skip on a laptop, a failure under CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}: unavailable under CI", pytrace=False)
    pytest.skip(message)


def split_config(keys_dir: Path, spans_dir: Path) -> SplitConfig:
    """A deployment of its own: database names, exchange, queue prefix and ports; every
    process writes its spans to ``spans_dir`` (tests.support.span_files)."""
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
        throwaway=True,  # its broker users, named from the queue prefix, deleted at the end
        web_workers=1,  # two cores: six processes are enough
        fresh=True,
        quiet=True,
        extra_env=span_env(spans_dir),
    )


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SplitDeployment]:
    problems = [p for p in (databases.unreachable(POSTGRES), rabbitmq.unreachable(BROKER_URL)) if p]
    if (unusable := rabbitmqctl_unusable()) is not None:
        problems.append(f"rabbitmqctl to make the services' broker users ({unusable})")
    if problems:
        unavailable("the split-mode tests need " + " and ".join(problems))
    config = split_config(tmp_path_factory.mktemp("keys"), tmp_path_factory.mktemp("spans"))
    try:
        with running(config) as started:
            yield started
    finally:
        for module in MODULES:
            Database(config.postgres, config.database_name(module)).drop()
        delete_broker_objects(config)


@pytest.fixture
def split(deployment: SplitDeployment) -> Iterator[SplitDeployment]:
    """The deployment, checked alive before the test and made whole again after it."""
    deployment.check_alive()
    yield deployment
    for label, process in deployment.processes.items():
        if process.poll() is not None:
            deployment.restart(label)
    deployment.wait_until_serving()


def service_databases(split: SplitDeployment) -> tuple[Database, Database]:
    return (
        Database(split.config.postgres, split.config.database_name("accounts")),
        Database(split.config.postgres, split.config.database_name("orders")),
    )


def urls(split: SplitDeployment) -> tuple[str, str]:
    return split.config.url("accounts"), split.config.url("orders")


def unique_prefix(label: str) -> str:
    return f"{label}{uuid.uuid4().hex[:6]}x"  # no "_" or "%": used in LIKE patterns


def replicas(orders: Database, prefix: str) -> int:
    return orders.value(
        "SELECT count(*) FROM orders_customer WHERE username LIKE %s", (f"{prefix}%",)
    )


def assert_each_registration_applied_once(
    accounts: Database, orders: Database, prefix: str, count: int
) -> None:
    """Nothing lost, nothing applied twice, for the users whose name starts with prefix."""
    like = (f"{prefix}%",)
    published = accounts.rows(
        "SELECT id, broker FROM eventbus_outboxmessage "
        "WHERE name = 'accounts.user_registered' AND payload->>'username' LIKE %s",
        like,
    )
    assert len(published) == count
    assert {broker for _, broker in published} == {"sent"}  # every one confirmed by the broker
    received = orders.rows(
        "SELECT id, broker, dispatched_at IS NOT NULL FROM eventbus_outboxmessage "
        "WHERE name = 'accounts.user_registered' AND payload->>'username' LIKE %s",
        like,
    )
    assert sorted((i, "received", True) for i, _ in published) == sorted(received)  # inbox = events
    customers = orders.rows(
        "SELECT count(*), count(DISTINCT customer_id), count(DISTINCT username) "
        "FROM orders_customer WHERE username LIKE %s",
        like,
    )
    assert customers == [(count, count, count)]  # one replica row per user
    deliveries = orders.rows(
        "SELECT d.status, count(*), count(DISTINCT d.message_id) FROM eventbus_delivery d "
        "JOIN eventbus_outboxmessage m ON m.id = d.message_id "
        "WHERE d.handler = %s AND m.payload->>'username' LIKE %s GROUP BY d.status",
        (REGISTERED_HANDLER, *like),
    )
    assert deliveries == [("succeeded", count, count)]
    for db in (accounts, orders):  # no (event, handler) pair recorded twice, anywhere
        assert (
            db.rows(
                "SELECT message_id, handler FROM eventbus_delivery "
                "GROUP BY message_id, handler HAVING count(*) > 1"
            )
            == []
        )


def assert_permissions_are_its_own(
    permissions: dict[str, list[tuple[str, ...]]],
    config: SplitConfig,
    module: str,
    *,
    other: SplitConfig,
) -> None:
    """``module``'s user in ``config`` may use its deployment's exchange and its own queue,
    and publish its own module's events there: nothing of the other module's, of the other
    deployment's or of ``make split``'s exchange (RabbitMQ's regexes are searched, as
    re.search does)."""
    [(vhost, configure, write, read)] = permissions["vhosts"]
    assert (vhost, configure, write, read) == (config.vhost(), configure, configure, configure)
    another = MODULES[1 - MODULES.index(module)]
    for name in (config.exchange, queue_name(config, module)):
        assert re.search(configure, name), (name, configure)
    for name in (
        queue_name(config, another),
        other.exchange,
        queue_name(other, module),
        queue_name(other, another),
        SplitConfig.exchange,
    ):
        assert not re.search(configure, name), (name, configure)
    topics = {exchange: (write, read) for _, exchange, write, read in permissions["topics"]}
    assert set(topics) == {config.exchange, dead_letter_exchange(config.exchange)}
    publishes = topics[config.exchange][0]
    assert re.search(publishes, f"{module}.anything_happened")
    assert not re.search(publishes, f"{another}.anything_happened")


# --- broker users ----------------------------------------------------------------------------


def test_deployments_side_by_side_have_broker_users_of_their_own(split, tmp_path):
    """A second test deployment on the broker, its users alone (what starting it does to
    the broker's users), gets users named from its queue prefix, with permissions on its
    own exchange and queues, and leaves the running deployment's as they were; stopping
    it deletes its users and only them."""
    first = split.config
    second = split_config(tmp_path / "keys", tmp_path / "spans")
    first_users = {module: first.broker_user(module)[0] for module in MODULES}
    second_users = {module: second.broker_user(module)[0] for module in MODULES}
    assert first_users == {m: f"{first.queue_prefix}eventbus-{m}" for m in MODULES}
    assert second_users == {m: f"{second.queue_prefix}eventbus-{m}" for m in MODULES}
    before = {user: user_permissions(user) for user in (*first_users.values(), "guest")}
    for module, user in first_users.items():
        assert_permissions_are_its_own(before[user], first, module, other=second)

    with broker_users(second):
        present = user_names()
        assert {*first_users.values(), *second_users.values(), "guest"} <= present
        for module, user in second_users.items():
            assert_permissions_are_its_own(user_permissions(user), second, module, other=first)
        assert {user: user_permissions(user) for user in before} == before

    present = user_names()
    assert present.isdisjoint(second_users.values())
    assert {*first_users.values(), "guest"} <= present
    assert {user: user_permissions(user) for user in before} == before
    split.check_alive()


# --- the journey ---------------------------------------------------------------------------


def test_the_journey_across_the_two_services_ends_as_in_the_monolith(split):
    accounts_url, orders_url = urls(split)
    accounts, orders = service_databases(split)

    journey = walk_the_journey(accounts_url, orders_url, "splitbob")
    split_state = journey_summary(journey, accounts=accounts, orders=orders)

    with monolith_server(POSTGRES, free_ports(1)[0]) as (monolith_url, monolith_db):
        monolith_journey = walk_the_journey(monolith_url, monolith_url, "splitbob")
        monolith_state = journey_summary(monolith_journey, accounts=monolith_db, orders=monolith_db)

    assert split_state == monolith_state
    assert split_state["orders"] == [
        ("cancelled", "25.00", "customer_deactivated"),
        ("cancelled", "23.10", "customer_deactivated"),
    ]
    assert split_state["stats_at_end"] == []  # both orders cancelled: nothing counts
    assert split_state["replica_is_active"] == [False]
    assert split_state["events_published"] == [
        "accounts.user_deactivated",
        "accounts.user_logged_in",
        "accounts.user_registered",
        "orders.order_cancelled",
        "orders.order_placed",
    ]
    # Each service published its own events and received only what its handlers take.
    names = "SELECT DISTINCT name FROM eventbus_outboxmessage WHERE correlation_id = %s AND broker = %s ORDER BY name"
    accounts_received = [n for (n,) in accounts.rows(names, (journey.correlation, "received"))]
    orders_received = [n for (n,) in orders.rows(names, (journey.correlation, "received"))]
    assert accounts_received == ["orders.order_cancelled", "orders.order_placed"]
    assert orders_received == ["accounts.user_deactivated", "accounts.user_registered"]
    for db in (accounts, orders):
        unsent = db.value(
            "SELECT count(*) FROM eventbus_outboxmessage WHERE correlation_id = %s "
            "AND broker NOT IN ('sent', 'received') AND name <> 'eventbus.task_enqueued'",
            (journey.correlation,),
        )
        assert unsent == 0
    # orders' confirmation tasks stayed in orders: never relayed, run by its own worker.
    tasks = "SELECT broker, count(*) FROM eventbus_outboxmessage WHERE correlation_id = %s AND name = 'eventbus.task_enqueued' GROUP BY broker"
    assert orders.rows(tasks, (journey.correlation,)) == [("", 2)]
    assert accounts.rows(tasks, (journey.correlation,)) == []


def test_orders_verifies_accounts_tokens_with_the_public_key_and_has_no_users(split):
    accounts_url, orders_url = urls(split)
    accounts, orders = service_databases(split)
    user_id, token = register(accounts_url, unique_prefix("token"))

    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert http("GET", f"{orders_url}/api/orders/", token=token).status == 200
    assert accounts.has_table("accounts_user")
    assert not orders.has_table("accounts_user")
    assert not orders.has_table("accounts_orderrecord")
    assert not accounts.has_table("orders_order")

    claims = jwt.decode(token, options={"verify_signature": False})
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        claims,
        other_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        algorithm="RS256",
    )
    refused = http("GET", f"{orders_url}/api/orders/", token=forged)
    assert refused.status == 401, refused
    assert http("GET", f"{accounts_url}/api/accounts/me/", token=forged).status == 401
    hs256 = jwt.encode(claims, split.config.secret_keys["orders"], "HS256")  # its own key
    assert http("GET", f"{orders_url}/api/orders/", token=hs256).status == 401
    assert claims["user_id"] == str(user_id)


def test_an_orders_admin_session_is_never_treated_as_a_customer(split):
    # given a customer with an order, and an orders-admin staff user with the same id
    accounts_url, orders_url = urls(split)
    _, orders = service_databases(split)
    user_id, token = register(accounts_url, unique_prefix("victim"))
    placed, _ = place_when_known(orders_url, token, [("MUG-001", 1)])
    assert placed.status == 201, placed
    order_id = placed.body["id"]
    staff, password = f"opsadmin{user_id}", "orders-admin-pass-2026"
    split.manage(
        "orders",
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        f"User.objects.create_superuser(id={user_id}, username={staff!r}, "
        f"email='ops@example.com', password={password!r})",
    )
    session = Session(orders_url)
    session.admin_login(staff, password)
    admin_page, final = session.request("GET", "/admin/orders/order/")
    assert (admin_page.status, final) == (200, f"{orders_url}/admin/orders/order/")

    # when the admin's session lists and cancels through the customer API
    listed, _ = session.request("GET", "/api/orders/")
    shown, _ = session.request("GET", f"/api/orders/{order_id}/")
    cancelled, _ = session.request("POST", f"/api/orders/{order_id}/cancel/", {}, csrf=True)

    # then it is no customer: refused, and the customer's order is untouched
    assert [r.status for r in (listed, shown, cancelled)] == [401, 401, 401], (listed, cancelled)
    assert listed.body == {"detail": "Authentication credentials were not provided."}
    assert orders.value("SELECT status FROM orders_order WHERE id = %s", (order_id,)) == "placed"
    assert http("GET", f"{orders_url}/api/orders/{order_id}/", token=token).status == 200


# --- faults ----------------------------------------------------------------------------------


def spans_directory(split: SplitDeployment) -> Path:
    return Path(split.config.extra_env[DIRECTORY_VARIABLE])


def spans_of_event(split: SplitDeployment, event_id: str) -> dict[str, SpanRecord] | None:
    """The create, send, receive and process spans of one event, once all four are written:
    found by its id (create, process) and by a link to its create span (send, receive)."""
    spans = read_spans(spans_directory(split))
    found = {
        span.name.split(" ")[0]: span
        for span in spans
        if span.attributes.get("messaging.message.id") == event_id
    }
    create = found.get("create")
    if create is None:
        return None
    for span in spans:
        if (create.trace_id, create.span_id) in span.links and span.kind == "PRODUCER":
            found["send"] = span
        if (create.trace_id, create.span_id) in span.links and span.name.startswith("receive "):
            found["receive"] = span
    return found if sorted(found) == ["create", "process", "receive", "send"] else None


def test_one_trace_runs_from_a_registration_on_accounts_through_rabbitmq_to_orders(split):
    """Every process exports its spans to a file (tests.support.span_files); a registration
    yields create in accounts' web worker, send in accounts' relay, receive and process in
    orders' consumer: process is the create span's child, in its trace, in another service."""
    accounts_url, _ = urls(split)
    accounts, orders = service_databases(split)
    correlation = f"trace-{uuid.uuid4().hex[:12]}"
    register(accounts_url, unique_prefix("traced"), correlation=correlation)
    event_id, traceparent = accounts.rows(
        "SELECT id::text, traceparent FROM eventbus_outboxmessage "
        "WHERE name = 'accounts.user_registered' AND correlation_id = %s",
        (correlation,),
    )[0]

    spans = poll(lambda: spans_of_event(split, event_id), timeout=30, what="the four spans")
    assert spans is not None

    create, send, receive, process = (spans[k] for k in ("create", "send", "receive", "process"))
    exchange = split.config.exchange
    assert traceparent == f"00-{create.trace_id}-{create.span_id}-{create.trace_flags}"
    assert int(create.trace_flags, 16) & 1  # sampled
    assert (
        orders.value("SELECT traceparent FROM eventbus_outboxmessage WHERE id = %s", (event_id,))
        == traceparent
    )  # the AMQP header, stored by orders' consumer
    # Where each span was made: the process and the service.
    assert (create.settings, "gunicorn" in create.argv[0]) == (
        "config.settings.accounts_service",
        True,
    )
    assert (send.settings, send.argv[-2:]) == (
        "config.settings.accounts_service",
        ["eventbus", "worker"],
    )
    assert (receive.settings, receive.argv[-2:]) == (
        "config.settings.orders_service",
        ["eventbus", "consume"],
    )
    assert process.pid == receive.pid
    # The trace: create is the root (no server span), process its child, the batch spans link.
    assert (create.name, create.kind, create.parent_span_id, create.links) == (
        "create accounts.user_registered",
        "PRODUCER",
        None,
        [],
    )
    assert create.attributes == {
        "messaging.system": "eventbus",
        "messaging.operation.type": "create",
        "messaging.operation.name": "create",
        "messaging.destination.name": "accounts.user_registered",
        "messaging.message.id": event_id,
        "messaging.message.conversation_id": correlation,
    }
    assert (send.name, send.kind, send.parent_span_id) == (f"send {exchange}", "PRODUCER", None)
    assert send.attributes == {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "messaging.destination.name": exchange,
        "messaging.batch.message_count": len(send.links),
    }
    assert (receive.name, receive.kind, receive.parent_span_id) == (
        f"receive {exchange}",
        "CONSUMER",
        None,
    )
    assert receive.attributes == {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "receive",
        "messaging.operation.name": "receive",
        "messaging.destination.name": exchange,
        "messaging.batch.message_count": len(receive.links),
    }
    assert (process.name, process.kind, process.status) == (
        "process accounts.user_registered",
        "CONSUMER",
        "UNSET",
    )
    assert (process.trace_id, process.parent_span_id, process.links) == (
        create.trace_id,
        create.span_id,
        [(create.trace_id, create.span_id)],
    )
    assert process.attributes == {
        "messaging.system": "eventbus",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": "accounts.user_registered",
        "messaging.message.id": event_id,
        "messaging.consumer.group.name": REGISTERED_HANDLER,
    }
    # One handler in orders subscribes to the event: one process span, one create span.
    assert sorted(
        span.name
        for span in read_spans(spans_directory(split))
        if span.attributes.get("messaging.message.id") == event_id
    ) == ["create accounts.user_registered", "process accounts.user_registered"]


def ready_checks(url: str) -> tuple[int, dict[str, bool]]:
    reply = http("GET", f"{url}/readyz")
    return reply.status, {name: check["ok"] for name, check in reply.body["checks"].items()}


def test_each_service_is_ready_and_its_consumer_shows_in_stats_until_it_stops(split):
    for url in urls(split):
        status, checks = ready_checks(url)
        assert status == 200, checks
        assert checks["database"] and checks["broker"] and checks["consumer"]
    stats = json.loads(split.manage("orders", "eventbus", "stats", "--format", "json"))
    (consumer,) = stats["consumers"]
    assert consumer["pid"] == split.processes[CONSUMER].pid
    assert consumer["queues"] == [f"{split.config.queue_prefix}orders.events"]
    assert consumer["heartbeat_seconds"] < 30

    split.stop(CONSUMER)  # a clean stop removes its heartbeat row

    status, checks = ready_checks(urls(split)[1])
    assert (status, checks["consumer"]) == (503, False)
    assert (
        json.loads(split.manage("orders", "eventbus", "stats", "--format", "json"))["consumers"]
        == []
    )
    split.restart(CONSUMER)
    poll(lambda: ready_checks(urls(split)[1])[0] == 200, timeout=30, what="orders is ready again")


def test_consumer_and_relay_killed_mid_stream_lose_nothing_and_apply_nothing_twice(split):
    accounts, orders = service_databases(split)
    prefix, count = unique_prefix("kill"), 200
    # 10 ms apart: the stream lasts seconds, so the kill lands in it however fast the machine
    producing = threading.Thread(target=register_many, args=(split, prefix, count, 0.01))
    producing.start()
    try:
        seen = poll(
            lambda: replicas(orders, prefix), timeout=60, what="the first replicas arrive",
            interval=0.02,
        )  # fmt: skip
        split.stop(CONSUMER, sig=signal.SIGKILL)
        split.stop(WORKER, sig=signal.SIGKILL)
        at_kill = replicas(orders, prefix)
    finally:
        producing.join(timeout=90)
    assert 0 < seen <= at_kill < count, f"not killed mid-stream: {at_kill} of {count} had arrived"
    assert replicas(orders, prefix) == at_kill  # nothing moves while they are dead

    split.restart(WORKER)
    split.restart(CONSUMER)
    poll(lambda: replicas(orders, prefix) == count, timeout=60, what=f"all {count} replicas arrive")
    time.sleep(1)  # anything redelivered late would show up now

    assert_each_registration_applied_once(accounts, orders, prefix, count)


def test_broker_connections_cut_mid_stream_are_reconnected_and_nothing_is_lost(split):
    unusable = rabbitmqctl_unusable()
    if unusable:
        unavailable(f"cutting connections needs rabbitmqctl on the broker's host: {unusable}")
    accounts, orders = service_databases(split)
    warm = unique_prefix("warm")  # the relay connects when it first has something to send
    register_many(split, warm, 1)
    poll(lambda: replicas(orders, warm), timeout=30, what="the relay and consumer are connected")
    connections = [
        broker_connections(BROKER_URL, split.processes[p].pid) for p in (CONSUMER, WORKER)
    ]
    assert [len(c) for c in connections] == [1, 1]  # the consumer's and the relay's
    prefix, count = unique_prefix("cut"), 200
    producing = threading.Thread(  # a stream of some seconds, so the cut falls inside it
        target=register_many, args=(split, prefix, count), kwargs={"pause": 0.02}
    )
    producing.start()
    try:
        poll(
            lambda: replicas(orders, prefix), timeout=60, what="the first replicas arrive",
            interval=0.02,
        )  # fmt: skip
        close_connections([c for found in connections for c in found])
        at_cut = replicas(orders, prefix)
    finally:
        producing.join(timeout=90)
    assert at_cut < count, f"not cut mid-stream: {at_cut} of {count} had arrived"

    poll(lambda: replicas(orders, prefix) == count, timeout=60, what=f"all {count} replicas arrive")
    time.sleep(1)

    split.check_alive()  # they reconnected; neither died
    assert_each_registration_applied_once(accounts, orders, prefix, count)
    assert any("broker connection lost" in line for line in split.output[CONSUMER])


def test_a_message_delivered_twice_is_applied_once(split):
    accounts_url, _ = urls(split)
    _, orders = service_databases(split)
    split.stop(CONSUMER)  # a fresh consumer: its totals count this test's duplicates only
    split.restart(CONSUMER)
    exchange, spy = split.config.exchange, f"{split.config.queue_prefix}spy"
    with kombu.Connection(BROKER_URL) as connection:
        channel = connection.channel()
        channel.queue_declare(spy, durable=False, auto_delete=False)
        channel.queue_bind(spy, exchange, routing_key=binding_key("accounts.user_registered"))
    try:
        username = unique_prefix("twice")
        user_id, _ = register(accounts_url, username)
        poll(lambda: replicas(orders, username), timeout=30, what="the replica arrives")
        (relayed,) = poll(
            lambda: get_all(BROKER_URL, spy), timeout=10, what="the spy queue has a copy"
        )

        with kombu.Connection(BROKER_URL) as connection:
            producer = connection.Producer()
            for _ in range(2):  # the same message, the same message id, twice more
                producer.publish(
                    relayed.body,
                    exchange=exchange,
                    routing_key=relayed.delivery_info["routing_key"],
                    message_id=relayed.properties["message_id"],
                    headers=relayed.properties["application_headers"],
                    content_type="application/json",
                    content_encoding="utf-8",
                    serializer=None,
                )
        later = unique_prefix("later")
        register_many(split, later, 1)  # the queue is FIFO: once this one is in,
        poll(lambda: replicas(orders, later), timeout=30, what="a later event arrives")
    finally:
        with kombu.Connection(BROKER_URL) as connection:
            connection.channel().queue_delete(spy)

    event_id = relayed.properties["message_id"]
    assert orders.rows(
        "SELECT count(*) FROM eventbus_outboxmessage WHERE id = %s", (event_id,)
    ) == [(1,)]
    assert orders.rows(
        "SELECT handler, status FROM eventbus_delivery WHERE message_id = %s", (event_id,)
    ) == [(REGISTERED_HANDLER, "succeeded")]
    assert orders.rows(
        "SELECT customer_id, profile_version FROM orders_customer WHERE username = %s",
        (username,),
    ) == [(user_id, 1)]
    split.stop(CONSUMER)  # SIGTERM: it prints its totals
    totals = poll(
        lambda: next((ln for ln in split.output[CONSUMER] if ln.startswith("Consumed ")), None),
        timeout=5,
        what="the consumer prints its totals",
    )
    assert totals is not None
    duplicates = int(totals.split(" duplicates skipped")[0].rsplit(" ", 1)[1])
    assert duplicates == 2, totals


def test_malformed_messages_are_dead_lettered_and_the_consumer_goes_on(split):
    # given messages that each once stopped the orders consumer for good, and others
    accounts, orders = service_databases(split)
    queue = queue_name(split.config, "orders")
    headers = {
        "x-event-name": "accounts.user_registered",
        "x-event-version": 1,
        "x-occurred-at": "2026-01-01T00:00:00+00:00",
        "x-producer": "accounts",
        "x-correlation-id": "c-1",
    }
    valid = b'{"user_id": 1, "username": "u", "email": "u@example.com", "profile_version": 1}'
    bad = {
        "body is not JSON": (b"not json {", headers),
        "ValidationError": (b'{"user_id": "one", "username": 5}', headers),
        "x-producer is 101 characters long": (valid, {**headers, "x-producer": "a" * 101}),
        "payload.username contains a NUL": (valid.replace(b'"u"', b'"u\\u0000"'), headers),
        "payload.username contains a lone surrogate": (
            valid.replace(b'"u"', b'"\\ud800"'),
            headers,
        ),
        "x-correlation-id contains a lone surrogate": (
            valid,
            {**headers, "x-correlation-id": "\ud800"},
        ),
        "nests arrays and objects deeper than": (b"[" * 200_000, headers),
        "x-event-version is list": (valid, {**headers, "x-event-version": [1]}),
        "outside years 1 to 9999 in UTC": (
            valid,
            {**headers, "x-occurred-at": "0001-01-01T00:00:00+14:00"},
        ),
        "x-producer 'orders' is not 'accounts'": (valid, {**headers, "x-producer": "orders"}),
    }
    ids = {reason: str(uuid.uuid4()) for reason in bad}

    # when they are published to the exchange with the event's routing key
    with kombu.Connection(BROKER_URL) as connection:
        producer = connection.Producer()
        for reason, (body, message_headers) in bad.items():
            producer.publish(
                body,
                exchange=split.config.exchange,
                routing_key="accounts.user_registered.v1",
                message_id=ids[reason],
                headers=message_headers,
                content_type="application/json",
                content_encoding="utf-8",
                serializer=None,
            )
    good = unique_prefix("good")
    register_many(split, good, 3)

    # then the good messages behind them are applied, and each bad one is dead-lettered
    # once with its reason, stored nowhere
    poll(lambda: replicas(orders, good) == 3, timeout=30, what="later good messages are applied")
    dead = poll(
        lambda: get_all(BROKER_URL, dead_letter_queue(queue)),
        timeout=10,
        what="dead letters appear",
    )
    assert sorted(m.properties["message_id"] for m in dead) == sorted(ids.values())
    reasons = {
        m.properties["message_id"]: m.properties["application_headers"]["x-eventbus-dead-reason"]
        for m in dead
    }
    for reason, message_id in ids.items():
        assert reason in reasons[message_id], (reason, reasons[message_id])
    split.check_alive()
    stored = orders.value(
        "SELECT count(*) FROM eventbus_outboxmessage WHERE id = ANY(%s::uuid[])",
        (list(ids.values()),),
    )
    assert stored == 0
    assert_each_registration_applied_once(accounts, orders, good, 3)


def test_each_service_publishes_only_its_own_events_and_reads_only_its_own_queue(split):
    # given the accounts service's own broker credentials
    accounts_url = split.config.service_broker("accounts")
    assert accounts_url != BROKER_URL

    with kombu.Connection(accounts_url) as connection:
        channel = connection.channel()
        channel.confirm_select()
        # when it publishes its own event, the broker takes it
        channel.basic_publish_confirm(
            amqp.Message(b"{}"), split.config.exchange, "accounts.nothing_yet.v1", confirm_timeout=5
        )
        # but an orders event is refused by the broker
        with pytest.raises(AccessRefused, match=r"orders\.order_placed\.v1"):
            channel.basic_publish_confirm(
                amqp.Message(b"{}"),
                split.config.exchange,
                "orders.order_placed.v1",
                confirm_timeout=5,
            )
    # and it may not read the orders service's queue either
    with kombu.Connection(accounts_url) as connection, pytest.raises(AccessRefused):
        connection.channel().basic_get(queue_name(split.config, "orders"), no_ack=False)


def test_publishing_goes_on_while_the_relay_cannot_reach_the_broker(split):
    accounts_url, _ = urls(split)
    accounts, orders = service_databases(split)
    nowhere = {"EVENTBUS_BROKER_URL": f"amqp://guest:guest@127.0.0.1:{closed_port()}//"}
    for label in ("accounts-web", WORKER):
        split.stop(label)
        split.restart(label, env=nowhere)
    split.wait_until_serving()
    prefix = unique_prefix("down")

    for i in range(2):  # requests that publish succeed: the outbox is in their database
        register(accounts_url, f"{prefix}{i}web")
    register_many(split, f"{prefix}b", 40)
    pending = "SELECT count(*) FROM eventbus_outboxmessage WHERE broker = 'pending' AND payload->>'username' LIKE %s"
    time.sleep(2)
    assert accounts.value(pending, (f"{prefix}%",)) == 42
    assert replicas(orders, prefix) == 0
    split.check_alive()  # the worker backs off, it does not die
    assert any("broker unreachable" in line for line in split.output[WORKER])

    for label in ("accounts-web", WORKER):
        split.stop(label)
        split.restart(label)
    split.wait_until_serving()
    poll(lambda: replicas(orders, prefix) == 42, timeout=60, what="the backlog drains")

    assert accounts.value(pending, (f"{prefix}%",)) == 0
    assert_each_registration_applied_once(accounts, orders, prefix, 42)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def test_a_customer_orders_through_the_browsable_api_of_the_two_services(split, browser):
    # given: a customer whom orders already knows (its replica arrived over RabbitMQ)
    accounts_url, orders_url = urls(split)
    _, orders = service_databases(split)
    username = unique_prefix("browser")
    user_id, _ = register(accounts_url, username)
    poll(
        lambda: orders.value(
            "SELECT count(*) FROM orders_customer WHERE customer_id = %s", (user_id,)
        ),
        timeout=30,
        what="the customer's replica reaches orders",
    )
    page = browser.new_context().new_page()

    # when: orders' pages send the browser to accounts' login, and back; the cookie that
    # accounts set (on the same host, another port) is verified by orders with the public key
    seen = walk_the_customer_journey(
        page,
        accounts_url=accounts_url,
        orders_url=orders_url,
        username=username,
        password=f"{username}-correct-horse-battery",
    )
    me = poll(
        lambda: (me := profile(page, accounts_url))["orders_count"] == 1 and me,
        timeout=30,
        what="accounts counts the order that was not cancelled",
    )
    log_out(page)

    # then
    assert seen["anonymous"] == "HTTP 401 Unauthorized"
    assert seen["after_login_url"] == f"{orders_url}/api/orders/"
    assert (seen["first_order"], seen["second_order"]) == ("HTTP 201 Created", "HTTP 201 Created")
    assert (seen["cancel"], seen["cancelled_status"]) == ("HTTP 200 OK", "cancelled")
    assert (me["id"], me["orders_count"]) == (user_id, 1)
    assert status_line(page) == "HTTP 401 Unauthorized"  # accounts' /me/ again, logged out
    assert jwt_cookie_names(page) == set()
    page.goto(f"{orders_url}/api/orders/")
    assert status_line(page) == "HTTP 401 Unauthorized"
    page.context.close()

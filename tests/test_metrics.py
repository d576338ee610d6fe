"""/metrics: only staff or the bearer token read it, and every metric moves after a journey."""

from decimal import Decimal

import pytest
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from eventbus import DoNotRetry, subscriber
from eventbus.subscriptions import unsubscribe
from orders.events import OrderPlaced
from orders.services import product_upsert

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "scrape-token-for-tests-0123456789"
PLACED = "orders.order_placed"
FLAKY = "tests.test_metrics.flaky_on_order_placed"
REFUSES = "tests.test_metrics.refuses_order_placed"


def flaky_on_order_placed(event: OrderPlaced) -> None:
    raise ConnectionError("warehouse away")


def refuses_order_placed(event: OrderPlaced) -> None:
    raise DoNotRetry("no such warehouse")


@pytest.fixture
def failing_handlers():
    subscriber(OrderPlaced)(flaky_on_order_placed)
    subscriber(OrderPlaced)(refuses_order_placed)
    yield
    unsubscribe(FLAKY)
    unsubscribe(REFUSES)


def scrape() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    """The sum of ``name`` over the series whose labels include ``labels`` (0 when none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


@override_settings(METRICS_TOKEN=TOKEN)
def test_every_metric_moves_after_a_journey(signed_up, failing_handlers):
    # given the catalogue and a scrape before anything happened
    product_upsert(sku="MUG-001", name="Coffee mug", price=Decimal("12.50"))
    before = scrape()

    # when bob registers and places an order through the API, delivered inline; two of the
    # handlers of order_placed fail (one to be retried at once, one refusing: a dead letter);
    # and one more registration waits for a worker
    bob = signed_up("bob")
    placed = bob.post("/api/orders/", {"lines": [{"sku": "MUG-001", "quantity": 1}]}, format="json")
    assert placed.status_code == 201
    with override_settings(
        EVENTBUS={"DELIVERY": "worker", "RETRY_BASE_SECONDS": 0, "RETRY_JITTER": 0}
    ):
        signed_up("carol")
    after = scrape()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # then the counters and histograms fed by the lifecycle signals moved
    assert moved("messaging_client_sent_messages_total", event=PLACED) == 1
    assert moved("messaging_client_sent_messages_total", event="accounts.user_registered") == 2
    assert moved("eventbus_deliveries_total", event=PLACED, outcome="succeeded") >= 1
    assert moved("eventbus_deliveries_total", handler=FLAKY, outcome="failed") == 1
    assert moved("eventbus_deliveries_total", handler=REFUSES, outcome="dead_lettered") == 1
    assert moved("messaging_process_duration_seconds_count", handler=FLAKY) == 1
    assert moved("messaging_process_duration_seconds_sum", event=PLACED) > 0
    assert moved("eventbus_delivery_latency_seconds_count", event=PLACED) >= 1
    assert moved("eventbus_delivery_latency_seconds_sum", event=PLACED) > 0
    # the HTTP requests, by view and status
    assert (
        moved(
            "http_server_request_duration_seconds_count",
            view="orders:order-list",
            method="POST",
            status="201",
        )
        == 1
    )
    assert (
        moved("http_server_request_duration_seconds_count", view="accounts:register", status="201")
        == 2
    )
    # and the gauges read at the scrape: carol's event waits for a worker, bob's order has a
    # failed delivery and a dead letter
    assert value(after, "eventbus_outbox_backlog") == 1
    assert value(after, "eventbus_outbox_oldest_pending_age_seconds") >= 0
    assert value(after, "eventbus_dead_letters", handler=REFUSES) == 1
    assert value(after, "eventbus_relay_pending") == 0
    assert value(after, "eventbus_consumer_pending_age_seconds") == 0
    assert "eventbus_deliveries_due" in {name for name, _ in after}


def test_a_failed_delivery_due_now_is_counted_as_due(signed_up, failing_handlers):
    product_upsert(sku="MUG-001", name="Coffee mug", price=Decimal("12.50"))
    bob = signed_up("bob")
    with override_settings(EVENTBUS={"RETRY_BASE_SECONDS": 0, "RETRY_JITTER": 0}):
        bob.post("/api/orders/", {"lines": [{"sku": "MUG-001", "quantity": 1}]}, format="json")

    # the failed delivery, and the order's confirmation task waiting for the worker
    with override_settings(METRICS_TOKEN=TOKEN):
        assert value(scrape(), "eventbus_deliveries_due") == 2


@pytest.mark.parametrize(
    ("authorization", "status"),
    [("", 401), ("Bearer wrong-token", 401), (f"Basic {TOKEN}", 401), (f"Bearer {TOKEN}", 200)],
)
@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_answer_the_bearer_token_only(authorization, status):
    response = Client().get("/metrics", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == status
    if status == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert b"messaging_" not in response.content


@override_settings(METRICS_TOKEN="")
def test_no_token_configured_refuses_an_empty_bearer():
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_metrics_answer_staff_sessions_and_refuse_other_users(django_user_model):
    staff = django_user_model.objects.create_user(
        "ops", email="ops@example.com", password="x", is_staff=True
    )
    member = django_user_model.objects.create_user(
        "member", email="member@example.com", password="x"
    )
    as_staff, as_member = Client(), Client()
    as_staff.force_login(staff)
    as_member.force_login(member)

    assert as_staff.get("/metrics").status_code == 200
    refused = as_member.get("/metrics")
    assert (refused.status_code, refused.content) == (403, b"Staff only.\n")

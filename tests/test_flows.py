"""The flows that cross modules, end to end through the HTTP API and the bus (inline mode).

These tests commit for real (transactional_db), so each event is dispatched after commit
exactly as in production. Nothing here calls another module's internals to make a change.
"""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import override_settings

from eventbus.models import Delivery, OutboxMessage
from orders.models import Customer
from orders.services import product_upsert

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def catalogue() -> None:
    product_upsert(sku="MUG-001", name="Coffee mug", price=Decimal("12.50"))
    product_upsert(sku="TEE-001", name="T-shirt", price=Decimal("19.90"))


def place(client, *lines):
    return client.post(
        "/api/orders/",
        {"lines": [{"sku": sku, "quantity": qty} for sku, qty in lines]},
        format="json",
    )


def test_registration_creates_the_customer_replica_in_orders(signed_up):
    bob = signed_up("bob")

    replica = Customer.objects.get(customer_id=bob.user_id)
    assert (replica.username, replica.email, replica.is_active, replica.profile_version) == (
        "bob",
        "bob@example.com",
        True,
        1,
    )


def test_the_whole_journey_register_login_order_profile(signed_up):
    bob = signed_up("bob")

    placed = place(bob, ("MUG-001", 2), ("TEE-001", 1))
    assert placed.status_code == 201
    assert placed.json()["total"] == "44.90"
    assert placed.json()["status"] == "placed"

    me = bob.get("/api/accounts/me/").json()
    assert (me["orders_count"], me["total_spent"]) == (1, {"EUR": "44.90"})


def test_cancelling_an_order_updates_the_profile_stats(signed_up):
    bob = signed_up("bob")
    first = place(bob, ("MUG-001", 1)).json()
    place(bob, ("TEE-001", 1))

    assert bob.post(f"/api/orders/{first['id']}/cancel/").status_code == 200

    me = bob.get("/api/accounts/me/").json()
    assert (me["orders_count"], me["total_spent"]) == (1, {"EUR": "19.90"})


def test_profile_updates_reach_the_replica(signed_up):
    bob = signed_up("bob")

    bob.patch("/api/accounts/me/", {"email": "robert@example.com"}, format="json")
    bob.patch("/api/accounts/me/", {"email": "bob.b@example.com"}, format="json")

    replica = Customer.objects.get(customer_id=bob.user_id)
    assert (replica.email, replica.profile_version) == ("bob.b@example.com", 3)


def test_deactivation_cancels_open_orders_and_zeroes_the_stats(signed_up):
    bob = signed_up("bob")
    place(bob, ("MUG-001", 1))
    place(bob, ("TEE-001", 2))

    response = bob.post("/api/accounts/me/deactivate/", HTTP_X_CORRELATION_ID="deact-1")
    assert response.status_code == 200

    assert Customer.objects.get(customer_id=bob.user_id).is_active is False
    cancelled = OutboxMessage.objects.filter(name="orders.order_cancelled").order_by("occurred_at")
    assert [m.payload["reason"] for m in cancelled] == ["customer_deactivated"] * 2
    deactivated = OutboxMessage.objects.get(name="accounts.user_deactivated")
    # Caused by the deactivation, under the request's correlation id.
    assert [m.causation_id for m in cancelled] == [deactivated.id] * 2
    assert [m.correlation_id for m in cancelled] == ["deact-1"] * 2
    assert deactivated.correlation_id == "deact-1"
    # accounts saw both cancellations come back.
    from accounts.selectors import user_order_stats

    stats = user_order_stats(user_id=bob.user_id)
    assert (stats.orders_count, stats.total_spent) == (0, {})
    # A deactivated customer can no longer order, even with a still-valid token.
    refused = place(bob, ("MUG-001", 1))
    assert refused.status_code == 403


def test_once_deactivation_reaches_orders_every_orders_endpoint_is_403(signed_up):
    bob = signed_up("bob")
    order = place(bob, ("MUG-001", 1)).json()
    assert bob.get("/api/orders/").status_code == 200

    assert bob.post("/api/accounts/me/deactivate/").status_code == 200

    # bob's access token is still valid, but orders' replica says deactivated
    assert Customer.objects.get(customer_id=bob.user_id).is_active is False
    answers = [
        bob.get("/api/orders/"),
        bob.get(f"/api/orders/{order['id']}/"),
        place(bob, ("MUG-001", 1)),
        bob.post(f"/api/orders/{order['id']}/cancel/"),
    ]
    assert [a.status_code for a in answers] == [403] * 4
    assert answers[0].json() == {
        "detail": f"Customer {bob.user_id} is deactivated; "
        "its orders can no longer be read or changed."
    }
    assert OutboxMessage.objects.filter(name="orders.order_placed").count() == 1


def test_ordering_before_the_replica_arrives_is_409_then_works(signed_up, api):
    with override_settings(EVENTBUS={"DELIVERY": "worker"}):
        carol = signed_up("carol")  # the registration is committed but not yet delivered
        early = place(carol, ("MUG-001", 1))

    assert early.status_code == 409
    assert early["Retry-After"].isdigit()
    assert not Customer.objects.filter(customer_id=carol.user_id).exists()

    call_command("eventbus", "retry", "--grace", "0")

    assert place(carol, ("MUG-001", 1)).status_code == 201


def test_a_failing_subscriber_does_not_fail_the_request_and_is_retried(signed_up, monkeypatch):
    from orders import services

    real_upsert = services.customer_replica_upsert

    def broken(**kwargs):
        raise ConnectionError("replica store unavailable")

    monkeypatch.setattr(services, "customer_replica_upsert", broken)
    dave = signed_up("dave")  # 201 although orders' handler failed

    delivery = Delivery.objects.get(handler="orders.handlers.replicate_registered_customer")
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == "ConnectionError: replica store unavailable"
    assert not Customer.objects.filter(customer_id=dave.user_id).exists()

    monkeypatch.setattr(services, "customer_replica_upsert", real_upsert)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    call_command("eventbus", "retry")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    assert Customer.objects.filter(customer_id=dave.user_id).exists()


def test_every_request_gets_a_correlation_id_header(api):
    response = api.get("/api/orders/products/")
    assert len(response["X-Correlation-ID"]) == 32

    echoed = api.get("/api/orders/products/", HTTP_X_CORRELATION_ID="my-trace-1")
    assert echoed["X-Correlation-ID"] == "my-trace-1"

    for bad in ("bad id with spaces", "trailing-newline\n", "x" * 65, ""):
        replaced = api.get("/api/orders/products/", HTTP_X_CORRELATION_ID=bad)
        assert len(replaced["X-Correlation-ID"]) == 32, repr(bad)


def test_events_of_one_request_share_its_correlation_id(signed_up):
    signed_up("erin", HTTP_X_CORRELATION_ID="signup-erin")

    registered = OutboxMessage.objects.get(name="accounts.user_registered")
    assert registered.correlation_id == "signup-erin"
    assert registered.producer == "accounts"


def test_catalog_lists_every_event_with_producer_and_subscribers(capsys):
    call_command("eventbus", "catalog")

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "EVENT",
        "VERSION",
        "PRODUCER",
        "EXTERNALISED",
        "CONSUMER",
        "HANDLER",
    ]
    rows = [line.split() for line in lines[1:]]
    assert [
        "accounts.user_registered",
        "1",
        "accounts",
        "no",
        "orders",
        "orders.handlers.replicate_registered_customer",
    ] in rows
    assert [
        "orders.order_placed",
        "1",
        "orders",
        "no",
        "accounts",
        "accounts.handlers.record_order_placed",
    ] in rows
    assert ["accounts.user_logged_in", "1", "accounts", "no", "-", "-"] in rows

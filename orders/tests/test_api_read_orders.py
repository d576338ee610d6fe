"""GET /api/orders/ and /api/orders/{id}/: a customer sees its own orders only."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from eventbus.models import OutboxMessage
from orders.models import Customer, Order, Product
from orders.services import OrderLineIn, customer_deactivate, order_place
from orders.tests.helpers import CUSTOMER_ID, OTHER_CUSTOMER_ID

pytestmark = pytest.mark.django_db


def place(customer_id: int, sku: str = "BOOK-1", quantity: int = 1) -> Order:
    return order_place(customer_id=customer_id, lines=[OrderLineIn(sku=sku, quantity=quantity)])


def test_order_list_is_the_callers_orders_newest_first_paginated(
    client_4242: APIClient,
    customer: Customer,
    other_customer: Customer,
    products: dict[str, Product],
):
    # given 21 orders of 4242 placed a minute apart, and one of another customer
    mine = [place(CUSTOMER_ID, quantity=i + 1) for i in range(21)]
    start = timezone.now() - timedelta(days=1)
    for minutes, order in enumerate(mine):
        Order.objects.filter(pk=order.pk).update(created_at=start + timedelta(minutes=minutes))
    place(OTHER_CUSTOMER_ID)

    # when 4242 lists its orders
    first = client_4242.get("/api/orders/")
    second = client_4242.get("/api/orders/", {"page": 2})

    # then they come newest first, 20 per page, and only its own
    assert first.status_code == 200
    assert first.json()["count"] == 21
    assert first.json()["next"] == "http://testserver/api/orders/?page=2"
    assert [o["id"] for o in first.json()["results"]] == [o.pk for o in reversed(mine)][:20]
    assert [o["id"] for o in second.json()["results"]] == [mine[0].pk]
    assert {o["customer_id"] for o in first.json()["results"]} == {CUSTOMER_ID}


def test_order_list_is_empty_for_a_customer_without_orders(client_4242: APIClient, db: None):
    # given no orders at all (and not even a replica)
    # when
    response = client_4242.get("/api/orders/")

    # then
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_order_list_without_credentials_is_401(anonymous: APIClient, db: None):
    response = anonymous.get("/api/orders/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_order_detail_shows_own_order(
    client_4242: APIClient, customer: Customer, products: dict[str, Product]
):
    # given an order of 4242
    order = place(CUSTOMER_ID, quantity=2)

    # when it is read
    response = client_4242.get(f"/api/orders/{order.pk}/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == order.pk
    assert body["status"] == "placed"
    assert body["total"] == "25.00"
    assert body["lines"] == [
        {
            "sku": "BOOK-1",
            "product_name": "Book",
            "quantity": 2,
            "unit_price": "12.50",
            "line_total": "25.00",
        }
    ]


def test_order_detail_of_another_customers_order_is_404(
    client_4242: APIClient, other_customer: Customer, products: dict[str, Product]
):
    # given an order of another customer
    order = place(OTHER_CUSTOMER_ID)

    # when 4242 asks for it
    response = client_4242.get(f"/api/orders/{order.pk}/")

    # then it does not exist as far as 4242 is concerned
    assert response.status_code == 404
    assert response.json() == {"detail": f"Order {order.pk} does not exist."}


def test_order_detail_of_missing_order_is_404(client_4242: APIClient, db: None):
    response = client_4242.get("/api/orders/999999/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Order 999999 does not exist."}


def test_order_detail_without_credentials_is_401(
    anonymous: APIClient, customer: Customer, products: dict[str, Product]
):
    order = place(CUSTOMER_ID)

    response = anonymous.get(f"/api/orders/{order.pk}/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_order_id_too_large_for_the_database_is_404(client_4242: APIClient, db: None):
    response = client_4242.get(f"/api/orders/{10**30}/")

    assert response.status_code == 404


@pytest.mark.parametrize("user_id", ["abc", 0, -3, 10**30])
def test_token_with_a_user_id_that_is_not_a_positive_integer_is_401(
    make_client, db: None, user_id: object
):
    # given a validly signed token whose user_id claim is unusable
    # when
    response = make_client(user_id).get("/api/orders/")

    # then
    assert response.status_code == 401
    assert response.json() == {
        "detail": "The token's user id is not a positive integer; "
        "sign in again to get a valid token."
    }


def test_a_session_user_is_never_a_customer(client, admin_user, products: dict[str, Product]):
    # given a staff member logged in with a session, and the customer with the same id
    client.force_login(admin_user)
    Customer.objects.create(customer_id=admin_user.pk, username="admin")
    order = place(admin_user.pk)

    # when the session lists, reads and cancels that customer's orders
    listed = client.get("/api/orders/")
    shown = client.get(f"/api/orders/{order.pk}/")
    cancelled = client.post(f"/api/orders/{order.pk}/cancel/")
    placed = client.post(
        "/api/orders/",
        {"lines": [{"sku": "PEN-1", "quantity": 1}]},
        content_type="application/json",
    )

    # then each is refused as unauthenticated: only a bearer token names a customer
    assert [r.status_code for r in (listed, shown, cancelled, placed)] == [401] * 4
    assert listed.json() == {"detail": "Authentication credentials were not provided."}
    assert listed["WWW-Authenticate"] == 'Bearer realm="api"'
    assert Order.objects.get(pk=order.pk).status == "placed"
    assert Order.objects.count() == 1


def test_browsable_api_renders_for_a_token_client(
    client_4242: APIClient, customer: Customer, products: dict[str, Product]
):
    # given an order of customer 4242
    order = place(CUSTOMER_ID)

    # when the pages are rendered as HTML with the bearer token
    pages = [
        client_4242.get(url, HTTP_ACCEPT="text/html")
        for url in ["/api/orders/", f"/api/orders/{order.pk}/", "/api/orders/products/"]
    ]

    # then they render, with the order-placing form on the list
    assert [p.status_code for p in pages] == [200, 200, 200]
    assert "&quot;lines&quot;" in pages[0].content.decode()


def test_a_deactivated_customer_gets_403_on_every_endpoint(
    client_4242: APIClient, customer: Customer, products: dict[str, Product], published_events
):
    # given an order of 4242, then its deactivation reaching orders
    order = place(CUSTOMER_ID)
    customer_deactivate(customer_id=CUSTOMER_ID)
    published_events.clear()
    outbox_before = OutboxMessage.objects.count()

    # when it lists, reads, places and cancels with its still-valid token
    responses = [
        client_4242.get("/api/orders/"),
        client_4242.get(f"/api/orders/{order.pk}/"),
        client_4242.post(
            "/api/orders/", {"lines": [{"sku": "PEN-1", "quantity": 1}]}, format="json"
        ),
        client_4242.post(f"/api/orders/{order.pk}/cancel/"),
    ]

    # then every answer is 403 with the reason, and nothing was written
    deactivated = {
        "detail": "Customer 4242 is deactivated; its orders can no longer be read or changed."
    }
    assert [(r.status_code, r.json()) for r in responses] == [(403, deactivated)] * 4
    assert Order.objects.count() == 1
    assert len(published_events) == 0
    assert OutboxMessage.objects.count() == outbox_before


def test_a_customer_without_a_replica_yet_can_read(client_4242: APIClient, db: None):
    # given no account event for 4242 has reached orders
    # when it lists its orders
    response = client_4242.get("/api/orders/")

    # then it is not refused: its registration may still be on its way
    assert response.status_code == 200
    assert response.json()["count"] == 0

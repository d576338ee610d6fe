"""POST /api/orders/{id}/cancel/: a customer cancels its placed or paid order."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from eventbus.models import OutboxMessage
from orders.events import OrderCancelled
from orders.models import Customer, Order, Product
from orders.services import (
    OrderLineIn,
    order_cancel,
    order_mark_paid,
    order_mark_shipped,
    order_place,
)
from orders.tests.helpers import CUSTOMER_ID, OTHER_CUSTOMER_ID

pytestmark = pytest.mark.django_db


def place(customer_id: int = CUSTOMER_ID) -> Order:
    return order_place(customer_id=customer_id, lines=[OrderLineIn(sku="PEN-1", quantity=3)])


@pytest.mark.parametrize("paid", [False, True], ids=["placed", "paid"])
def test_cancel_placed_or_paid_order(
    client_4242: APIClient,
    customer: Customer,
    products: dict[str, Product],
    published_events,
    paid: bool,
):
    # given a placed (or paid) order of 4242
    order = place()
    if paid:
        order_mark_paid(order_id=order.pk)
    published_events.clear()

    # when 4242 cancels it
    response = client_4242.post(f"/api/orders/{order.pk}/cancel/")

    # then it is cancelled at the customer's request and OrderCancelled is published
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "customer_request"
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert published_events.of(OrderCancelled) == [
        OrderCancelled(
            order_id=order.pk,
            customer_id=CUSTOMER_ID,
            total=Decimal("5.97"),
            currency="EUR",
            reason="customer_request",
        )
    ]
    assert published_events.names() == ["orders.order_cancelled"]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("shipped", "is shipped and cannot be cancelled; only placed or paid orders can be."),
        ("cancelled", "is cancelled and cannot be cancelled; only placed or paid orders can be."),
    ],
)
def test_cancel_shipped_or_cancelled_order_is_409(
    client_4242: APIClient,
    customer: Customer,
    products: dict[str, Product],
    published_events,
    status: str,
    message: str,
):
    # given a shipped (or already cancelled) order of 4242
    order = place()
    if status == "shipped":
        order_mark_paid(order_id=order.pk)
        order_mark_shipped(order_id=order.pk)
    else:
        order_cancel(order_id=order.pk, reason="customer_request")
    published_events.clear()
    outbox_before = OutboxMessage.objects.count()

    # when 4242 tries to cancel it
    response = client_4242.post(f"/api/orders/{order.pk}/cancel/")

    # then it is refused, unchanged, and nothing is published
    assert response.status_code == 409
    assert response.json() == {"detail": f"Order {order.pk} {message}"}
    order.refresh_from_db()
    assert order.status == status
    assert len(published_events) == 0
    assert OutboxMessage.objects.count() == outbox_before


def test_cancel_another_customers_order_is_404(
    client_4242: APIClient, other_customer: Customer, products: dict[str, Product], published_events
):
    # given an order of another customer
    order = place(OTHER_CUSTOMER_ID)
    published_events.clear()

    # when 4242 tries to cancel it
    response = client_4242.post(f"/api/orders/{order.pk}/cancel/")

    # then it is not found and stays placed
    assert response.status_code == 404
    assert response.json() == {"detail": f"Order {order.pk} does not exist."}
    order.refresh_from_db()
    assert order.status == "placed"
    assert len(published_events) == 0


def test_cancel_without_credentials_is_401(
    anonymous: APIClient, customer: Customer, products: dict[str, Product]
):
    order = place()

    response = anonymous.post(f"/api/orders/{order.pk}/cancel/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    order.refresh_from_db()
    assert order.status == "placed"

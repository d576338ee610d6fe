"""The orders admin: pages render, staff actions go through the services."""

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client

from eventbus.models import OutboxMessage
from orders.events import OrderCancelled, OrderStatusChanged
from orders.models import Customer, Order, Product
from orders.services import OrderLineIn, order_place
from orders.tests.helpers import CUSTOMER_ID

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def orders(customer: Customer, products: dict[str, Product], published_events) -> list[Order]:
    placed = [
        order_place(customer_id=CUSTOMER_ID, lines=[OrderLineIn(sku="PEN-1", quantity=1)])
        for _ in range(2)
    ]
    published_events.clear()
    return placed


def run_action(client: Client, action: str, orders: list[Order]) -> list[tuple[str, str]]:
    response = client.post(
        CHANGELIST, {"action": action, "_selected_action": [o.pk for o in orders]}, follow=True
    )
    assert response.status_code == 200
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def statuses(orders: list[Order]) -> list[Any]:
    return [Order.objects.get(pk=o.pk).status for o in orders]


def test_admin_pages_render(admin_client: Client, orders: list[Order]):
    for url in [
        "/admin/orders/product/",
        "/admin/orders/product/add/",
        "/admin/orders/order/",
        f"/admin/orders/order/{orders[0].pk}/change/",
        "/admin/orders/customer/",
        f"/admin/orders/customer/{CUSTOMER_ID}/change/",
        "/admin/orders/order/?status__exact=placed",
        f"/admin/orders/order/?q={CUSTOMER_ID}",
        "/admin/orders/product/?q=pen",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_admin_marks_orders_paid_then_shipped(
    admin_client: Client, orders: list[Order], published_events
):
    # given two placed orders
    # when staff mark them paid, then shipped
    paid = run_action(admin_client, "mark_paid", orders)
    shipped = run_action(admin_client, "mark_shipped", orders)

    # then they moved along and each change was published
    ids = f"{orders[0].pk}, {orders[1].pk}"
    assert paid == [("success", f"Order(s) {ids} marked paid.")]
    assert shipped == [("success", f"Order(s) {ids} marked shipped.")]
    assert statuses(orders) == ["shipped", "shipped"]
    assert [(e.order_id, e.to_status) for e in published_events.of(OrderStatusChanged)] == [
        (orders[0].pk, "paid"),
        (orders[1].pk, "paid"),
        (orders[0].pk, "shipped"),
        (orders[1].pk, "shipped"),
    ]


def test_admin_invalid_transition_shows_an_error_not_a_500(
    admin_client: Client, orders: list[Order], published_events
):
    # given two placed orders
    # when staff try to ship them before payment
    result = run_action(admin_client, "mark_shipped", orders)

    # then each is refused with a message and nothing changes
    assert result == [
        ("error", f"Order {o.pk} is placed and cannot be marked shipped; only paid orders can be.")
        for o in orders
    ]
    assert statuses(orders) == ["placed", "placed"]
    assert len(published_events) == 0


def test_admin_cancel_cancels_open_orders_and_reports_the_others(
    admin_client: Client, orders: list[Order], published_events
):
    # given one placed order and one already cancelled
    run_action(admin_client, "cancel", orders[1:])
    published_events.clear()

    # when staff cancel both
    result = run_action(admin_client, "cancel", orders)

    # then the open one is cancelled by staff, the other reported
    assert result == [
        (
            "error",
            f"Order {orders[1].pk} is cancelled and cannot be cancelled; "
            "only placed or paid orders can be.",
        ),
        ("success", f"Order(s) {orders[0].pk} cancelled."),
    ]
    assert [(e.order_id, e.reason) for e in published_events.of(OrderCancelled)] == [
        (orders[0].pk, "staff")
    ]
    assert Order.objects.get(pk=orders[0].pk).cancel_reason == "staff"


@pytest.mark.parametrize("action", ["mark_paid", "mark_shipped", "cancel"])
def test_view_only_staff_cannot_move_orders_along(
    client: Client, django_user_model, orders: list[Order], published_events, action: str
):
    # given a staff member who may only view orders
    viewer = django_user_model.objects.create_user(
        username="viewer", email="viewer@example.com", password="a-long-pass-2026", is_staff=True
    )
    viewer.user_permissions.set(
        Permission.objects.filter(content_type__app_label="orders", codename="view_order")
    )
    client.force_login(viewer)
    before = list(Order.objects.order_by("pk").values_list("pk", "status", "updated_at"))
    outbox_before = OutboxMessage.objects.count()

    # when they open the list and post the action anyway
    listing = client.get(CHANGELIST)
    result = run_action(client, action, orders)

    # then it is not offered, nothing moved and nothing was published
    assert listing.status_code == 200
    assert f'value="{action}"' not in listing.content.decode()
    assert result == []
    assert list(Order.objects.order_by("pk").values_list("pk", "status", "updated_at")) == before
    assert len(published_events) == 0
    assert OutboxMessage.objects.count() == outbox_before

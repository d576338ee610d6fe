"""The number of SQL statements each orders endpoint costs, pinned so a regression shows.

Counted inside the test's transaction, so the after-commit delivery of published events is
not counted here (accounts' handler tests pin that). A list costs the same whatever the
number of orders and lines: the lines are prefetched in one query.
"""

from decimal import Decimal

import pytest
from django.db import connection
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from orders import services
from orders.models import Customer, Order, Product
from orders.services import OrderLineIn
from orders.tests.helpers import CUSTOMER_ID

pytestmark = pytest.mark.django_db

URL = "/api/orders/"


@pytest.fixture
def five_products(db: None) -> list[Product]:
    return Product.objects.bulk_create(
        Product(sku=f"SKU-{i}", name=f"Product {i}", price=Decimal("2.50")) for i in range(5)
    )


def _place_orders(count: int, products: list[Product]) -> list[Order]:
    lines = [OrderLineIn(sku=p.sku, quantity=2) for p in products]
    return [services.order_place(customer_id=CUSTOMER_ID, lines=lines) for _ in range(count)]


def test_product_list_costs_two_queries(
    anonymous: APIClient,
    products: dict[str, Product],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    # count, then the page
    with django_assert_num_queries(2):
        response = anonymous.get(f"{URL}products/")
    assert response.status_code == 200


@pytest.mark.parametrize("orders", [1, 20])
def test_order_list_costs_the_same_for_one_order_or_twenty_of_five_lines(
    orders: int,
    client_4242: APIClient,
    customer: Customer,
    five_products: list[Product],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    # given some orders of five lines each
    _place_orders(orders, five_products)

    # when the customer lists them: deactivated check, count, page, lines (prefetched)
    with django_assert_num_queries(4):
        response = client_4242.get(URL)

    # then every order comes with its lines
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == orders
    assert all(len(order["lines"]) == 5 for order in results)


def test_order_detail_costs_three_queries(
    client_4242: APIClient,
    customer: Customer,
    five_products: list[Product],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    (order,) = _place_orders(1, five_products)
    # deactivated check, the order, its lines
    with django_assert_num_queries(3):
        response = client_4242.get(f"{URL}{order.pk}/")
    assert response.status_code == 200
    assert len(response.json()["lines"]) == 5


def test_order_place_costs_five_queries_eight_off_postgresql(
    client_4242: APIClient,
    customer: Customer,
    five_products: list[Product],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    lines = [{"sku": p.sku, "quantity": 2} for p in five_products]
    # savepoint, customer locked and products (one statement), order and lines (one
    # statement on PostgreSQL, two elsewhere), the event's outbox row with the confirmation
    # task's row and delivery (write_together: one statement on PostgreSQL, three
    # elsewhere), release: no deactivated check of its own (the locked replica answers it),
    # the total is written with the order, the response is built from the lines inserted
    with django_assert_num_queries(5 if connection.vendor == "postgresql" else 8):
        response = client_4242.post(URL, {"lines": lines}, format="json")
    assert response.status_code == 201, response.json()


def test_order_cancel_costs_seven_queries(
    client_4242: APIClient,
    customer: Customer,
    five_products: list[Product],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    (order,) = _place_orders(1, five_products)
    # deactivated check, savepoint, order locked, UPDATE, outbox, release, lines
    with django_assert_num_queries(7):
        response = client_4242.post(f"{URL}{order.pk}/cancel/")
    assert response.status_code == 200, response.json()

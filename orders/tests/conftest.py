"""Fixtures of the orders tests: a catalogue, a customer replica, token-authenticated clients."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from orders.models import Customer, Product
from orders.tests.helpers import CUSTOMER_ID, OTHER_CUSTOMER_ID, bearer


@pytest.fixture
def make_client() -> Callable[[int], APIClient]:
    def make(user_id: int) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=bearer(user_id))
        return client

    return make


@pytest.fixture
def client_4242(make_client: Callable[[int], APIClient]) -> APIClient:
    """An API client authenticated as customer 4242 with a bearer token."""
    return make_client(CUSTOMER_ID)


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def customer(db: None) -> Customer:
    """The replica of customer 4242, as built from its registration."""
    return Customer.objects.create(
        customer_id=CUSTOMER_ID, username="ada", email="ada@example.com", profile_version=1
    )


@pytest.fixture
def other_customer(db: None) -> Customer:
    return Customer.objects.create(
        customer_id=OTHER_CUSTOMER_ID, username="bob", email="bob@example.com", profile_version=1
    )


@pytest.fixture
def products(db: None) -> dict[str, Product]:
    """Three active EUR products, an inactive one and a USD one."""
    rows = [
        Product(sku="BOOK-1", name="Book", price=Decimal("12.50"), currency="EUR"),
        Product(sku="PEN-1", name="Pen", price=Decimal("1.99"), currency="EUR"),
        Product(sku="MUG-1", name="Mug", price=Decimal("7.35"), currency="EUR"),
        Product(sku="OLD-1", name="Old thing", price=Decimal("5.00"), active=False),
        Product(sku="USB-US", name="USB stick", price=Decimal("9.99"), currency="USD"),
    ]
    return {p.sku: p for p in Product.objects.bulk_create(rows)}

"""GET /api/orders/products/: the public catalogue."""

import pytest
from rest_framework.test import APIClient

from orders.models import Product

pytestmark = pytest.mark.django_db

URL = "/api/orders/products/"


def test_products_lists_active_products_by_sku_to_anyone(
    anonymous: APIClient, products: dict[str, Product]
):
    # given active and inactive products
    # when an anonymous client lists the catalogue
    response = anonymous.get(URL)

    # then only active ones are listed, by SKU, paginated
    assert response.status_code == 200
    assert response.json() == {
        "count": 4,
        "next": None,
        "previous": None,
        "results": [
            {"sku": "BOOK-1", "name": "Book", "price": "12.50", "currency": "EUR"},
            {"sku": "MUG-1", "name": "Mug", "price": "7.35", "currency": "EUR"},
            {"sku": "PEN-1", "name": "Pen", "price": "1.99", "currency": "EUR"},
            {"sku": "USB-US", "name": "USB stick", "price": "9.99", "currency": "USD"},
        ],
    }


def test_products_ignore_a_bad_token(anonymous: APIClient, products: dict[str, Product]):
    # given a client sending a garbage token (the catalogue needs no credentials)
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer garbage")

    # when
    response = anonymous.get(URL)

    # then
    assert response.status_code == 200
    assert response.json()["count"] == 4


def test_products_are_paginated(anonymous: APIClient, db: None):
    # given more products than a page holds
    Product.objects.bulk_create(
        Product(sku=f"SKU-{i:02}", name=f"Product {i}", price=1) for i in range(25)
    )

    # when the second page is read
    response = anonymous.get(URL, {"page": 2})

    # then it holds the last five
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 25
    assert body["next"] is None
    assert body["previous"] == "http://testserver/api/orders/products/"
    assert [p["sku"] for p in body["results"]] == [f"SKU-{i:02}" for i in range(20, 25)]

"""POST /api/orders/: placing an order, and every way it can be refused."""

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from eventbus.models import OutboxMessage
from orders.events import OrderLinePayload, OrderPlaced
from orders.models import Customer, Order, OrderLine, Product
from orders.services import (
    MSG_DUPLICATE_SKU,
    MSG_MIXED_CURRENCIES,
    MSG_NO_LINES,
    MSG_QUANTITY,
    MSG_TOO_MANY_LINES,
    MSG_UNKNOWN_SKU,
)
from orders.tests.helpers import CUSTOMER_ID, assert_nothing_written

URL = "/api/orders/"
NOT_AN_OBJECT = "Invalid data. Expected a dictionary, but got str."

pytestmark = pytest.mark.django_db


def place(client: APIClient, lines: Any) -> Any:
    return client.post(URL, {"lines": lines}, format="json")


def test_token_user_without_database_row_places_an_order(
    client_4242: APIClient, customer: Customer, products: dict[str, Product], published_events
):
    # given a valid token for user 4242, who has no row in the user table
    assert not get_user_model().objects.filter(pk=CUSTOMER_ID).exists()

    # when it places an order
    response = place(client_4242, [{"sku": "BOOK-1", "quantity": 1}])

    # then the order is the token user's
    assert response.status_code == 201, response.json()
    assert response.json()["customer_id"] == CUSTOMER_ID
    assert Order.objects.get().customer_id == CUSTOMER_ID
    assert not get_user_model().objects.filter(pk=CUSTOMER_ID).exists()


def test_place_order_computes_prices_and_total_exactly(
    client_4242: APIClient, customer: Customer, products: dict[str, Product], published_events
):
    # given a known active customer and a catalogue
    lines = [
        {"sku": "BOOK-1", "quantity": 3},
        {"sku": "PEN-1", "quantity": 7},
        {"sku": "MUG-1", "quantity": 1},
    ]

    # when the customer places an order (the client sends no prices)
    response = place(client_4242, lines)

    # then the server computed each line and the total in exact decimals
    assert response.status_code == 201
    body = response.json()
    order = Order.objects.get()
    assert response["Location"] == f"http://testserver/api/orders/{order.pk}/"
    assert body["id"] == order.pk
    assert body["status"] == "placed"
    assert body["currency"] == "EUR"
    assert body["cancel_reason"] == ""
    assert body["total"] == "58.78"
    assert body["lines"] == [
        {
            "sku": "BOOK-1",
            "product_name": "Book",
            "quantity": 3,
            "unit_price": "12.50",
            "line_total": "37.50",
        },
        {
            "sku": "PEN-1",
            "product_name": "Pen",
            "quantity": 7,
            "unit_price": "1.99",
            "line_total": "13.93",
        },
        {
            "sku": "MUG-1",
            "product_name": "Mug",
            "quantity": 1,
            "unit_price": "7.35",
            "line_total": "7.35",
        },
    ]
    assert order.total == Decimal("58.78")
    assert OrderLine.objects.filter(order=order).count() == 3
    # and exactly one OrderPlaced was published, in the outbox
    assert published_events.of(OrderPlaced) == [
        OrderPlaced(
            order_id=order.pk,
            customer_id=CUSTOMER_ID,
            total=Decimal("58.78"),
            currency="EUR",
            lines=[
                OrderLinePayload(sku="BOOK-1", quantity=3, unit_price=Decimal("12.50")),
                OrderLinePayload(sku="PEN-1", quantity=7, unit_price=Decimal("1.99")),
                OrderLinePayload(sku="MUG-1", quantity=1, unit_price=Decimal("7.35")),
            ],
        )
    ]
    assert published_events.names() == ["orders.order_placed"]
    message = OutboxMessage.objects.get(name="orders.order_placed")
    assert message.payload["total"] == "58.78"


def test_place_order_with_maximum_quantity_and_one_hundred_lines(
    client_4242: APIClient, customer: Customer, published_events
):
    # given 100 products at 0.01 EUR
    Product.objects.bulk_create(
        Product(sku=f"P{i:03}", name=f"Product {i}", price=Decimal("0.01")) for i in range(100)
    )

    # when an order takes 1000 of each
    response = place(client_4242, [{"sku": f"P{i:03}", "quantity": 1000} for i in range(100)])

    # then it is accepted with 100 lines of 10.00
    assert response.status_code == 201
    assert response.json()["total"] == "1000.00"
    assert OrderLine.objects.count() == 100
    assert {line.line_total for line in OrderLine.objects.all()} == {Decimal("10.00")}


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            [{"sku": "NOPE", "quantity": 1}],
            {"lines": {"0": {"sku": [MSG_UNKNOWN_SKU.format(sku="NOPE")]}}},
            id="unknown-sku",
        ),
        pytest.param(
            [{"sku": "BOOK-1", "quantity": 1}, {"sku": "OLD-1", "quantity": 1}],
            {"lines": {"1": {"sku": ["Unknown or inactive product 'OLD-1'."]}}},
            id="inactive-sku",
        ),
        pytest.param(
            [{"sku": 0, "quantity": 1}],
            {"lines": {"0": {"sku": ["Not a valid string."]}}},
            id="sku-a-number",
        ),
        pytest.param(
            [{"sku": "BOOK-1", "quantity": "1"}],
            {"lines": {"0": {"quantity": [MSG_QUANTITY]}}},
            id="quantity-a-string",
        ),
        pytest.param(
            [{"sku": "BOOK-1", "quantity": 0}],
            {"lines": {"0": {"quantity": [MSG_QUANTITY]}}},
            id="quantity-zero",
        ),
        pytest.param(
            [{"sku": "BOOK-1", "quantity": -5}],
            {"lines": {"0": {"quantity": [MSG_QUANTITY]}}},
            id="quantity-negative",
        ),
        pytest.param(
            [{"sku": "BOOK-1", "quantity": 1001}],
            {"lines": {"0": {"quantity": [MSG_QUANTITY]}}},
            id="quantity-above-1000",
        ),
        pytest.param(
            [{"sku": "BOOK-1", "quantity": 1.5}],
            {"lines": {"0": {"quantity": [MSG_QUANTITY]}}},
            id="quantity-fraction",
        ),
        pytest.param(
            [{"sku": "BOOK-1", "quantity": "two"}],
            {"lines": {"0": {"quantity": [MSG_QUANTITY]}}},
            id="quantity-text",
        ),
        pytest.param(
            [{"sku": "BOOK-1", "quantity": True}],
            {"lines": {"0": {"quantity": [MSG_QUANTITY]}}},
            id="quantity-boolean",
        ),
        pytest.param(
            [{"sku": "BOOK-1"}],
            {"lines": {"0": {"quantity": ["This field is required."]}}},
            id="quantity-missing",
        ),
        pytest.param(
            [{"quantity": 1}],
            {"lines": {"0": {"sku": ["This field is required."]}}},
            id="sku-missing",
        ),
        pytest.param(
            ["BOOK-1"],
            {"lines": {"0": {"non_field_errors": [NOT_AN_OBJECT]}}},
            id="line-not-an-object",
        ),
        pytest.param([], {"lines": [MSG_NO_LINES]}, id="no-lines"),
        pytest.param(
            "BOOK-1",
            {"lines": ['Expected a list of items but got type "str".']},
            id="lines-not-a-list",
        ),
        pytest.param(
            [{"sku": f"P{i}", "quantity": 1} for i in range(101)],
            {"lines": [MSG_TOO_MANY_LINES]},
            id="more-than-100-lines",
        ),
        pytest.param(
            [
                {"sku": "BOOK-1", "quantity": 1},
                {"sku": "PEN-1", "quantity": 1},
                {"sku": "BOOK-1", "quantity": 2},
            ],
            {"lines": {"2": {"sku": [MSG_DUPLICATE_SKU.format(sku="BOOK-1")]}}},
            id="same-sku-twice",
        ),
        pytest.param(
            [{"sku": "BOOK-1", "quantity": 1}, {"sku": "USB-US", "quantity": 1}],
            {"lines": [MSG_MIXED_CURRENCIES.format(currencies="EUR, USD")]},
            id="mixed-currencies",
        ),
    ],
)
def test_place_order_rejects_bad_input_with_per_field_messages_and_writes_nothing(
    client_4242: APIClient,
    customer: Customer,
    products: dict[str, Product],
    published_events,
    lines: Any,
    expected: dict[str, Any],
):
    # given a known active customer and a catalogue
    # when it sends an invalid order
    response = place(client_4242, lines)

    # then a 400 names the field at fault, and nothing was written or published
    assert response.status_code == 400
    assert response.json() == expected
    assert_nothing_written()
    assert len(published_events) == 0


def test_error_messages_read_as_documented():
    # given / when / then: the messages clients see, spelled out once
    assert MSG_UNKNOWN_SKU.format(sku="X") == "Unknown or inactive product 'X'."
    assert MSG_QUANTITY == "Quantity must be a whole number between 1 and 1000."
    assert MSG_NO_LINES == "An order needs at least one line."
    assert MSG_TOO_MANY_LINES == "An order can have at most 100 lines."
    assert MSG_DUPLICATE_SKU.format(sku="X") == (
        "Product 'X' appears more than once; put its whole quantity on one line."
    )
    assert MSG_MIXED_CURRENCIES.format(currencies="EUR, USD") == (
        "All products of one order must have the same currency; these lines mix EUR, USD. "
        "Place one order per currency."
    )


def test_place_order_without_lines_key_is_400(
    client_4242: APIClient, customer: Customer, products: dict[str, Product]
):
    # given / when a body without "lines"
    response = client_4242.post(URL, {}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {"lines": ["This field is required."]}
    assert_nothing_written()


def test_place_order_with_malformed_json_is_400(client_4242: APIClient, customer: Customer):
    # given / when a body that is not JSON
    response = client_4242.post(URL, "{not json", content_type="application/json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)"
    }
    assert_nothing_written()


def test_place_order_for_customer_not_yet_replicated_is_409_with_retry_after(
    client_4242: APIClient, products: dict[str, Product], published_events
):
    # given no replica of customer 4242 (its registration event has not arrived)
    assert not Customer.objects.exists()

    # when it places an order
    response = place(client_4242, [{"sku": "BOOK-1", "quantity": 1}])

    # then it is told to retry shortly, and nothing was written
    assert response.status_code == 409
    assert response["Retry-After"] == "2"
    assert response.json() == {
        "detail": "Customer 4242 is not known to orders yet (its replica has not arrived "
        "from accounts). Retry in 2 seconds."
    }
    assert_nothing_written()
    assert len(published_events) == 0


def test_place_order_for_deactivated_customer_is_403(
    client_4242: APIClient, customer: Customer, products: dict[str, Product], published_events
):
    # given the replica of customer 4242 is inactive
    customer.is_active = False
    customer.save()

    # when it places an order
    response = place(client_4242, [{"sku": "BOOK-1", "quantity": 1}])

    # then it is forbidden, and nothing was written
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Customer 4242 is deactivated; its orders can no longer be read or changed."
    }
    assert_nothing_written()
    assert len(published_events) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"lines": [{"sku": "NOPE-1", "quantity": 1}]},  # refused by the service's catalogue
        {"lines": [{"sku": "BOOK-1", "quantity": 1}, {"sku": "BOOK-1", "quantity": 2}]},
        {"lines": [{"sku": "BOOK-1", "quantity": 0}]},  # refused by the serializer
        {"lines": []},
        "not an object",
    ],
    ids=["unknown-sku", "sku-twice", "quantity-0", "no-lines", "not-an-object"],
)
def test_deactivated_customer_hears_403_before_what_is_wrong_with_the_body(
    client_4242: APIClient,
    customer: Customer,
    products: dict[str, Product],
    published_events,
    body: Any,
):
    # given the replica of customer 4242 is inactive
    customer.is_active = False
    customer.save()

    # when it posts an order that would be refused anyway
    response = client_4242.post(URL, body, format="json")

    # then it is told it is deactivated, as on every other view, and nothing was written
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Customer 4242 is deactivated; its orders can no longer be read or changed."
    }
    assert_nothing_written()
    assert len(published_events) == 0


def test_place_order_without_credentials_is_401(
    anonymous: APIClient, customer: Customer, products: dict[str, Product]
):
    # given / when no Authorization header
    response = place(anonymous, [{"sku": "BOOK-1", "quantity": 1}])

    # then
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert_nothing_written()


def test_place_order_with_forged_token_is_401(
    anonymous: APIClient, customer: Customer, products: dict[str, Product]
):
    # given a token that is not signed by us
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")

    # when
    response = place(anonymous, [{"sku": "BOOK-1", "quantity": 1}])

    # then
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [
            {
                "token_class": "AccessToken",
                "token_type": "access",
                "message": "Token is invalid",
            }
        ],
    }
    assert_nothing_written()


def test_place_response_is_the_order_as_read_back(
    client_4242: APIClient, customer: Customer, products: dict[str, Product], published_events
):
    # given an order placed (its response is built from the rows inserted, not read back)
    lines = [{"sku": "MUG-1", "quantity": 3}, {"sku": "BOOK-1", "quantity": 2}]
    placed = place(client_4242, lines)
    assert placed.status_code == 201, placed.json()

    # when it is read back from the database
    shown = client_4242.get(f"{URL}{placed.json()['id']}/")

    # then the two bodies are the same, lines in the order they were given
    assert shown.json() == placed.json()
    assert [line["sku"] for line in placed.json()["lines"]] == ["MUG-1", "BOOK-1"]
    assert placed.json()["total"] == "47.05"

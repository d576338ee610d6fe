"""Hostile request bodies: deeply nested or oversized JSON gets a 4xx with a message a person
understands, through the project's JSON parser, and nothing is written."""

import json
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import User
from eventbus.models import OutboxMessage
from orders.models import Customer, Order
from orders.tests.helpers import CUSTOMER_ID, bearer

pytestmark = pytest.mark.django_db

TOO_DEEP = (
    "JSON parse error - the document is nested deeper than 32 levels; send a flatter document."
)


@pytest.fixture
def endpoints(db: None) -> dict[str, APIClient]:
    """The two endpoints that take a JSON body from the outside: register and place."""
    Customer.objects.create(customer_id=CUSTOMER_ID, username="ada", profile_version=1)
    anonymous, customer = APIClient(), APIClient()
    customer.credentials(HTTP_AUTHORIZATION=bearer(CUSTOMER_ID))
    return {"/api/accounts/register/": anonymous, "/api/orders/": customer}


def assert_nothing_written() -> None:
    assert User.objects.count() == 0
    assert Order.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def post(client: APIClient, url: str, body: str | bytes) -> tuple[int, Any]:
    response = client.post(url, body, content_type="application/json")
    return response.status_code, response.json()


def nested(depth: int) -> str:
    """A register/place body whose ``username`` and ``lines`` are ``depth`` arrays deep."""
    deep = "[" * depth + "]" * depth
    return f'{{"username": {deep}, "email": "a@example.com", "password": "x", "lines": {deep}}}'


@pytest.mark.parametrize("url", ["/api/accounts/register/", "/api/orders/"])
@pytest.mark.parametrize("depth", [40, 5_000, 200_000])
def test_deeply_nested_json_is_a_400(endpoints: dict[str, APIClient], url: str, depth: int):
    # when
    status, body = post(endpoints[url], url, nested(depth))

    # then
    assert (status, body) == (400, {"detail": TOO_DEEP})
    assert_nothing_written()


@pytest.mark.parametrize("url", ["/api/accounts/register/", "/api/orders/"])
def test_a_bare_deep_array_is_a_400(endpoints: dict[str, APIClient], url: str):
    status, body = post(endpoints[url], url, "[" * 200_000)

    assert (status, body) == (400, {"detail": TOO_DEEP})
    assert_nothing_written()


@pytest.mark.parametrize("url", ["/api/accounts/register/", "/api/orders/"])
def test_json_larger_than_the_limit_is_a_413(endpoints: dict[str, APIClient], url: str):
    # given a body one byte over the default limit (1 MiB)
    body = json.dumps({"username": "a", "password": "x", "pad": ""})
    body = body.replace('""', '"' + "x" * (1024 * 1024 + 1 - len(body)) + '"')
    assert len(body) == 1024 * 1024 + 1

    # when
    status, answer = post(endpoints[url], url, body)

    # then
    assert (status, answer) == (
        413,
        {"detail": "The request body is larger than 1048576 bytes; send a smaller one."},
    )
    assert_nothing_written()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_the_limit_is_django_s_setting(endpoints: dict[str, APIClient]):
    status, answer = post(endpoints["/api/orders/"], "/api/orders/", json.dumps({"x": "y" * 100}))

    assert status == 413
    assert answer == {"detail": "The request body is larger than 100 bytes; send a smaller one."}
    assert_nothing_written()


def test_a_body_at_the_depth_limit_reaches_the_view(endpoints: dict[str, APIClient]):
    # given lines nested 32 levels deep in all (the object itself is the first level)
    status, answer = post(endpoints["/api/orders/"], "/api/orders/", nested(31))

    # then the parser lets it through and the serializer answers about the field
    assert status == 400
    assert answer != {"detail": TOO_DEEP}
    assert "lines" in answer
    assert_nothing_written()

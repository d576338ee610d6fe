"""The number of SQL statements each accounts endpoint and handler costs, pinned so a
regression shows.

Counted inside the test's transaction, so after-commit delivery of the published events is
not counted with the request.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from accounts.handlers import record_order_placed
from accounts.models import OrderRecord, User
from accounts.tests.conftest import PASSWORD
from orders.events import OrderPlaced

pytestmark = pytest.mark.django_db

API = "/api/accounts/"


def _login(client: APIClient) -> dict[str, Any]:
    response = client.post(
        f"{API}login/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.json()
    body: dict[str, Any] = response.json()
    return body


def test_register_costs_eight_queries(
    api_client: APIClient, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    body = {"username": "carol", "email": "carol@example.com", "password": PASSWORD}
    with django_assert_num_queries(8):
        response = api_client.post(f"{API}register/", body, format="json")
    assert response.status_code == 201, response.json()


def test_login_costs_eighteen_queries_nineteen_on_postgresql(
    alice: User, api_client: APIClient, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # axes and simplejwt's outstanding token; PostgreSQL spends one more (axes' counting)
    with django_assert_num_queries(19 if connection.vendor == "postgresql" else 18):
        _login(api_client)


def test_refresh_costs_thirteen_queries(
    alice: User, api_client: APIClient, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    refresh = _login(api_client)["refresh"]
    with django_assert_num_queries(13):
        response = api_client.post(f"{API}token/refresh/", {"refresh": refresh}, format="json")
    assert response.status_code == 200, response.json()


def test_logout_costs_eleven_queries(
    alice: User, api_client: APIClient, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    refresh = _login(api_client)["refresh"]
    with django_assert_num_queries(11):
        response = api_client.post(f"{API}logout/", {"refresh": refresh}, format="json")
    assert response.status_code in (200, 204, 205), response.content


def test_me_costs_two_queries(
    alice_client: APIClient, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_num_queries(2):
        response = alice_client.get(f"{API}me/")
    assert response.status_code == 200, response.json()


def test_me_update_costs_nine_queries(
    alice_client: APIClient, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_num_queries(9):
        response = alice_client.patch(f"{API}me/", {"first_name": "Ada"}, format="json")
    assert response.status_code == 200, response.json()


def test_me_deactivate_costs_eight_queries(
    alice_client: APIClient, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_num_queries(8):
        response = alice_client.post(f"{API}me/deactivate/")
    assert response.status_code in (200, 204), response.content


def test_order_placed_handler_costs_one_statement(
    alice: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given an order accounts has not heard of
    event = OrderPlaced(
        order_id=7, customer_id=alice.pk, total=Decimal("12.50"), currency="EUR", lines=[]
    )

    # when its placement is recorded: one upsert guarded by the user's existence (no
    # savepoint, no read first)
    with django_assert_num_queries(1):
        record_order_placed(event)

    # then
    record = OrderRecord.objects.get()
    assert (record.order_id, record.placed, record.total) == (7, True, Decimal("12.50"))
    assert record.placed_at is not None and record.placed_at <= datetime.now(UTC)

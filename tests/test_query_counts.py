"""What placing an order costs in SQL statements end to end, inline mode: the request's
transaction and, after its commit, the delivery of orders.order_placed to its subscribers.

Committed for real (transactional_db), as in production. Pinned so a regression shows.
"""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from pytest_django import DjangoAssertNumQueries

from accounts.models import OrderRecord
from orders.services import product_upsert
from tests.conftest import UserClient

pytestmark = pytest.mark.django_db(transaction=True)


# Out of the redelivery drill: counts the bus's SQL statements exactly; the drill adds a savepoint and runs handlers thrice.
@pytest.mark.eventbus_redeliver(False)
def test_placing_an_order_with_its_inline_delivery_costs_nine_statements_thirteen_on_sqlite(
    signed_up: Callable[..., UserClient], django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given a registered customer (orders has its replica) and five products
    ada = signed_up("ada")
    for i in range(5):
        product_upsert(sku=f"SKU-{i}", name=f"Product {i}", price=Decimal("2.50"))
    lines = [{"sku": f"SKU-{i}", "quantity": 2} for i in range(5)]

    # when ada places an order: BEGIN, customer locked and products (one statement), order
    # (with its total) and lines (one statement on PostgreSQL, two on SQLite), the event's
    # outbox row with the confirmation task's row and delivery (write_together: one
    # statement on PostgreSQL, three on SQLite), COMMIT; BEGIN, accounts' record (one
    # upsert), the delivery recorded and the outbox row marked (one statement on
    # PostgreSQL, two on SQLite), COMMIT. It was 10 on PostgreSQL before write_together, 20
    # (21 on SQLite)
    # before the total was written with the order, the response built from the lines
    # inserted and accounts' record made one upsert; 12 before the locked replica answered
    # the deactivated check and came with the products and the lines with their order.
    # On PostgreSQL with client-side binding the delivery's COMMIT goes in one query string
    # with its record (one round trip less); Django still counts its own COMMIT, which then
    # finds nothing to commit. With prepared statements (the default there) it is separate.
    postgresql = connection.vendor == "postgresql"
    merges_commit = postgresql and not connection.settings_dict["OPTIONS"].get(
        "server_side_binding"
    )
    with django_assert_num_queries(9 if postgresql else 13) as captured:
        response = ada.post("/api/orders/", {"lines": lines}, format="json")

    # then it is placed and accounts has recorded it
    assert response.status_code == 201, response.json()
    assert OrderRecord.objects.get().order_id == response.json()["id"]
    # and with client-side binding the delivery's record, the last statement but Django's
    # COMMIT, carried the COMMIT itself
    sqls = [query["sql"] for query in captured.captured_queries]
    assert [sql.endswith("; COMMIT") for sql in sqls[-2:]] == [merges_commit, False]

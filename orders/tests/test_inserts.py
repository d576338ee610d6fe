"""order_insert_with_lines writes what the ORM's create and bulk_create would: every
column, defaults and timestamps included, and gives each instance its primary key."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from orders.inserts import order_insert_with_lines
from orders.models import Order, OrderLine, OrderStatus

pytestmark = pytest.mark.django_db


def test_the_order_and_its_lines_are_written_with_their_keys() -> None:
    # given an order of two lines, not saved
    order = Order(customer_id=7, status=OrderStatus.PLACED, total=Decimal("27.20"), currency="EUR")
    lines = [
        OrderLine(sku="MUG-1", product_name="Mug", quantity=2,
                  unit_price=Decimal("7.35"), line_total=Decimal("14.70")),
        OrderLine(sku="BOOK-1", product_name="Book", quantity=1,
                  unit_price=Decimal("12.50"), line_total=Decimal("12.50")),
    ]  # fmt: skip
    before = timezone.now()

    # when they are inserted
    with transaction.atomic():
        order_insert_with_lines(order, lines)

    # then the rows hold every value, the defaults and timestamps included
    stored = Order.objects.get()
    assert stored.pk == order.pk
    assert (stored.customer_id, stored.status, stored.total, stored.currency) == (
        7, "placed", Decimal("27.20"), "EUR",
    )  # fmt: skip
    assert stored.cancel_reason == ""
    assert before <= stored.created_at <= stored.updated_at < before + timedelta(minutes=1)
    assert (order.created_at, order.updated_at) == (stored.created_at, stored.updated_at)
    rows = list(
        OrderLine.objects.order_by("sku").values_list(
            "pk", "order_id", "sku", "product_name", "quantity", "unit_price", "line_total"
        )
    )
    assert rows == [
        (lines[1].pk, order.pk, "BOOK-1", "Book", 1, Decimal("12.50"), Decimal("12.50")),
        (lines[0].pk, order.pk, "MUG-1", "Mug", 2, Decimal("7.35"), Decimal("14.70")),
    ]
    # and the instances are saved ones, attached to their order
    assert lines[0].pk != lines[1].pk
    assert all(not i._state.adding and i._state.db == "default" for i in (order, *lines))
    assert all(line.order is order for line in lines)

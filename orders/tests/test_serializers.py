"""order_representation answers what OrderSerializer(order).data answers, call after call,
from one serializer instance."""

import pytest

from orders import services
from orders.api.serializers import OrderSerializer, order_representation
from orders.models import CancelReason, Customer, Order, Product
from orders.services import OrderLineIn
from orders.tests.helpers import CUSTOMER_ID

pytestmark = pytest.mark.django_db


def test_order_representation_is_the_serializers_data(
    customer: Customer, products: dict[str, Product]
) -> None:
    # given a placed order of two lines and a cancelled one of one line
    lines = [OrderLineIn(sku=sku, quantity=2) for sku in sorted(products)[:2]]
    placed = services.order_place(customer_id=CUSTOMER_ID, lines=lines)
    cancelled = services.order_place(customer_id=CUSTOMER_ID, lines=lines[:1])
    services.order_cancel(order_id=cancelled.pk, reason=CancelReason.STAFF)

    # when each is represented, from memory and as read back, twice over
    orders = [placed, *Order.objects.prefetch_related("lines").order_by("id")] * 2
    represented = [order_representation(order) for order in orders]

    # then each is what a new OrderSerializer gives, and the calls share nothing
    assert represented == [OrderSerializer(order).data for order in orders]
    assert represented[1]["cancel_reason"] == ""
    assert represented[2]["cancel_reason"] == "staff"
    assert [len(r["lines"]) for r in represented[:3]] == [2, 2, 1]
    assert represented[0]["total"] == "39.70"
    assert represented[0] is not represented[3]
    assert represented[0]["lines"] is not represented[3]["lines"]

"""orders services called directly: status transitions, validation, catalogue, constraints."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from eventbus.models import OutboxMessage
from orders.events import OrderCancelled, OrderStatusChanged
from orders.exceptions import (
    CustomerInactive,
    CustomerNotReplicated,
    InvalidOrderTransition,
    OrderInvalid,
    OrderNotFound,
)
from orders.models import Customer, Order, OrderLine, Product
from orders.services import (
    MSG_QUANTITY,
    MSG_SKU_REQUIRED,
    OrderLineIn,
    order_cancel,
    order_mark_paid,
    order_mark_shipped,
    order_place,
    product_create,
    product_upsert,
)
from orders.tests.helpers import CUSTOMER_ID, assert_nothing_written

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(customer: Customer, products: dict[str, Product], published_events) -> Order:
    placed = order_place(customer_id=CUSTOMER_ID, lines=[OrderLineIn(sku="MUG-1", quantity=2)])
    published_events.clear()
    return placed


def test_order_moves_placed_paid_shipped_publishing_each_change(order: Order, published_events):
    # given a placed order
    # when staff mark it paid, then shipped
    order_mark_paid(order_id=order.pk)
    order_mark_shipped(order_id=order.pk)

    # then it is shipped and both changes were published
    order.refresh_from_db()
    assert order.status == "shipped"
    assert published_events.of(OrderStatusChanged) == [
        OrderStatusChanged(
            order_id=order.pk, customer_id=CUSTOMER_ID, from_status="placed", to_status="paid"
        ),
        OrderStatusChanged(
            order_id=order.pk, customer_id=CUSTOMER_ID, from_status="paid", to_status="shipped"
        ),
    ]


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [
        ([], "ship", "is placed and cannot be marked shipped; only paid orders can be."),
        (["pay"], "pay", "is paid and cannot be marked paid; only placed orders can be."),
        (
            ["pay", "ship"],
            "pay",
            "is shipped and cannot be marked paid; only placed orders can be.",
        ),
        (
            ["pay", "ship"],
            "ship",
            "is shipped and cannot be marked shipped; only paid orders can be.",
        ),
        (["cancel"], "pay", "is cancelled and cannot be marked paid; only placed orders can be."),
        (["cancel"], "ship", "is cancelled and cannot be marked shipped; only paid orders can be."),
        (
            ["pay", "ship"],
            "cancel",
            "is shipped and cannot be cancelled; only placed or paid orders can be.",
        ),
        (
            ["cancel"],
            "cancel",
            "is cancelled and cannot be cancelled; only placed or paid orders can be.",
        ),
    ],
)
def test_invalid_transitions_raise_and_change_nothing(
    order: Order, published_events, setup: list[str], action: str, message: str
):
    # given an order brought to some status
    actions = {
        "pay": lambda: order_mark_paid(order_id=order.pk),
        "ship": lambda: order_mark_shipped(order_id=order.pk),
        "cancel": lambda: order_cancel(order_id=order.pk, reason="staff"),
    }
    for step in setup:
        actions[step]()
    order.refresh_from_db()
    status_before, outbox_before = order.status, OutboxMessage.objects.count()
    published_events.clear()

    # when a transition its status does not allow is asked for
    with pytest.raises(InvalidOrderTransition) as raised:
        actions[action]()

    # then it is refused with a message naming the order, and nothing changed
    assert str(raised.value) == f"Order {order.pk} {message}"
    order.refresh_from_db()
    assert order.status == status_before
    assert OutboxMessage.objects.count() == outbox_before
    assert len(published_events) == 0


def test_staff_cancel_publishes_reason_staff(order: Order, published_events):
    # given a placed order
    # when staff cancel it
    cancelled = order_cancel(order_id=order.pk, reason="staff")

    # then
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "staff")
    assert published_events.of(OrderCancelled) == [
        OrderCancelled(
            order_id=order.pk,
            customer_id=CUSTOMER_ID,
            total=Decimal("14.70"),
            currency="EUR",
            reason="staff",
        )
    ]


def test_cancel_with_unknown_reason_raises_value_error(order: Order):
    with pytest.raises(ValueError, match="Unknown cancel reason 'bored'"):
        order_cancel(order_id=order.pk, reason="bored")
    order.refresh_from_db()
    assert order.status == "placed"


def test_transitions_of_missing_order_raise_not_found(db: None):
    with pytest.raises(OrderNotFound, match=r"^Order 999 does not exist\.$"):
        order_mark_paid(order_id=999)
    with pytest.raises(OrderNotFound, match=r"^Order 999 does not exist\.$"):
        order_mark_shipped(order_id=999)
    with pytest.raises(OrderNotFound, match=r"^Order 999 does not exist\.$"):
        order_cancel(order_id=999, reason="staff")


def test_cancel_with_customer_id_finds_only_that_customers_order(order: Order):
    with pytest.raises(OrderNotFound, match=rf"^Order {order.pk} does not exist\.$"):
        order_cancel(order_id=order.pk, customer_id=CUSTOMER_ID + 1, reason="customer_request")
    order.refresh_from_db()
    assert order.status == "placed"


@pytest.mark.parametrize(
    ("line", "errors"),
    [
        (OrderLineIn(sku="PEN-1", quantity=True), {"quantity": [MSG_QUANTITY]}),
        (OrderLineIn(sku="PEN-1", quantity="3"), {"quantity": [MSG_QUANTITY]}),  # type: ignore[arg-type]
        (OrderLineIn(sku="", quantity=1), {"sku": [MSG_SKU_REQUIRED]}),
    ],
)
def test_order_place_checks_its_input_for_direct_callers(
    customer: Customer, products: dict[str, Product], line: OrderLineIn, errors: dict
):
    with pytest.raises(OrderInvalid) as raised:
        order_place(customer_id=CUSTOMER_ID, lines=[line])

    assert raised.value.errors == {"lines": {"0": errors}}
    assert_nothing_written()


def test_order_place_for_unknown_or_inactive_customer_raises(products: dict[str, Product]):
    lines = [OrderLineIn(sku="PEN-1", quantity=1)]
    with pytest.raises(CustomerNotReplicated) as not_replicated:
        order_place(customer_id=CUSTOMER_ID, lines=lines)
    Customer.objects.create(customer_id=CUSTOMER_ID, is_active=False)
    with pytest.raises(CustomerInactive) as inactive:
        order_place(customer_id=CUSTOMER_ID, lines=lines)

    assert str(not_replicated.value) == (
        "Customer 4242 is not known to orders yet (its replica has not arrived from accounts). "
        "Retry in 2 seconds."
    )
    assert str(inactive.value) == "Customer 4242 is deactivated and can no longer place orders."
    assert_nothing_written()


def test_order_place_snapshots_name_and_price(customer: Customer, products: dict[str, Product]):
    # given an order placed at today's price
    placed = order_place(customer_id=CUSTOMER_ID, lines=[OrderLineIn(sku="BOOK-1", quantity=1)])

    # when the product is renamed and repriced
    product_upsert(sku="BOOK-1", name="Book, 2nd ed.", price=Decimal("20.00"))

    # then the order keeps what was agreed
    line = OrderLine.objects.get(order=placed)
    assert (line.product_name, line.unit_price, line.line_total) == (
        "Book",
        Decimal("12.50"),
        Decimal("12.50"),
    )


def test_product_create_and_upsert(db: None):
    created = product_create(sku="TEA-1", name="Tea", price=Decimal("3.20"))
    assert (created.currency, created.active) == ("EUR", True)

    updated = product_upsert(sku="TEA-1", name="Green tea", price=Decimal("3.40"), active=False)
    assert updated.pk == created.pk
    assert Product.objects.values_list("name", "price", "active").get() == (
        "Green tea",
        Decimal("3.40"),
        False,
    )


def test_product_create_rejects_bad_values_and_writes_nothing(db: None):
    with pytest.raises(ValidationError) as raised:
        product_create(sku="TEA-1", name="Tea", price=Decimal("-1"), currency="eur")
    assert raised.value.message_dict == {
        "price": ["Ensure this value is greater than or equal to 0."],
        "currency": ["Use a three-letter ISO 4217 code, e.g. EUR."],
    }
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", 0), ("quantity", 1001), ("unit_price", Decimal("-0.01"))],
)
def test_database_refuses_invalid_lines(order: Order, field: str, value: object):
    values = {"sku": "NEW-1", "product_name": "x", "quantity": 1, "unit_price": 1, "line_total": 1}
    values[field] = value
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.create(order=order, **values)


def test_database_refuses_the_same_sku_twice_in_an_order(order: Order):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.create(
            order=order, sku="MUG-1", product_name="Mug", quantity=1, unit_price=1, line_total=1
        )


def test_database_refuses_unknown_status_and_negative_price(order: Order):
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(status="lost")
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(sku="NEG", name="Negative", price=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(status="cancelled")  # no reason given

"""Order event handlers: OrderRecord upserts that are idempotent and order-independent."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from pytest_django import DjangoCaptureOnCommitCallbacks

from accounts.handlers import record_order_cancelled, record_order_placed
from accounts.models import OrderRecord, User
from accounts.selectors import user_order_stats
from eventbus import DoNotRetry, Event, publish
from eventbus.models import Delivery
from orders.events import OrderCancelled, OrderLinePayload, OrderPlaced

pytestmark = pytest.mark.django_db


def placed(
    order_id: int, customer_id: int, total: str = "29.90", currency: str = "EUR"
) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        customer_id=customer_id,
        total=Decimal(total),
        currency=currency,
        lines=[OrderLinePayload(sku="MUG", quantity=1, unit_price=Decimal(total))],
    )


def cancelled(
    order_id: int, customer_id: int, total: str = "29.90", currency: str = "EUR"
) -> OrderCancelled:
    return OrderCancelled(
        order_id=order_id,
        customer_id=customer_id,
        total=Decimal(total),
        currency=currency,
        reason="customer_request",
    )


def handle(handler: Callable[[Any], None], event: Event) -> None:
    with transaction.atomic():
        handler(event)


def test_order_placed_creates_a_record(alice: User) -> None:
    # when
    handle(record_order_placed, placed(7, alice.pk))

    # then
    record = OrderRecord.objects.get()
    assert (record.order_id, record.user_id, record.total, record.currency) == (
        7,
        alice.pk,
        Decimal("29.90"),
        "EUR",
    )
    assert (record.placed, record.cancelled) == (True, False)
    assert record.placed_at is not None
    assert record.cancelled_at is None


def test_the_same_order_placed_twice_is_counted_once(alice: User) -> None:
    # when
    handle(record_order_placed, placed(7, alice.pk))
    handle(record_order_placed, placed(7, alice.pk))

    # then
    assert OrderRecord.objects.count() == 1
    stats = user_order_stats(user_id=alice.pk)
    assert (stats.orders_count, stats.total_spent) == (1, {"EUR": Decimal("29.90")})


def test_cancelled_after_placed_ends_cancelled(alice: User) -> None:
    # when
    handle(record_order_placed, placed(7, alice.pk))
    handle(record_order_cancelled, cancelled(7, alice.pk))
    handle(record_order_cancelled, cancelled(7, alice.pk))

    # then
    record = OrderRecord.objects.get()
    assert (record.placed, record.cancelled) == (True, True)
    assert user_order_stats(user_id=alice.pk).orders_count == 0


def test_cancelled_before_placed_still_ends_cancelled(alice: User) -> None:
    # when
    handle(record_order_cancelled, cancelled(7, alice.pk))
    handle(record_order_placed, placed(7, alice.pk))
    handle(record_order_placed, placed(7, alice.pk))

    # then
    record = OrderRecord.objects.get()
    assert (record.placed, record.cancelled) == (True, True)
    assert record.placed_at is not None
    assert record.cancelled_at is not None
    stats = user_order_stats(user_id=alice.pk)
    assert (stats.orders_count, stats.total_spent) == (0, {})


def test_statistics_are_per_currency(alice: User) -> None:
    # when
    handle(record_order_placed, placed(1, alice.pk, "29.90", "EUR"))
    handle(record_order_placed, placed(2, alice.pk, "29.90", "EUR"))
    handle(record_order_placed, placed(3, alice.pk, "0.10", "USD"))
    handle(record_order_placed, placed(4, alice.pk, "1000.00", "USD"))
    handle(record_order_cancelled, cancelled(4, alice.pk, "1000.00", "USD"))

    # then
    stats = user_order_stats(user_id=alice.pk)
    assert stats.orders_count == 3
    assert stats.total_spent == {"EUR": Decimal("59.80"), "USD": Decimal("0.10")}


@pytest.mark.parametrize("handler_and_event", ["placed", "cancelled"])
def test_an_order_of_an_unknown_user_is_not_retried(handler_and_event: str) -> None:
    # given
    handler, event = (
        (record_order_placed, placed(7, 999_999))
        if handler_and_event == "placed"
        else (record_order_cancelled, cancelled(7, 999_999))
    )

    # when / then
    with pytest.raises(DoNotRetry) as raised:
        handle(handler, event)
    assert str(raised.value) == (
        f"Cannot record order 7 as {handler_and_event}: No user with id 999999 exists in accounts."
    )
    assert OrderRecord.objects.count() == 0


def test_a_negative_total_is_not_retried(alice: User) -> None:
    # when / then
    with pytest.raises(DoNotRetry) as raised:
        handle(record_order_placed, placed(7, alice.pk, total="-1.00"))
    assert str(raised.value) == (
        "Cannot record order 7 as placed: The total must not be negative; got -1.00."
    )
    assert OrderRecord.objects.count() == 0


def test_handlers_run_through_the_bus_after_commit(
    alice: User, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    # when: orders publishes, the commit callbacks run the subscribers inline
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            publish(placed(11, alice.pk, "12.50"))
        with transaction.atomic():
            publish(placed(11, alice.pk, "12.50"))  # a second publish of the same order

    # then
    assert OrderRecord.objects.get().order_id == 11
    assert user_order_stats(user_id=alice.pk).total_spent == {"EUR": Decimal("12.50")}
    handled = Delivery.objects.filter(handler="accounts.handlers.record_order_placed")
    assert list(handled.values_list("status", flat=True)) == ["succeeded", "succeeded"]


def test_a_redelivered_placement_changes_nothing_of_the_record(alice: User) -> None:
    # given an order recorded as placed, then as cancelled
    handle(record_order_placed, placed(7, alice.pk))
    handle(record_order_cancelled, cancelled(7, alice.pk))
    before = OrderRecord.objects.values().get()

    # when both are delivered again
    handle(record_order_placed, placed(7, alice.pk, total="99.00"))
    handle(record_order_cancelled, cancelled(7, alice.pk))

    # then the record is the same row, times and total untouched
    assert OrderRecord.objects.values().get() == before

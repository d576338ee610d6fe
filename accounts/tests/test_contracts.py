"""Consumer contracts of accounts: orders' events, built from the schema orders LOCKED
(events.schema.lock.json), fed to accounts' real handlers. A change orders makes to these
events that accounts cannot read fails here, on accounts' side."""

from decimal import Decimal

import pytest
from django.db import transaction

from accounts.handlers import record_order_cancelled, record_order_placed
from accounts.models import OrderRecord, User
from accounts.selectors import user_order_stats
from eventbus.testing import event_from_schema
from orders.events import OrderCancelled, OrderPlaced

pytestmark = pytest.mark.django_db


def test_order_placed_as_published_counts_in_the_stats(alice: User):
    event = event_from_schema(
        OrderPlaced, order_id=7, customer_id=alice.pk, total=Decimal("12.50"), currency="EUR"
    )

    with transaction.atomic():
        record_order_placed(event)

    assert OrderRecord.objects.get().order_id == 7
    stats = user_order_stats(user_id=alice.pk)
    assert (stats.orders_count, stats.total_spent) == (1, {"EUR": Decimal("12.50")})


def test_order_cancelled_as_published_leaves_the_stats(alice: User):
    placed = event_from_schema(
        OrderPlaced, order_id=7, customer_id=alice.pk, total=Decimal("12.50"), currency="EUR"
    )
    cancelled = event_from_schema(
        OrderCancelled, order_id=7, customer_id=alice.pk, total=Decimal("12.50"), currency="EUR"
    )

    with transaction.atomic():
        record_order_placed(placed)
    with transaction.atomic():
        record_order_cancelled(cancelled)

    stats = user_order_stats(user_id=alice.pk)
    assert (stats.orders_count, stats.total_spent) == (0, {})

"""The order-record services return the record as stored, read back by their one statement."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from accounts.models import OrderRecord, User
from accounts.services import order_record_apply_cancelled, order_record_apply_placed

pytestmark = pytest.mark.django_db

PLACED = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
CANCELLED = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def test_apply_placed_returns_the_stored_record_with_its_types(alice: User) -> None:
    # when
    returned = order_record_apply_placed(
        order_id=7, user_id=alice.pk, total=Decimal("29.9"), currency="eur", placed_at=PLACED
    )

    # then the values are those a read gives, typed as the ORM types them (SQLite hands
    # back text for decimals and times, converted here)
    stored = OrderRecord.objects.get()
    assert model_to_dict(returned) == model_to_dict(stored)
    assert (returned.pk, returned.updated_at) == (stored.pk, stored.updated_at)
    assert returned.total == Decimal("29.90") and str(returned.total) == "29.90"
    assert (returned.placed, returned.placed_at, returned.cancelled) == (True, PLACED, False)
    assert (returned.currency, returned.cancelled_at) == ("EUR", None)


def test_apply_cancelled_after_placed_returns_the_merged_record(alice: User) -> None:
    # given
    order_record_apply_placed(
        order_id=7, user_id=alice.pk, total=Decimal("5.00"), currency="EUR", placed_at=PLACED
    )

    # when
    returned = order_record_apply_cancelled(
        order_id=7, user_id=alice.pk, total=Decimal("5.00"), currency="EUR",
        cancelled_at=CANCELLED,
    )  # fmt: skip

    # then
    assert model_to_dict(returned) == model_to_dict(OrderRecord.objects.get())
    assert (returned.placed_at, returned.cancelled, returned.cancelled_at) == (
        PLACED,
        True,
        CANCELLED,
    )

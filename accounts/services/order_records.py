"""accounts' read model of orders: one record per order, kept from orders' events.

The records feed the profile's ``orders_count`` and ``total_spent`` (accounts.selectors).
Applying an event is idempotent and order-independent, so a redelivered or early event
gives the same record.
"""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import OrderRecord, User


def order_record_apply_placed(
    *, order_id: int, user_id: int, total: Decimal, currency: str, placed_at: datetime
) -> OrderRecord:
    """Record that an order was placed. Idempotent, and order-independent: a record that a
    cancellation created first stays cancelled.

    Raises User.DoesNotExist for an unknown user and ValidationError for a negative total or
    a currency that is not three letters. Runs in one transaction, the record row locked.
    """
    return _order_record_mark(
        order_id=order_id, user_id=user_id, total=total, currency=currency,
        flag="placed", at=placed_at,
    )  # fmt: skip


def order_record_apply_cancelled(
    *, order_id: int, user_id: int, total: Decimal, currency: str, cancelled_at: datetime
) -> OrderRecord:
    """Record that an order was cancelled. Idempotent, and valid before its placement.

    Raises as order_record_apply_placed. Runs in one transaction, the record row locked.
    """
    return _order_record_mark(
        order_id=order_id, user_id=user_id, total=total, currency=currency,
        flag="cancelled", at=cancelled_at,
    )  # fmt: skip


def _order_record_mark(
    *,
    order_id: int,
    user_id: int,
    total: Decimal,
    currency: str,
    flag: Literal["placed", "cancelled"],
    at: datetime,
) -> OrderRecord:
    """Set ``flag`` (and its ``<flag>_at``) on the order's record, creating it if needed.
    A flag only ever goes from false to true, so any order of events gives one answer."""
    with transaction.atomic():
        record, created = _order_record_get_or_create(
            order_id=order_id,
            user_id=user_id,
            total=total,
            currency=currency,
            defaults={flag: True, f"{flag}_at": at},
        )
        if not created and not getattr(record, flag):
            setattr(record, flag, True)
            setattr(record, f"{flag}_at", at)
            record.save(update_fields=[flag, f"{flag}_at", "updated_at"])
    return record


def _order_record_get_or_create(
    *, order_id: int, user_id: int, total: Decimal, currency: str, defaults: dict[str, object]
) -> tuple[OrderRecord, bool]:
    errors: dict[str, list[str]] = {}
    if total < 0:
        errors["total"] = [f"The total must not be negative; got {total}."]
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = [
            f"The currency must be a three-letter ISO 4217 code; got {currency!r}."
        ]
    if errors:
        raise ValidationError(errors)
    if not User.objects.filter(pk=user_id).exists():
        raise User.DoesNotExist(f"No user with id {user_id} exists in accounts.")
    locked = OrderRecord.objects.select_for_update()
    record = locked.filter(order_id=order_id).first()
    if record is not None:
        return record, False
    try:
        with transaction.atomic():
            record = OrderRecord.objects.create(
                order_id=order_id,
                user_id=user_id,
                total=total,
                currency=currency.upper(),
                **defaults,
            )
        return record, True
    except IntegrityError:  # a concurrent handler created it first
        return locked.get(order_id=order_id), False

"""Subscribers of accounts to other modules' events: order events feed the user's statistics."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from accounts.services.order_records import (
    order_record_apply_cancelled,
    order_record_apply_placed,
)
from eventbus import DoNotRetry, current_envelope, subscriber
from orders.events import OrderCancelled, OrderPlaced


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _occurred_at() -> datetime:
    """When the event being handled happened (now, when called outside the bus)."""
    envelope = current_envelope()
    return envelope.occurred_at if envelope is not None else timezone.now()


@subscriber(OrderPlaced)
def record_order_placed(event: OrderPlaced) -> None:
    """Count the order in its customer's statistics. Idempotent; raises DoNotRetry for an
    unknown customer or malformed money (bad data, retrying cannot help)."""
    try:
        order_record_apply_placed(
            order_id=event.order_id,
            user_id=event.customer_id,
            total=event.total,
            currency=event.currency,
            placed_at=_occurred_at(),
        )
    except (User.DoesNotExist, ValidationError) as exc:
        raise DoNotRetry(f"Cannot record order {event.order_id} as placed: {_reason(exc)}") from exc


@subscriber(OrderCancelled)
def record_order_cancelled(event: OrderCancelled) -> None:
    """Take the order out of its customer's statistics, even if its placement has not arrived
    yet. Idempotent; raises DoNotRetry for an unknown customer or malformed money."""
    try:
        order_record_apply_cancelled(
            order_id=event.order_id,
            user_id=event.customer_id,
            total=event.total,
            currency=event.currency,
            cancelled_at=_occurred_at(),
        )
    except (User.DoesNotExist, ValidationError) as exc:
        reason = _reason(exc)
        raise DoNotRetry(f"Cannot record order {event.order_id} as cancelled: {reason}") from exc

"""Helpers of the orders tests: tokens for users with no row, and "nothing was written"."""

from rest_framework_simplejwt.tokens import AccessToken

from eventbus.models import OutboxMessage
from orders.models import Order, OrderLine

CUSTOMER_ID = 4242  # a user id with NO row in any user table: a pure token user
OTHER_CUSTOMER_ID = 777


def bearer(user_id: int) -> str:
    """An ``Authorization`` header value with a real access token for ``user_id``."""
    token = AccessToken()
    token["user_id"] = user_id
    return f"Bearer {token}"


def assert_nothing_written() -> None:
    """No order, no line and no outbox message exist."""
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert OutboxMessage.objects.count() == 0

"""PUBLIC CONTRACT of orders: the events it publishes. Other modules may import this file.

Imports nothing but eventbus and the standard library. Changing a field is a new version.
Money travels as Decimal (a JSON string) with its ISO 4217 currency code.
"""

from decimal import Decimal

from eventbus import Event, Payload


class OrderLinePayload(Payload):
    sku: str
    quantity: int
    unit_price: Decimal


class OrderPlaced(Event):
    """A customer placed an order (status ``placed``)."""

    event_name = "orders.order_placed"
    event_version = 1

    order_id: int
    customer_id: int
    total: Decimal
    currency: str
    lines: list[OrderLinePayload]


class OrderCancelled(Event):
    """An order was cancelled. ``reason`` is one of ``customer_request``,
    ``customer_deactivated`` or ``staff``."""

    event_name = "orders.order_cancelled"
    event_version = 1

    order_id: int
    customer_id: int
    total: Decimal
    currency: str
    reason: str


class OrderStatusChanged(Event):
    """An order moved along ``placed -> paid -> shipped`` (cancellation has its own event)."""

    event_name = "orders.order_status_changed"
    event_version = 1

    order_id: int
    customer_id: int
    from_status: str
    to_status: str

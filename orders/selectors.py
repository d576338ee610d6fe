"""Reads of the orders module: the catalogue, a customer's orders, the customer replica."""

from django.db.models import QuerySet

from orders.exceptions import CustomerDeactivated, OrderNotFound
from orders.models import Customer, Order, Product


def product_list_active() -> QuerySet[Product]:
    """Products that can be ordered, by SKU."""
    return Product.objects.filter(active=True).order_by("sku")


def order_list_for_customer(*, customer_id: int) -> QuerySet[Order]:
    """The customer's orders, newest first, with their lines prefetched."""
    return (
        Order.objects.filter(customer_id=customer_id)
        .order_by("-created_at", "-id")
        .prefetch_related("lines")
    )


def order_get_for_customer(*, order_id: int, customer_id: int) -> Order:
    """One of the customer's orders with its lines.

    Raises OrderNotFound when it does not exist or belongs to another customer (the two
    are not told apart, so ids of other customers' orders do not leak).
    """
    order = order_list_for_customer(customer_id=customer_id).filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound(order_id)
    return order


def order_confirmation_of(*, order_id: int) -> str:
    """The text of the confirmation of an order, addressed to its customer's email as the
    replica knows it (blank when no account event has arrived yet); raises OrderNotFound."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound(order_id)
    customer = customer_get(customer_id=order.customer_id)
    to = customer.email if customer is not None else ""
    return f"to {to or '(no email yet)'}: order {order.pk} placed, {order.total} {order.currency}"


def customer_get(*, customer_id: int) -> Customer | None:
    """The replica of the customer, or None when no account event has arrived yet."""
    return Customer.objects.filter(pk=customer_id).first()


def customer_require_not_deactivated(*, customer_id: int) -> None:
    """Raise CustomerDeactivated when orders' replica says the customer is deactivated.

    A customer orders has no replica of yet passes: its registration may still be on its way.
    """
    if Customer.objects.filter(pk=customer_id, is_active=False).exists():
        raise CustomerDeactivated(customer_id)

"""orders tables: the product catalogue, the customer replica, orders and their lines.

Invariants that must always hold are database constraints, not only Python checks. No
table references another module: the customer is a plain integer id.
"""

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

currency_validator = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code, e.g. EUR.")

MAX_LINES_PER_ORDER = 100
MIN_QUANTITY = 1
MAX_QUANTITY = 1000


class Product(models.Model):
    """A catalogue entry. Only active products can be ordered."""

    sku = models.CharField(max_length=64, unique=True, verbose_name="SKU")
    name = models.CharField(max_length=200)
    price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(
        max_length=3, default="EUR", validators=[currency_validator], help_text="ISO 4217 code."
    )
    active = models.BooleanField(default=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=Decimal("0")), name="orders_product_price_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Customer(models.Model):
    """orders' REPLICA of an account, built from accounts events (never a foreign key).

    ``profile_version`` is the version of the last profile applied, so an older update
    arriving late is ignored. A replica created by a deactivation that overtook the
    registration has version 0 and empty names until the registration arrives.
    """

    customer_id = models.BigIntegerField(primary_key=True, help_text="The account's user id.")
    username = models.CharField(max_length=150, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    is_active = models.BooleanField(default=True)
    profile_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer_id"]
        verbose_name = "customer (replica)"
        verbose_name_plural = "customers (replica)"

    def __str__(self) -> str:
        return f"customer {self.customer_id} {self.username}".rstrip()


class OrderStatus(models.TextChoices):
    """Where an order is: placed -> paid -> shipped, or cancelled from placed or paid."""

    PLACED = "placed"
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class CancelReason(models.TextChoices):
    """Why an order was cancelled (the ``reason`` of OrderCancelled)."""

    CUSTOMER_REQUEST = "customer_request"
    CUSTOMER_DEACTIVATED = "customer_deactivated"
    STAFF = "staff"


class Order(models.Model):
    """A customer's order. Status moves placed -> paid -> shipped, or to cancelled."""

    Status = OrderStatus
    CancelReason = CancelReason

    customer_id = models.BigIntegerField(db_index=True, help_text="The account's user id.")
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.PLACED
    )
    total = models.DecimalField(max_digits=16, decimal_places=2)
    currency = models.CharField(max_length=3)
    cancel_reason = models.CharField(
        max_length=32, choices=CancelReason.choices, blank=True, default=""
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["customer_id", "-created_at"], name="orders_order_customer_recent"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values),
                name="orders_order_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(total__gte=Decimal("0")), name="orders_order_total_gte_0"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="cancelled", cancel_reason__in=CancelReason.values)
                    | (~Q(status="cancelled") & Q(cancel_reason=""))
                ),
                name="orders_order_cancel_reason_iff_cancelled",
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.pk} ({self.status})"


class OrderLine(models.Model):
    """One product of an order, with the name and price as they were when it was placed."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64, verbose_name="SKU")
    product_name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    line_total = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="orders_orderline_unique_sku"),
            models.CheckConstraint(
                condition=Q(quantity__gte=MIN_QUANTITY) & Q(quantity__lte=MAX_QUANTITY),
                name="orders_orderline_quantity_1_1000",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=Decimal("0")), name="orders_orderline_unit_price_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(line_total__gte=Decimal("0")), name="orders_orderline_line_total_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

"""Request and response shapes of the orders API; no business rules live here."""

from functools import cache
from typing import Any

from rest_framework import serializers

from orders.models import (
    MAX_LINES_PER_ORDER,
    MAX_QUANTITY,
    MIN_QUANTITY,
    CancelReason,
    Order,
    OrderLine,
    Product,
)
from orders.services import MSG_NO_LINES, MSG_QUANTITY, MSG_TOO_MANY_LINES, OrderLineIn


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["sku", "name", "price", "currency"]


class TextField(serializers.CharField):
    """A CharField that takes only a string: DRF's turns a JSON number into one (`0` -> "0")."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class WholeNumberField(serializers.IntegerField):
    """An IntegerField that takes only a JSON number: DRF's reads the string "5" as 5."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class OrderLineInSerializer(serializers.Serializer):
    """One requested line: a product's SKU and a quantity from 1 to 1000."""

    sku = TextField(max_length=64)
    quantity = WholeNumberField(
        min_value=MIN_QUANTITY,
        max_value=MAX_QUANTITY,
        error_messages={
            "invalid": MSG_QUANTITY,
            "min_value": MSG_QUANTITY,
            "max_value": MSG_QUANTITY,
            "max_string_length": MSG_QUANTITY,
        },
    )


class OrderPlaceSerializer(serializers.Serializer):
    """The body of POST /api/orders/. Errors of one line are keyed by its index."""

    lines = serializers.ListField(
        child=OrderLineInSerializer(),
        min_length=1,
        max_length=MAX_LINES_PER_ORDER,
        error_messages={
            "empty": MSG_NO_LINES,
            "min_length": MSG_NO_LINES,
            "max_length": MSG_TOO_MANY_LINES,
        },
    )

    def order_lines(self) -> list[OrderLineIn]:
        """The validated lines as service input."""
        return [OrderLineIn(**line) for line in self.validated_data["lines"]]


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["sku", "product_name", "quantity", "unit_price", "line_total"]


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    # Declared so the schema allows "", the value of an order that is not cancelled.
    cancel_reason = serializers.ChoiceField(
        choices=CancelReason.choices,
        allow_blank=True,
        read_only=True,
        help_text="Why the order was cancelled; empty while it is not.",
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "customer_id",
            "status",
            "total",
            "currency",
            "cancel_reason",
            "created_at",
            "updated_at",
            "lines",
        ]
        read_only_fields = fields


def order_representation(order: Order) -> dict[str, Any]:
    """``OrderSerializer(order).data``, as a plain dict, without building a serializer.

    DRF builds a ModelSerializer's fields from the model, and deep-copies them, for every
    instance: two thirds of what answering with one order cost. Turning an order into data
    keeps no state in the serializer or its fields (no request, no context: nothing here is
    hyperlinked), so one instance, built on first use, serves every call.
    """
    return _order_serializer().to_representation(order)


@cache
def _order_serializer() -> OrderSerializer:
    return OrderSerializer()


class ErrorSerializer(serializers.Serializer):
    """The body of a 401, 403, 404 or 409: one message saying what to do."""

    detail = serializers.CharField()

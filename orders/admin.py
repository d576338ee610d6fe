"""Admin of orders: the catalogue, orders moved along by staff through the services, and the
read-only customer replica."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from orders import services
from orders.exceptions import OrdersError
from orders.models import CancelReason, Customer, Order, OrderLine, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "price", "currency", "active"]
    list_editable = ["active"]
    list_filter = ["active", "currency"]
    search_fields = ["sku", "name"]
    ordering = ["sku"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ("sku", "product_name", "quantity", "unit_price", "line_total")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders are read-only here; staff change their status with the actions only, which
    call the services (so each change publishes its event)."""

    list_display = ["id", "customer_id", "status", "total", "currency", "created_at"]
    list_filter = ["status", "currency", "created_at"]
    search_fields = ["=id", "=customer_id"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "customer_id",
        "status",
        "total",
        "currency",
        "cancel_reason",
        "created_at",
        "updated_at",
    ]
    inlines = [OrderLineInline]
    actions = ["mark_paid", "mark_shipped", "cancel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders are placed by customers through the API

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False  # cancel instead: deleting would publish nothing

    @admin.action(description="Mark as paid", permissions=["change"])
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(request, queryset, "marked paid", services.order_mark_paid)

    @admin.action(description="Mark as shipped", permissions=["change"])
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(request, queryset, "marked shipped", services.order_mark_shipped)

    @admin.action(description="Cancel", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        def cancel_by_staff(*, order_id: int) -> Order:
            return services.order_cancel(order_id=order_id, reason=CancelReason.STAFF)

        self._apply(request, queryset, "cancelled", cancel_by_staff)

    def _apply(
        self,
        request: HttpRequest,
        queryset: QuerySet[Order],
        done: str,
        service: Callable[..., Order],
    ) -> None:
        """Run ``service`` on each selected order (each in its own transaction); report
        successes together and each refused order as an error message."""
        succeeded = []
        for order_id in queryset.order_by("id").values_list("id", flat=True):
            try:
                service(order_id=order_id)
            except OrdersError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                succeeded.append(str(order_id))
        if succeeded:
            self.message_user(request, f"Order(s) {', '.join(succeeded)} {done}.", messages.SUCCESS)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """The replica follows account events; editing it here would be overwritten or lost."""

    list_display = ["customer_id", "username", "email", "is_active", "profile_version"]
    list_filter = ["is_active"]
    search_fields = ["=customer_id", "username", "email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False

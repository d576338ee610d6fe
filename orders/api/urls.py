"""URLs of the orders API (mounted at /api/orders/)."""

from django.urls import path, register_converter

from orders.api import views


class OrderIdConverter:
    """A positive id that fits a BigAutoField; a longer number is a 404, not a DB error."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(OrderIdConverter, "order_id")

app_name = "orders"

urlpatterns = [
    path("products/", views.ProductListView.as_view(), name="product-list"),
    path("", views.OrderListCreateView.as_view(), name="order-list"),
    path("<order_id:order_id>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("<order_id:order_id>/cancel/", views.OrderCancelView.as_view(), name="order-cancel"),
]

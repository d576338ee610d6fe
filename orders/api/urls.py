"""URLs of the orders API (mounted at /api/orders/)."""

from django.urls import path

from orders.api import views

app_name = "orders"

urlpatterns = [
    path("products/", views.ProductListView.as_view(), name="product-list"),
    path("", views.OrderListCreateView.as_view(), name="order-list"),
    path("<int:order_id>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("<int:order_id>/cancel/", views.OrderCancelView.as_view(), name="order-cancel"),
]

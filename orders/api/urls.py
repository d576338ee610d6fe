"""URLs of the orders API (mounted at /api/orders/)."""

from django.urls import path

app_name = "orders"

urlpatterns: list = []

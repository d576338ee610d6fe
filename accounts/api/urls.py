"""URLs of the accounts API (mounted at /api/accounts/)."""

from django.urls import path

app_name = "accounts"

urlpatterns: list = []

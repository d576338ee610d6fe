"""The orders module: catalogue, customer replica and orders."""

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from orders import handlers  # noqa: F401  (connects the subscribers)

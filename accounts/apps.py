"""The accounts module: users, identity and profile."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import handlers  # noqa: F401  (connects the subscribers)

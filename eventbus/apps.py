"""The eventbus Django app."""

from django.apps import AppConfig


class EventbusConfig(AppConfig):
    name = "eventbus"
    verbose_name = "Event bus"
    default_auto_field = "django.db.models.BigAutoField"

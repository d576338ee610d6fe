"""The eventbus Django app."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class EventbusConfig(AppConfig):
    name = "eventbus"
    verbose_name = "Event bus"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Import every installed app's events.py so the registry (and the start-up check for
        # duplicate (name, version) pairs) sees every event, published here or not.
        autodiscover_modules("events")
        from eventbus import checks  # noqa: F401  (registers the version checks)

"""The eventbus Django app."""

from importlib.util import find_spec

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
        from eventbus.boundaries import checks as module_checks  # noqa: F401  (registers them)
        from eventbus.conf import bus_settings
        from eventbus.extras import missing_extra
        from eventbus.ownership import checks as ownership_checks  # noqa: F401  (registers it)
        from eventbus.ownership import install_from_settings
        from eventbus.tasks import checks as task_checks  # noqa: F401  (registers it)
        from eventbus.tasks import configured

        install_from_settings()
        if configured():
            from eventbus.tasks import runner  # noqa: F401  (subscribes the task runner)
            from eventbus.tasks import signals as task_signals

            task_signals.connect()

        if bus_settings.METRICS:
            if find_spec("prometheus_client") is None:
                raise missing_extra(
                    "prometheus_client",
                    needed_for="EVENTBUS['METRICS'] = True (Prometheus metrics)",
                )
            from eventbus import metrics

            metrics.connect()

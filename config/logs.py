"""The LOGGING setting: readable text in development, JSON in production and split mode.

Both put the bus's context on every line (eventbus.logcontext.BusContextFilter): the
correlation id always, and the event id, event name, handler and duration where there is one.
"""

from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"
#: The fields every JSON line starts with; the bus's context and any ``extra=`` follow.
JSON_FIELDS = ["asctime", "levelname", "name", "message", "correlation_id"]


def logging_config(*, json: bool, level: str = "INFO") -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"bus": {"()": "eventbus.logcontext.BusContextFilter"}},
        "formatters": {
            "text": {"format": TEXT_FORMAT},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": JSON_FIELDS,
                "rename_fields": {"levelname": "level", "name": "logger", "asctime": "time"},
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if json else "text",
                "filters": ["bus"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "WARNING"}},
    }

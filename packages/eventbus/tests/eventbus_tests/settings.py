"""Settings of the bus's own tests: eventbus and Django's contrib apps, nothing of a project.

The database is SQLite (a file under the system's temporary directory), or DATABASE_URL:
``postgres://...`` or ``mysql://...`` (MariaDB). The tests' events and tasks live in plain
modules of this package (sample.py, sample_tasks.py), so no app of their own is needed.
"""

import os
import tempfile
from pathlib import Path
from typing import Any

import django

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "eventbus-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "eventbus",
]

MIDDLEWARE = [
    "eventbus.middleware.CorrelationIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "eventbus_tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

STATIC_URL = "static/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def database() -> dict[str, Any]:
    """DATABASE_URL (postgres://, mysql://), else a SQLite file in the temporary directory."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        path = Path(tempfile.gettempdir()) / "eventbus-tests.sqlite3"
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    import dj_database_url

    config: dict[str, Any] = dict(dj_database_url.parse(url))
    # The test database is NAME_test, so a cell's databases share its prefix.
    config["TEST"] = {"NAME": f"{config['NAME']}_test"}
    if config["ENGINE"] == "django.db.backends.mysql":
        # Whole Unicode; READ COMMITTED, which the worker's claims rely on (a locking read
        # locks only the rows it returns); strict mode, so a value that does not fit is an
        # error, never truncated: as a project on MariaDB is expected to configure it.
        config["OPTIONS"] = {
            "charset": "utf8mb4",
            "isolation_level": "read committed",
            "init_command": "SET sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
            "NO_ENGINE_SUBSTITUTION'",
        }
        config["TEST"] |= {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    return config


DATABASES = {"default": database()}

# MariaDB has no partial indexes: Django creates the bus's conditional indexes (the due
# deliveries, the undispatched outbox rows, ...) there as whole-table indexes and says so
# with models.W037, once per index. The cells check at --fail-level WARNING, so the one
# warning that is MariaDB's own is named here (a project on MariaDB sees the same five).
SILENCED_SYSTEM_CHECKS = ["models.W037"] if DATABASES["default"]["ENGINE"].endswith("mysql") else []

EVENTBUS = {
    "DELIVERY": "inline",
    "MAX_ATTEMPTS": 8,
    "TRANSPORT": "local",
    "BROKER_URL": os.environ.get("EVENTBUS_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"),
    "EXCHANGE": "eventbus",
    "QUEUE_PREFIX": "",
    "METRICS": True,
}

# django.tasks came with Django 6.0: on 5.2 the bus refuses OutboxTaskBackend with a system
# check error (eventbus.E020), so these settings name it only where it works.
if django.VERSION >= (6, 0):
    TASKS = {
        "default": {
            "BACKEND": "eventbus.tasks.OutboxTaskBackend",
            "QUEUES": ["default", "emails"],
        }
    }

"""Tests: SQLite (or DATABASE_URL), fast hashing, deterministic bus settings."""

from .base import *  # noqa: F403
from .base import BASE_DIR, REST_FRAMEWORK, database_from_env

DATABASES = {"default": database_from_env(BASE_DIR / "var" / "test.sqlite3")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
DEMO_DATA_ALLOWED = True
# Rates no suite of tests reaches from one address; the throttle tests set their own.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"register": "10000/minute", "token_refresh": "10000/minute"},
}

"""Tests: SQLite (or DATABASE_URL), fast hashing, deterministic bus settings."""

from .base import *  # noqa: F403
from .base import BASE_DIR, REST_FRAMEWORK, database_from_env

DATABASES = {"default": database_from_env(BASE_DIR / "var" / "test.sqlite3")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
DEMO_DATA_ALLOWED = True
# Process-local: tests clear it between tests without a database; the served tests
# (tests/test_serving.py) run the shared caches under gunicorn.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rates no suite of tests reaches from one address; the throttle tests set their own.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"register": "10000/minute", "token_refresh": "10000/minute"},
}

# whitenoise serves STATIC_ROOT (and, with DEBUG, the apps' files): it warns when it is missing
# before the first collectstatic.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

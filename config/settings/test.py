"""Tests: SQLite (or DATABASE_URL), fast hashing, deterministic bus settings."""

from .base import *  # noqa: F403
from .base import BASE_DIR, database_from_env

DATABASES = {"default": database_from_env(BASE_DIR / "var" / "test.sqlite3")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
DEMO_DATA_ALLOWED = True

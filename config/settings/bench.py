"""Benchmarks: production-like database settings (DATABASE_URL), no debug, quiet logs."""

from .base import *  # noqa: F403
from .base import BASE_DIR, database_from_env

DEBUG = False
DATABASES = {"default": database_from_env(BASE_DIR / "var" / "bench.sqlite3")}
LOGGING = {"version": 1, "disable_existing_loggers": False}

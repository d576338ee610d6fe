"""Benchmarks: production-like database settings (DATABASE_URL), no debug, quiet logs."""

from config.env import env_bool

from .base import *  # noqa: F403
from .base import BASE_DIR, database_from_env

DEBUG = False
DATABASES = {"default": database_from_env(BASE_DIR / "var" / "bench.sqlite3")}
LOGGING = {"version": 1, "disable_existing_loggers": False}

# The benchmarks measure the bus itself against a bare baseline: the Prometheus receivers
# stay off unless EVENTBUS_METRICS=true asks for them (what they cost: docs/performance.md).
EVENTBUS = {**EVENTBUS, "METRICS": env_bool("EVENTBUS_METRICS", False)}  # noqa: F405

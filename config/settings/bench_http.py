"""bench/http_orders.py only: production settings served over plain HTTP on 127.0.0.1, with
the bench-only bare endpoint mounted (config.bench_urls) and tokens that outlive a run."""

from datetime import timedelta

from .production import *  # noqa: F403
from .production import SIMPLE_JWT

ROOT_URLCONF = "config.bench_urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECURE_SSL_REDIRECT = False
SIMPLE_JWT = {**SIMPLE_JWT, "ACCESS_TOKEN_LIFETIME": timedelta(hours=2)}
LOGGING = {"version": 1, "disable_existing_loggers": False}

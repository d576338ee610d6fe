"""Production: every secret from the environment, persistent connections, HTTPS hardening,
hashed static files (config.settings.serving)."""

from config.env import env_int, env_list
from config.logs import logging_config

from .base import *  # noqa: F403
from .base import BASE_DIR, database_from_env
from .hardening import *  # noqa: F403
from .hardening import secret_key
from .serving import *  # noqa: F403

DEBUG = False
SECRET_KEY = secret_key(debug=DEBUG)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

DATABASES = {"default": database_from_env(BASE_DIR / "var" / "db.sqlite3")}
# Keeping connections open is worth ~6x requests per second on PostgreSQL here;
# health checks drop a connection the server closed before it is reused.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": SECRET_KEY}  # noqa: F405

# One JSON object per line, with the correlation id (and the event, handler, duration).
LOGGING = logging_config(json=True)

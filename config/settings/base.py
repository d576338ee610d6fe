"""Settings shared by every environment; the environment is read through config.env."""

import importlib.util
from datetime import timedelta
from pathlib import Path

import dj_database_url

from config.env import env_bool, env_int, env_list, env_str
from config.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# For development only: production-like settings refuse it (config/settings/hardening.py).
DEVELOPMENT_SECRET_KEY = "dev-insecure-secret-key-change-me-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = False
# load_demo_data creates users with well-known passwords: dev and test allow it.
DEMO_DATA_ALLOWED = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
# The client address: REMOTE_ADDR, unless TRUSTED_PROXY_COUNT reverse proxies each append the
# address they saw to X-Forwarded-For; then the address the outermost trusted proxy saw.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "eventbus",
    "accounts",
    "orders",
    "config.apps.ProjectConfig",
    # Makes the database cache's table on every migrate (in split mode too).
    "config.cachetable.apps.CacheTableConfig",
]

MIDDLEWARE = [
    # Outermost, so it sees every response: Django's error pages under /api/ become JSON,
    # with DEBUG on too (config/errors.py).
    "config.errors.ApiErrorsAsJsonMiddleware",
    "eventbus.middleware.CorrelationIdMiddleware",
    # Inside the correlation id's scope, so its log line per request carries the id.
    "config.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files straight after SecurityMiddleware, before sessions: no database for a CSS.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a login refused by django-axes (admin, browsable API) into its lockout page; only
    # the guard's marker and the 503 for an unreachable database come after it.
    "axes.middleware.AxesMiddleware",
    # The module of the view being served, for the data-ownership guard (inert while it is off).
    "eventbus.ownership.middleware.ViewModuleMiddleware",
    # A view that cannot reach the database answers 503 with Retry-After instead of a 500.
    "config.errors.DatabaseUnavailableMiddleware",
]

# django-axes first: it refuses a locked-out username before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"

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

WSGI_APPLICATION = "config.wsgi.application"

SQLITE_OPTIONS = {
    # WAL lets readers run beside the writer; NORMAL syncs at checkpoints, not every commit.
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    # Take the write lock at BEGIN, so two writers queue instead of failing on upgrade.
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


# PostgreSQL: parameters bound on the server, and a statement run this many times on a
# connection prepared there (psycopg's default threshold): PostgreSQL parses it once per
# connection, and the client sends values instead of quoting them into the SQL. Each
# execution is still planned for its own values (plan_cache_mode): a generic plan made while
# a table is new and tiny (a fresh outbox) stays cached and turns into a sequential scan as
# the table grows, until autovacuum analyzes it (bench/http_orders.py lost a third of its
# throughput that way within a minute). DB_PREPARED_STATEMENTS=0 turns this off, e.g.
# behind PgBouncer older than 1.21 in transaction pooling mode, which cannot route prepared
# statements.
POSTGRES_PREPARED_OPTIONS = {
    "server_side_binding": True,
    "prepare_threshold": 5,
    "options": "-c plan_cache_mode=force_custom_plan",
}


# MariaDB (10.6+, mysqlclient): utf8mb4, so any text PostgreSQL stores fits; READ COMMITTED
# (Django's default for MySQL, spelled out because the worker depends on it): a locking read
# locks only the rows it returns, with no gap locks, so a claim's `FOR UPDATE SKIP LOCKED`
# neither blocks publishers inserting behind it nor deadlocks with another worker's claim,
# and each statement sees the latest commits; STRICT_TRANS_TABLES: a value that does not fit
# is an error, never silently truncated or coerced.
MARIADB_OPTIONS = {
    "charset": "utf8mb4",
    "isolation_level": "read committed",
    "init_command": "SET sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
}


def database_from_env(default_sqlite_path: Path) -> dj_database_url.DBConfig:
    """DATABASE_URL when set (postgres://... or mysql://... for MariaDB), else a SQLite file
    at the given path."""
    config = dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{default_sqlite_path}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = dict(SQLITE_OPTIONS)
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Django's PostgreSQL backend, with a health check that sends nothing while the
        # connection's socket is quiet (config/postgresql/base.py).
        config["ENGINE"] = "config.postgresql"
        # psycopg 3's options; psycopg2 (when psycopg 3 is not installed) has none of them.
        if env_bool("DB_PREPARED_STATEMENTS", True) and importlib.util.find_spec("psycopg"):
            config["OPTIONS"] = {**config.get("OPTIONS", {}), **POSTGRES_PREPARED_OPTIONS}
    elif config["ENGINE"] == "django.db.backends.mysql":
        config["OPTIONS"] = {**MARIADB_OPTIONS, **config.get("OPTIONS", {})}
    return config


DATABASES = {"default": database_from_env(BASE_DIR / "var" / "db.sqlite3")}
# On MariaDB Django warns that it creates the partial indexes without their condition (W037)
# and skips the unique constraint on an expression (W044): migrations of their own make
# both as MariaDB can have them (eventbus 0008, accounts 0003; docs/operating.md#mariadb), so
# the warnings have nothing left to say, and `check --deploy --fail-level WARNING` passes.
SILENCED_SYSTEM_CHECKS = (
    ["models.W037", "models.W044"]
    if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql"
    else []
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# `collectstatic` writes here (make serve, make split); whitenoise serves it.
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "var" / "static")))

LOGIN_URL = "/api/auth/login/"

# The largest request body read into memory (Django's forms and the API's JSON parser).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)

CACHE_TABLE = "django_cache"


def cache_from_env() -> dict[str, object]:
    """One cache shared by every process (DRF's throttle counts live in it): Redis when
    REDIS_URL is set (redis://host:6379/0), else the database's CACHE_TABLE, which
    ``migrate`` makes (config.cachetable)."""
    redis_url = env_str("REDIS_URL", "")
    if redis_url:
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", ""),
        }
    return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_TABLE}


CACHES = {"default": cache_from_env()}

REST_FRAMEWORK = {
    # JSON nested at most 32 levels (deeper is a 400, never a 500); forms as DRF's.
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "config.authentication.JWTCookieAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "config.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    # Per client (the user, else the address NUM_PROXIES trusted proxies report), for the
    # views that name the scope (accounts.api.throttles.ScopedClientThrottle).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "register": env_str("THROTTLE_REGISTER_RATE", "30/hour"),
        "token_refresh": env_str("THROTTLE_TOKEN_REFRESH_RATE", "120/hour"),
    },
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "UPDATE_LAST_LOGIN": False,
    # Each refresh gives a new refresh token and blacklists the one sent; logout and
    # deactivation blacklist too (rest_framework_simplejwt.token_blacklist). Access tokens are
    # checked by signature alone (orders has only the public key), so they stay short-lived.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # The user of a verified token alone (orders), named by the token's username claim.
    "TOKEN_USER_CLASS": "config.authentication.CustomerTokenUser",
}

# The browsable API's login (/api/auth/login/) hands a browser the customer's JWTs as cookies,
# as dj-rest-auth's JWT cookie mode does: HttpOnly, SameSite=Lax, Secure outside development
# (config/settings/hardening.py). The access token goes to every path, so each service that
# verifies tokens (orders with the public key alone) reads it, whatever its port; the refresh
# token only to /api/auth/, where logout blacklists it. Cookies sent this way need DRF's CSRF
# check (config.authentication); a bearer header does not.
JWT_AUTH_COOKIE = "api-access"
JWT_AUTH_REFRESH_COOKIE = "api-refresh"
JWT_AUTH_REFRESH_COOKIE_PATH = "/api/auth/"
JWT_AUTH_SAMESITE = "Lax"
JWT_AUTH_SECURE = False
# Split mode: where a service without the login (orders) sends a browser to log in, and the
# other services of the site the login may send it back to ("host:port").
API_LOGIN_URL = env_str("API_LOGIN_URL", "")
API_LOGIN_REDIRECT_HOSTS = env_list("API_LOGIN_REDIRECT_HOSTS", [])

SPECTACULAR_SETTINGS = {
    "TITLE": "Modular monolith API",
    "DESCRIPTION": "accounts and orders, two modules that talk only through the event bus.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

EVENTBUS = {
    "DELIVERY": env_str("EVENTBUS_DELIVERY", "inline"),
    "MAX_ATTEMPTS": env_int("EVENTBUS_MAX_ATTEMPTS", 8),
    "TRANSPORT": env_str("EVENTBUS_TRANSPORT", "local"),
    "BROKER_URL": env_str("EVENTBUS_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"),
    "EXCHANGE": env_str("EVENTBUS_EXCHANGE", "eventbus"),
    "QUEUE_PREFIX": env_str("EVENTBUS_QUEUE_PREFIX", ""),
    # Prometheus counters fed by the bus's lifecycle signals (eventbus.metrics), on /metrics.
    "METRICS": env_bool("EVENTBUS_METRICS", True),
}

# Django tasks (django.tasks) go through the bus's outbox: enqueued in the caller's
# transaction, run by `manage.py eventbus worker` (docs/django-tasks.md).
TASKS = {
    "default": {
        "BACKEND": "eventbus.tasks.OutboxTaskBackend",
        "QUEUES": ["default", "emails"],
    }
}

# /metrics answers a staff session, or this bearer token when it is set.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# Login throttling (django-axes), on every login path: the API, the browsable API, the admin.
# Counts live in axes' tables, so every process shares them; config.login_attempts takes each
# count atomically, before the password is checked.
AXES_HANDLER = "config.login_attempts.AtomicDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("LOGIN_FAILURE_WINDOW_SECONDS", 300))
# Per username, and per username and address; never per address alone, so one client's typos
# do not lock out everyone behind the same address (a NAT, a reverse proxy).
AXES_LOCKOUT_PARAMETERS = ["username", ["username", "ip_address"]]
AXES_USERNAME_CALLABLE: str | None = "accounts.usernames.axes_username"
AXES_RESET_ON_SUCCESS = True
# A refused attempt is not counted, so the lockout ends one cool-off after the last failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HTTP_RESPONSE_CODE = 429  # axes' lockout page (admin, browsable API) answers 429 too
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# The client address, for axes as for DRF's throttles (see TRUSTED_PROXY_COUNT above).
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_PROXY_ORDER = "right-most"
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if TRUSTED_PROXY_COUNT else ("REMOTE_ADDR",)
)

LOGGING = logging_config(json=False)

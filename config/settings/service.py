"""What both split-mode services share: one module plus eventbus, RabbitMQ, RS256 tokens.

A service settings module sets SERVICE_MODULE and calls ``service_settings()``; everything
else comes from the environment, like production:

    DATABASE_URL                 this service's own database
    EVENTBUS_BROKER_URL          RabbitMQ (default amqp://guest:guest@127.0.0.1:5672//)
    JWT_PUBLIC_KEY_PATH          PEM public key: every service verifies tokens with it
    JWT_PRIVATE_KEY_PATH         PEM private key: only the accounts service signs tokens
"""

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_list, env_str
from config.logs import logging_config

from .base import INSTALLED_APPS as MONOLITH_APPS

MODULES = ("accounts", "orders")


def read_key(variable: str, *, required: bool) -> str | None:
    path = env_str(variable, "")
    if not path:
        if required:
            raise ImproperlyConfigured(
                f"Set {variable} to a PEM file (`make keys` makes a development pair)."
            )
        return None
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise ImproperlyConfigured(f"{variable}={path} cannot be read: {exc}") from exc


def signs_tokens(module: str) -> bool:
    """Only accounts signs tokens (and rotates and blacklists refresh tokens)."""
    return module == "accounts"


def service_settings(module: str, simple_jwt: dict[str, Any]) -> dict[str, Any]:
    """The settings that make the monolith's settings a service of one module."""
    others = [m for m in MODULES if m != module]
    signs = signs_tokens(module)
    # Only accounts issues refresh tokens, so only it keeps the blacklist.
    dropped = {*others, "config.apps.ProjectConfig"}
    if not signs:
        dropped.add("rest_framework_simplejwt.token_blacklist")
    apps = [a for a in MONOLITH_APPS if a not in dropped]
    return {
        "INSTALLED_APPS": apps,
        "ROOT_URLCONF": f"config.urls_{module}",
        "DEBUG": env_bool("DJANGO_DEBUG", False),
        "ALLOWED_HOSTS": env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"]),
        # JSON lines with the correlation id, like production.
        "LOGGING": logging_config(json=True),
        "SIMPLE_JWT": {
            **simple_jwt,
            "ALGORITHM": "RS256",
            # Only accounts holds the private key; the others can verify, never sign.
            "SIGNING_KEY": read_key("JWT_PRIVATE_KEY_PATH", required=True) if signs else None,
            "VERIFYING_KEY": read_key("JWT_PUBLIC_KEY_PATH", required=True),
        },
    }

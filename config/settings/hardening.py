"""What every production-like settings module shares: the secret key from the environment
(never the development one with DEBUG off) and HTTPS hardening.

``production`` and the split services' settings star-import this module and set
``SECRET_KEY = secret_key(debug=DEBUG)`` once they know DEBUG.
"""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str

from .base import DEVELOPMENT_SECRET_KEY

__all__ = [
    "CSRF_COOKIE_SECURE",
    "JWT_AUTH_SECURE",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "X_FRAME_OPTIONS",
    "secret_key",
]


def secret_key(*, debug: bool) -> str:
    """``DJANGO_SECRET_KEY``; with DEBUG off, raise ImproperlyConfigured when it is unset or
    the development key, rather than sign sessions and tokens with a key in the code."""
    key = env_str("DJANGO_SECRET_KEY", "")
    if debug:
        return key or DEVELOPMENT_SECRET_KEY
    if not key or key == DEVELOPMENT_SECRET_KEY:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set (or is the development key) and DEBUG is off: "
            "these settings refuse to sign sessions and tokens with a key from the code. "
            "Set DJANGO_SECRET_KEY to a long random value, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    return key


# Behind a proxy that terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# Load balancers probe over plain HTTP: the health endpoints answer without a redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# Cookies only over HTTPS; DJANGO_SECURE_COOKIES=false only for plain HTTP on a laptop.
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
JWT_AUTH_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

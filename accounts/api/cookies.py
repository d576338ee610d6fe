"""The JWT cookies of the browsable API: set at login, read at logout, deleted at logout.

Names, path, SameSite and Secure come from the ``JWT_AUTH_*`` settings
(config/settings/base.py); lifetimes from ``SIMPLE_JWT``, so a cookie never outlives its
token. Both cookies are HttpOnly: page scripts never read a token.
"""

from datetime import timedelta
from typing import Literal, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework_simplejwt.settings import api_settings as jwt_settings

type SameSite = Literal["Lax", "Strict", "None"]


def jwt_cookies_set(response: HttpResponse, *, access: str, refresh: str) -> None:
    """Put the access token (every path) and the refresh token (``/api/auth/`` only) on
    the response."""
    _set(response, settings.JWT_AUTH_COOKIE, access, jwt_settings.ACCESS_TOKEN_LIFETIME, "/")
    _set(
        response,
        settings.JWT_AUTH_REFRESH_COOKIE,
        refresh,
        jwt_settings.REFRESH_TOKEN_LIFETIME,
        settings.JWT_AUTH_REFRESH_COOKIE_PATH,
    )


def jwt_cookies_delete(response: HttpResponse) -> None:
    """Tell the browser to drop both cookies (same name, path and SameSite as set)."""
    for name, path in (
        (settings.JWT_AUTH_COOKIE, "/"),
        (settings.JWT_AUTH_REFRESH_COOKIE, settings.JWT_AUTH_REFRESH_COOKIE_PATH),
    ):
        response.delete_cookie(name, path=path, samesite=cast(SameSite, settings.JWT_AUTH_SAMESITE))


def refresh_cookie_value(request: HttpRequest) -> str:
    """The refresh token the browser sent, or ``""``."""
    return request.COOKIES.get(settings.JWT_AUTH_REFRESH_COOKIE, "")


def _set(response: HttpResponse, name: str, value: str, lifetime: timedelta, path: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=lifetime,
        path=path,
        secure=settings.JWT_AUTH_SECURE,
        httponly=True,
        samesite=cast(SameSite, settings.JWT_AUTH_SAMESITE),
    )

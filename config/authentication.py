"""The customer's JWT from the browser's cookie, for the browsable API.

The browsable API's login (``accounts.api.browser``) puts the access token in the
``JWT_AUTH_COOKIE`` cookie. A browser sends that cookie with every request to the host,
including forged ones from other sites, so a request authenticated by it must pass DRF's
CSRF check (the token in a form field or the ``X-CSRFToken`` header), exactly as a session
must. A bearer header needs no such check: no browser sends one on its own.

A missing, expired or tampered cookie authenticates no one (the request goes on as
anonymous and the view's permissions answer it), so a stale cookie never blocks the pages
that need no login. A valid token whose user is gone or inactive is refused, as a bearer
token is.
"""

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import (
    JWTAuthentication,
    JWTStatelessUserAuthentication,
)
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.models import TokenUser


class JWTCookieAuthentication(JWTAuthentication):
    """The access token in the ``JWT_AUTH_COOKIE`` cookie, with DRF's CSRF check; the user
    is looked up (accounts). Raises PermissionDenied (403) when the CSRF check fails."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        raw = request.COOKIES.get(settings.JWT_AUTH_COOKIE)
        if not raw:
            return None
        try:
            token = self.get_validated_token(raw.encode())
        except InvalidToken:
            return None
        user = self.get_user(token)
        # Checked after the token: a request that carries no valid token is anonymous, and
        # then it is the view's permissions, not CSRF, that answer it.
        SessionAuthentication().enforce_csrf(request)
        return user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class JWTStatelessCookieAuthentication(JWTCookieAuthentication, JWTStatelessUserAuthentication):
    """The same cookie, verified without a user lookup (orders, which has only the token)."""


class CustomerTokenUser(TokenUser):
    """simplejwt's user of a token alone, shown by its ``username`` claim (the browsable
    API's menu names it) instead of "TokenUser <id>"."""

    def __str__(self) -> str:
        return self.username or super().__str__()


class JWTCookieScheme(OpenApiAuthenticationExtension):
    """The cookie in the OpenAPI document: an API key in ``JWT_AUTH_COOKIE``."""

    target_class = JWTCookieAuthentication
    name = "jwtCookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": settings.JWT_AUTH_COOKIE}


class JWTStatelessCookieScheme(JWTCookieScheme):
    target_class = JWTStatelessCookieAuthentication
    name = "jwtStatelessCookieAuth"

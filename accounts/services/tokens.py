"""accounts token issuing: a username and password in, a pair of JWTs out, with throttling;
refresh tokens rotated, revoked at logout, and all revoked when the user is deactivated.

The caller passes the HTTP request the attempt came in (the API view's request, or one a
command builds): it is handed to ``authenticate()`` only, where django-axes reads the client
address from it and counts the attempt (see ``config.login_attempts``). The service reads
back only axes' verdict on it (``axes_locked_out``: refused without testing the password).
"""

from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.events import UserLoggedIn
from accounts.exceptions import (
    NO_ACTIVE_ACCOUNT,
    InvalidCredentials,
    InvalidRefreshToken,
    LoginThrottled,
)
from accounts.login_throttle import login_failures_clear, login_retry_after
from accounts.models import User
from eventbus import publish


@dataclass(frozen=True)
class LoginResult:
    """A successful login: the user and a fresh pair of JWTs."""

    user: User
    access: str
    refresh: str


def user_login(*, username: str, password: str, request: HttpRequest | Request) -> LoginResult:
    """Check the credentials and return JWTs; publish ``accounts.user_logged_in``.

    ``request`` is the HTTP request (Django's or DRF's) the attempt came in; axes counts the
    attempt against the username and against the username with the client address. Raises
    LoginThrottled (with the seconds to wait) when the username is locked out, without
    checking the password; raises InvalidCredentials for a wrong password, an unknown
    username or an inactive account alike. A success clears the username's failures. The
    last-login time and the event are written in one transaction.
    """
    # DRF's Request stands in for Django's, as DRF's own authentication passes it; axes then
    # marks the lockout on it, so axes' middleware leaves this API's own 429 as it is.
    user = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise LoginThrottled(login_retry_after(username=username))
    if not isinstance(user, User) or not user.is_active:
        raise InvalidCredentials()
    login_failures_clear(username=username)
    with transaction.atomic():
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
        publish(UserLoggedIn(user_id=user.pk))
    refresh = _refresh_token_for(user)
    return LoginResult(user=user, access=str(refresh.access_token), refresh=str(refresh))


@dataclass(frozen=True)
class TokenPair:
    """A fresh access token and the refresh token that replaces the one presented."""

    access: str
    refresh: str


def refresh_token_rotate(*, refresh: str) -> TokenPair:
    """Exchange a refresh token for a new access token and a new refresh token; the one
    presented is blacklisted (``ROTATE_REFRESH_TOKENS``, ``BLACKLIST_AFTER_ROTATION``).

    Raises InvalidRefreshToken when the token is malformed, expired or blacklisted, or its
    user is gone or inactive. Runs in one transaction holding the token's outstanding row,
    so a token presented twice at once is rotated once and refused the second time.
    """
    with transaction.atomic():
        token = _refresh_token_locked(refresh)
        user_id = token.payload.get("user_id")
        user = User.objects.filter(pk=str(user_id)).first() if user_id else None
        if user is None or not user.is_active:
            raise InvalidRefreshToken(NO_ACTIVE_ACCOUNT, code=None)
        token.blacklist()
        fresh = _refresh_token_for(user)
    return TokenPair(access=str(fresh.access_token), refresh=str(fresh))


def refresh_token_revoke(*, refresh: str) -> None:
    """Log out: blacklist the refresh token, so it can be neither used nor rotated again.

    Raises InvalidRefreshToken for a token that is malformed, expired or already
    blacklisted. The access tokens issued with it stay valid until they expire
    (``ACCESS_TOKEN_LIFETIME``, minutes): they are checked by signature alone.
    """
    with transaction.atomic():
        _refresh_token_locked(refresh).blacklist()


def refresh_tokens_revoke_all(*, user: User) -> int:
    """Blacklist every outstanding refresh token of the user; returns how many were added.

    Joins the caller's transaction (``user_deactivate`` calls it beside its event).
    """
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    added = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(added)


def _refresh_token_for(user: User) -> RefreshToken:
    """A new refresh token (outstanding, for the blacklist) whose access tokens carry the
    ``username`` claim too: a service that has only the token (orders) can show whom it
    serves without asking accounts."""
    refresh = RefreshToken.for_user(user)
    refresh["username"] = user.username
    return refresh


def _refresh_token_locked(refresh: str) -> RefreshToken:
    """The verified token, with its outstanding row locked until the transaction ends.

    Verified again once locked: a concurrent rotation may have blacklisted it meanwhile.
    """
    try:
        # The stubs type the argument as a Token; simplejwt takes the encoded string.
        token = RefreshToken(refresh)  # type: ignore[arg-type]
        OutstandingToken.objects.select_for_update().filter(jti=token["jti"]).first()
        token.check_blacklist()
    except TokenError as exc:
        raise InvalidRefreshToken(str(exc)) from None
    return token

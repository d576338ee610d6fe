"""accounts token issuing: a username and password in, a pair of JWTs out, with throttling.

The caller passes the HTTP request the attempt came in (the API view's request, or one a
command builds): it is handed to ``authenticate()`` only, where django-axes reads the client
address from it and counts the attempt (see ``config.login_attempts``). The service reads no
other part of it.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.events import UserLoggedIn
from accounts.exceptions import InvalidCredentials, LoginThrottled
from accounts.login_throttle import login_failures_clear, login_retry_after
from accounts.models import User
from eventbus import publish


@dataclass(frozen=True)
class LoginResult:
    """A successful login: the user and a fresh pair of JWTs."""

    user: User
    access: str
    refresh: str


def user_login(*, username: str, password: str, request: Any) -> LoginResult:
    """Check the credentials and return JWTs; publish ``accounts.user_logged_in``.

    ``request`` is the HTTP request (Django's or DRF's) the attempt came in; axes counts the
    attempt against the username and against the username with the client address. Raises
    LoginThrottled (with the seconds to wait) when the username is locked out, without
    checking the password; raises InvalidCredentials for a wrong password, an unknown
    username or an inactive account alike. A success clears the username's failures. The
    last-login time and the event are written in one transaction.
    """
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
    refresh = RefreshToken.for_user(user)
    return LoginResult(user=user, access=str(refresh.access_token), refresh=str(refresh))

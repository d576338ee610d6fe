"""accounts token issuing: a username and password in, a pair of JWTs out, with throttling.

Takes plain values (no HTTP request), so the API, a command or another transport can log a
user in the same way; the caller says which client address the attempt came from.
"""

from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.events import UserLoggedIn
from accounts.exceptions import InvalidCredentials, LoginThrottled
from accounts.login_throttle import (
    login_failure_record,
    login_failures_clear,
    login_retry_after,
)
from accounts.models import User
from eventbus import publish


@dataclass(frozen=True)
class LoginResult:
    """A successful login: the user and a fresh pair of JWTs."""

    user: User
    access: str
    refresh: str


def user_login(*, username: str, password: str, client_ip: str | None) -> LoginResult:
    """Check the credentials and return JWTs; publish ``accounts.user_logged_in``.

    ``client_ip`` is the address the attempt came from (None when unknown: then only the
    username's failures count). Raises LoginThrottled (with the seconds to wait) when the
    username or the client address has too many recent failures, without checking the
    password; raises InvalidCredentials, and counts a failure, for a wrong password, an
    unknown username or an inactive account alike. A success clears the username's
    failures. The last-login time and the event are written in one transaction.
    """
    retry_after = login_retry_after(username=username, client_ip=client_ip)
    if retry_after is not None:
        raise LoginThrottled(retry_after)
    user = authenticate(username=username, password=password)
    if not isinstance(user, User) or not user.is_active:
        login_failure_record(username=username, client_ip=client_ip)
        raise InvalidCredentials()
    login_failures_clear(username=username)
    with transaction.atomic():
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
        publish(UserLoggedIn(user_id=user.pk))
    refresh = RefreshToken.for_user(user)
    return LoginResult(user=user, access=str(refresh.access_token), refresh=str(refresh))

"""Errors raised by the accounts services: one root, small specific subclasses.

Each class declares how the API answers it: ``status_code``, ``detail`` (the body's message,
by default the exception's own) and ``retry_after_seconds`` (the ``Retry-After`` header, when
waiting helps). ``config.exceptions`` reads them; no view maps an error by hand.
"""

from typing import Any

INVALID_CREDENTIALS = "Invalid username or password."
TOO_MANY_FAILURES = "Too many failed login attempts."
NO_ACTIVE_ACCOUNT = "No active account found for the given token."


class AccountsError(Exception):
    """Root of every error the accounts services raise on purpose."""

    status_code: int = 400
    retry_after_seconds: int | None = None

    @property
    def detail(self) -> str | dict[str, Any]:
        """What an API client is told: the message, unless a subclass says otherwise."""
        return str(self)


class InvalidCredentials(AccountsError):
    """The username and password do not match an active account (deliberately vague)."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__(INVALID_CREDENTIALS)


class LoginThrottled(AccountsError):
    """Too many failed logins for the username or the client address."""

    status_code = 429

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"Too many failed logins; retry in {retry_after_seconds} seconds.")
        self.retry_after_seconds = retry_after_seconds

    @property
    def detail(self) -> str:
        """DRF's wording for a throttled request, which the login API has always sent."""
        unit = "second" if self.retry_after_seconds == 1 else "seconds"
        return f"{TOO_MANY_FAILURES} Expected available in {self.retry_after_seconds} {unit}."


class DeactivationForbidden(AccountsError):
    """The acting user may not deactivate this user (only a superuser deactivates one)."""

    status_code = 403

    def __init__(self, *, username: str) -> None:
        super().__init__(
            f"Only a superuser can deactivate the superuser {username!r}; ask a superuser to do it."
        )
        self.username = username


class InvalidRefreshToken(AccountsError):
    """A refresh token that is malformed, expired, blacklisted (used, logged out, or its
    user deactivated) or whose user is gone or inactive. Answered as simplejwt answers a bad
    token, so clients see one shape."""

    status_code = 401

    def __init__(self, message: str, *, code: str | None = "token_not_valid") -> None:
        super().__init__(message)
        self.code = code

    @property
    def detail(self) -> str | dict[str, Any]:
        if self.code is None:
            return str(self)
        return {"detail": str(self), "code": self.code}

"""The one way usernames are compared: NFKC-normalised and case-folded (``username_key``).

Registration stores the key beside the username, the unique constraint is on the key, and
login looks users up by it; login throttling counts failures under the same key.
"""

import unicodedata
from typing import Any

from django.http import HttpRequest


def username_key(username: str) -> str:
    """The form two usernames must share to be the same account: NFKC, then casefold, then
    NFKC again (casefolding can produce characters that compose differently)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """django-axes' AXES_USERNAME_CALLABLE: count attempts under the username's key, so
    ``Alice`` and ``ALICE`` share one count, as they share one account."""
    raw = (credentials or {}).get("username")
    if raw is None:
        raw = getattr(request, "data", request.POST).get("username")
    return username_key(raw) if isinstance(raw, str) else None

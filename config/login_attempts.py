"""django-axes' database handler with the count taken atomically, for every login path.

axes checks the lockout before the password test and counts the failure after it, so
parallel attempts all pass the check before any is counted. This handler counts each attempt
*before* its password is checked, in one transaction holding a lock on the username: of any
number of parallel attempts, at most ``AXES_FAILURE_LIMIT`` reach the password test. A
successful login then clears the username's count (``AXES_RESET_ON_SUCCESS``, or the accounts
login service), so the counted attempt does not stand against it.

``request.axes_locked_out`` is set only when an attempt was refused without testing its
password (axes' middleware then answers with the lockout page): the attempt that reaches the
limit is answered as an ordinary failure, the next one is refused.
"""

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_query_str
from axes.models import AccessAttempt
from django.db import connections, router, transaction
from django.db.models import F
from django.http import HttpRequest


class AtomicDatabaseHandler(AxesDatabaseHandler):
    """Counts an attempt before its password is tested, under a per-username lock."""

    def is_allowed(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        if self.is_blacklisted(request, credentials):
            return False
        if self.is_whitelisted(request, credentials):
            return True
        username = get_client_username(request, credentials)
        using = router.db_for_write(AccessAttempt)
        with transaction.atomic(using=using):
            lock_username(username, using=using)
            self.clean_expired_user_attempts(request, credentials)
            if self.is_locked(request, credentials):
                return False
            self._count_attempt(request, username)
        request.axes_attempt_counted = True  # type: ignore[attr-defined]
        return True

    def user_login_failed(
        self,
        sender: Any,
        credentials: dict[str, Any],
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> None:
        """A failure already counted by ``is_allowed`` is not counted again; a refused one
        (locked out) is not counted at all; anything else (a backend that ran without
        ``is_allowed``) is counted as axes does."""
        if request is not None and getattr(request, "axes_attempt_counted", False):
            request.axes_attempt_counted = False  # type: ignore[attr-defined]
            return
        super().user_login_failed(sender, credentials, request, **kwargs)

    def _count_attempt(self, request: Any, username: str | None) -> None:
        attempt, created = AccessAttempt.objects.select_for_update().get_or_create(
            username=username,
            ip_address=request.axes_ip_address,
            user_agent=request.axes_user_agent,
            defaults={
                "get_data": get_query_str(request.GET).replace("\0", "0x00"),
                "post_data": "",
                "http_accept": request.axes_http_accept,
                "path_info": request.axes_path_info,
                "failures_since_start": 1,
                "attempt_time": request.axes_attempt_time,
            },
        )
        if not created:
            AccessAttempt.objects.filter(pk=attempt.pk).update(
                failures_since_start=F("failures_since_start") + 1,
                attempt_time=request.axes_attempt_time,
                path_info=request.axes_path_info,
            )


def lock_username(username: str | None, *, using: str) -> None:
    """Hold a lock on the username until the current transaction ends.

    PostgreSQL: a transaction-scoped advisory lock on the username's hash. SQLite: nothing to
    add, since its transactions begin IMMEDIATE (``config.settings.base.SQLITE_OPTIONS``) and
    so already hold the database's one write lock.
    """
    connection = connections[using]
    if username is None or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"axes:{username}"]
        )

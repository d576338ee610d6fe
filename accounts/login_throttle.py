"""Login throttling, as django-axes keeps it: how long a locked-out username must wait.

axes counts failed logins in its database tables (shared by every process), per username and
per username and client address (``AXES_LOCKOUT_PARAMETERS``); ``config.login_attempts``
makes the count atomic. This module only reads what axes stored.
"""

import math

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.db.models import Max
from django.utils import timezone

from accounts.usernames import username_key


def login_retry_after(*, username: str) -> int:
    """Seconds until the username's lockout ends: its latest counted failure plus the
    cool-off (``AXES_COOLOFF_TIME``), at least one second."""
    cool_off = get_cool_off()
    latest = AccessAttempt.objects.filter(username=username_key(username)).aggregate(
        latest=Max("attempt_time")
    )["latest"]
    if cool_off is None or latest is None:
        return int(cool_off.total_seconds()) if cool_off else 1
    return max(1, math.ceil((latest + cool_off - timezone.now()).total_seconds()))


def login_failures_clear(*, username: str) -> None:
    """Forget the username's counted attempts (after a successful login), from any address."""
    AccessAttempt.objects.filter(username=username_key(username)).delete()

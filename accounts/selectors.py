"""accounts reads: a user's profile with the order statistics kept from order events."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Sum

from accounts.models import OrderRecord, User

CENT = Decimal("0.01")


@dataclass(frozen=True)
class OrderStats:
    """Orders that are not cancelled: how many, and their totals per currency."""

    orders_count: int
    total_spent: dict[str, Decimal]


@dataclass(frozen=True)
class UserProfile:
    """What a user sees of their own account."""

    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    date_joined: datetime
    profile_version: int
    orders_count: int
    total_spent: dict[str, Decimal]


def user_order_stats(*, user_id: int) -> OrderStats:
    """Count and per-currency totals of the user's orders that were not cancelled.

    A single grouped query; ``total_spent`` is empty when there are none.
    """
    rows = (
        OrderRecord.objects.filter(user_id=user_id, cancelled=False)
        .values("currency")
        .annotate(count=Count("id"), spent=Sum("total"))
        .order_by("currency")
    )
    count = 0
    spent: dict[str, Decimal] = {}
    for row in rows:
        count += row["count"]
        spent[row["currency"]] = Decimal(row["spent"]).quantize(CENT)
    return OrderStats(orders_count=count, total_spent=spent)


def user_profile_get(*, user: User) -> UserProfile:
    """The user's profile and order statistics."""
    stats = user_order_stats(user_id=user.pk)
    return UserProfile(
        id=user.pk,
        username=user.username,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        date_joined=user.date_joined,
        profile_version=user.profile_version,
        orders_count=stats.orders_count,
        total_spent=stats.total_spent,
    )

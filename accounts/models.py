"""accounts tables: the user, with the order statistics kept from order events."""

from decimal import Decimal
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class AccountUserManager(UserManager["User"]):
    """Django's user manager, with usernames looked up case-insensitively for login."""

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(username__iexact=username)


class User(AbstractUser):
    """An account. Username and email are unique regardless of case.

    ``profile_version`` starts at 1 and grows by one on every profile change (see
    ``accounts.services.users.user_update_profile``), so readers of the events can ignore stale ones.
    """

    email = models.EmailField("email address", max_length=254)
    profile_version = models.PositiveIntegerField(
        default=1, help_text="Grows by one on every profile change."
    )

    objects: ClassVar[AccountUserManager] = AccountUserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with that email already exists.",
            ),
            models.CheckConstraint(
                condition=Q(profile_version__gte=1),
                name="accounts_user_profile_version_positive",
            ),
        ]


class OrderRecord(models.Model):
    """What accounts knows of one order, built from order events to compute user statistics.

    ``placed`` and ``cancelled`` only ever go from False to True, so applying the events
    twice or in any order (a cancellation before its placement) gives the same row.
    """

    order_id = models.BigIntegerField(unique=True, help_text="The order's id in orders.")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="order_records")
    total = models.DecimalField(max_digits=16, decimal_places=2)
    currency = models.CharField(max_length=3)
    placed = models.BooleanField(default=False, help_text="orders.order_placed was applied.")
    cancelled = models.BooleanField(default=False, help_text="orders.order_cancelled was applied.")
    placed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-order_id"]
        indexes = [models.Index(fields=["user", "cancelled"], name="accounts_orderrec_user_cancel")]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__gte=Decimal("0")), name="accounts_orderrecord_total_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(placed=True) | Q(cancelled=True),
                name="accounts_orderrecord_placed_or_cancelled",
            ),
        ]

    def __str__(self) -> str:
        state = "cancelled" if self.cancelled else "placed"
        return f"order {self.order_id} ({self.total} {self.currency}, {state})"

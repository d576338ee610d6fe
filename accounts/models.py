"""accounts tables: the user, with the order statistics kept from order events."""

from collections.abc import Collection
from decimal import Decimal
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.usernames import username_key

USERNAME_KEY_MAX_LENGTH = 150
USERNAME_TAKEN = "A user with that username already exists."


class AccountUserManager(UserManager["User"]):
    """Django's user manager, with usernames looked up by their key for login (every login
    path: the API, the browsable API, the admin), so one typed name finds at most one user."""

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(username_key=username_key(username or ""))


class User(AbstractUser):
    """An account. Username and email are unique regardless of case.

    ``username_key`` is the username as every comparison sees it (NFKC, casefolded; see
    ``accounts.usernames``). It is derived from the username on every save and unique, so two
    usernames that compare equal cannot both exist, on SQLite and PostgreSQL alike.

    ``profile_version`` starts at 1 and grows by one on every profile change (see
    ``accounts.services.users.user_update_profile``), so readers of the events can ignore stale ones.
    """

    email = models.EmailField("email address", max_length=254)
    profile_version = models.PositiveIntegerField(
        default=1, help_text="Grows by one on every profile change."
    )

    username_key = models.CharField(
        max_length=USERNAME_KEY_MAX_LENGTH,
        editable=False,
        help_text="The username as compared: NFKC-normalised and casefolded.",
    )

    objects: ClassVar[AccountUserManager] = AccountUserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                fields=["username_key"],
                name="accounts_user_username_key_unique",
                violation_error_message=USERNAME_TAKEN,
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

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        """Django's constraint checks, with the username's key checked whenever the username
        is (a form has no field for the key), its clash reported on the username."""
        excluded = set(exclude or ())
        errors: dict[str, list[ValidationError]] = {}
        try:
            super().validate_constraints(exclude={*excluded, "username_key"})
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if "username" not in excluded:
            others = User.objects.exclude(pk=self.pk) if self.pk else User.objects.all()
            if others.filter(username_key=username_key(self.username)).exists():
                errors.setdefault("username", []).append(ValidationError(USERNAME_TAKEN))
        if errors:
            raise ValidationError(errors)

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep ``username_key`` derived from the username, whoever saves (the services,
        ``createsuperuser``, the admin's add form)."""
        self.username_key = username_key(self.username)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "username_key"}
        super().save(*args, **kwargs)


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

"""accounts user lifecycle: register, update the profile, deactivate, grant staff rights.

Each function that changes state does it in one transaction and publishes its event inside
that transaction, so the change and the event commit together or not at all. Bad input raises
django.core.exceptions.ValidationError with messages per field, before anything is written.
"""

from collections.abc import Iterable
from typing import Literal

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower

from accounts.events import UserDeactivated, UserProfileUpdated, UserRegistered
from accounts.exceptions import DeactivationForbidden
from accounts.models import USERNAME_KEY_MAX_LENGTH, USERNAME_TAKEN, User
from accounts.services.tokens import refresh_tokens_revoke_all
from accounts.usernames import username_key
from eventbus import publish

PASSWORD_MAX_LENGTH = 128
EMAIL_TAKEN = "A user with that email already exists."
USERNAME_KEY_TOO_LONG = (
    f"Ensure this username has at most {USERNAME_KEY_MAX_LENGTH} characters once normalised "
    "(some letters, such as ß, count as two); choose a shorter one."
)

DeactivationReason = Literal["self_service", "staff"]
DEACTIVATION_REASONS: tuple[str, ...] = ("self_service", "staff")


def user_register(
    *, username: str, email: str, password: str, first_name: str = "", last_name: str = ""
) -> User:
    """Create an active user and publish ``accounts.user_registered`` (profile_version 1).

    Raises ValidationError (per field) if the username or email is malformed, too long or
    already taken by another user in any letter case (usernames compare by their key: NFKC,
    casefolded; see ``accounts.usernames``), or if the password is blank, longer than 128
    characters or rejected by AUTH_PASSWORD_VALIDATORS. Runs in one transaction.
    """
    user = User(
        username=User.normalize_username(username),
        email=User.objects.normalize_email(email.strip()),
        first_name=first_name,
        last_name=last_name,
    )
    errors = _field_errors(user, ("username", "email", "first_name", "last_name"))
    if "username" not in errors and len(username_key(user.username)) > USERNAME_KEY_MAX_LENGTH:
        errors["username"] = [USERNAME_KEY_TOO_LONG]
    password_errors = _password_errors(password, user)
    if password_errors:
        errors["password"] = password_errors
    with transaction.atomic():
        _add_uniqueness_errors(errors, user)
        if errors:
            raise ValidationError(errors)
        user.set_password(password)
        _save_unique(user)
        publish(
            UserRegistered(
                user_id=user.pk,
                username=user.username,
                email=user.email,
                profile_version=user.profile_version,
            )
        )
    return user


def user_update_profile(
    *,
    user: User,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> User:
    """Change the given profile fields (None leaves one as it is); return the fresh user.

    When something changed, bumps ``profile_version`` by one and publishes
    ``accounts.user_profile_updated`` with the new version; when nothing changed, writes and
    publishes nothing. Raises ValidationError (per field) for a malformed, over-long or
    taken email (any letter case) or over-long names. Runs in one transaction, with the user
    row locked so concurrent updates each get their own version.
    """
    requested = {"email": email, "first_name": first_name, "last_name": last_name}
    if email is not None:
        requested["email"] = User.objects.normalize_email(email.strip())
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        changed = [
            field
            for field, value in requested.items()
            if value is not None and value != getattr(current, field)
        ]
        if not changed:
            return current
        for field in changed:
            setattr(current, field, requested[field])
        errors = _field_errors(current, changed)
        _add_uniqueness_errors(errors, current, fields=changed)
        if errors:
            raise ValidationError(errors)
        current.profile_version += 1
        _save_unique(current, update_fields=[*changed, "profile_version"])
        publish(
            UserProfileUpdated(
                user_id=current.pk,
                username=current.username,
                email=current.email,
                first_name=current.first_name,
                last_name=current.last_name,
                profile_version=current.profile_version,
            )
        )
    return current


def user_deactivate(*, user: User, reason: DeactivationReason, by: User | None = None) -> User:
    """Deactivate the user (no more logins or tokens) and publish ``accounts.user_deactivated``.

    ``by`` is the user who does it (a staff member in the admin); None means the user
    themself. Only a superuser can deactivate a superuser: otherwise raises
    DeactivationForbidden and writes nothing. Every outstanding refresh token of the user is
    blacklisted in the same transaction; the access tokens already issued expire on their
    own within ``ACCESS_TOKEN_LIFETIME``. Idempotent: an already inactive user is returned
    unchanged and nothing is published. Raises ValueError for a reason other than
    "self_service" or "staff". Runs in one transaction with the user row locked.
    """
    if reason not in DEACTIVATION_REASONS:
        raise ValueError(
            f"Unknown deactivation reason {reason!r}; use one of {DEACTIVATION_REASONS}."
        )
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        if current.is_superuser and by is not None and not by.is_superuser:
            raise DeactivationForbidden(username=current.username)
        if not current.is_active:
            return current
        current.is_active = False
        current.save(update_fields=["is_active"])
        refresh_tokens_revoke_all(user=current)
        publish(UserDeactivated(user_id=current.pk, reason=reason))
    return current


def user_grant_staff(*, user: User, superuser: bool = True) -> User:
    """Let the user into the admin (staff; superuser unless told otherwise). Idempotent.

    Publishes nothing: staff rights are accounts' own business, not part of its contract.
    """
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        current.is_staff = True
        current.is_superuser = current.is_superuser or superuser
        current.save(update_fields=["is_staff", "is_superuser"])
    return current


def _field_errors(user: User, fields: Iterable[str]) -> dict[str, list[str]]:
    """The model's own field validation (blank, max length, format) for the named fields."""
    wanted = set(fields)
    exclude = {f.name for f in User._meta.get_fields() if f.name not in wanted}
    try:
        user.clean_fields(exclude=exclude)
    except ValidationError as exc:
        return {field: list(messages) for field, messages in exc.message_dict.items()}
    return {}


def _password_errors(password: str, user: User) -> list[str]:
    if not password:
        return ["This field cannot be blank."]
    if len(password) > PASSWORD_MAX_LENGTH:
        return [
            f"Ensure this value has at most {PASSWORD_MAX_LENGTH} characters "
            f"(it has {len(password)})."
        ]
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def _add_uniqueness_errors(
    errors: dict[str, list[str]], user: User, *, fields: Iterable[str] = ("username", "email")
) -> None:
    """Add "already exists" errors for username/email taken by another user, in any case.

    Compares what the unique constraints compare: usernames by ``username_key``, emails with
    the database's LOWER().
    """
    others = User.objects.exclude(pk=user.pk) if user.pk else User.objects.all()
    for field, message in (("username", USERNAME_TAKEN), ("email", EMAIL_TAKEN)):
        if field not in fields or field in errors:
            continue
        value = getattr(user, field)
        if field == "username":
            taken = others.filter(username_key=username_key(value)).exists()
        else:
            taken = others.alias(folded=Lower(field)).filter(folded=Lower(Value(value))).exists()
        if taken:
            errors[field] = [message]


def _save_unique(user: User, *, update_fields: list[str] | None = None) -> None:
    """Save; a concurrent writer that took the username or email first becomes a
    ValidationError instead of an IntegrityError."""
    try:
        with transaction.atomic():
            user.save(update_fields=update_fields)
    except IntegrityError:
        errors: dict[str, list[str]] = {}
        _add_uniqueness_errors(errors, user)
        if errors:
            raise ValidationError(errors) from None
        raise

"""Services called directly (as commands and other tests do): the same rules as the API."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.test import RequestFactory, override_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.events import UserLoggedIn, UserRegistered
from accounts.exceptions import InvalidCredentials, LoginThrottled
from accounts.models import User
from accounts.services import user_login, user_register, user_update_profile
from accounts.tests.conftest import PASSWORD
from eventbus import NotInTransactionError
from eventbus.models import OutboxMessage
from eventbus.testing import PublishedEvents

pytestmark = pytest.mark.django_db


def test_user_register_normalises_email_domain_and_publishes(
    published_events: PublishedEvents,
) -> None:
    # when
    user = user_register(username="bob", email=" bob@EXAMPLE.com ", password=PASSWORD)

    # then
    assert user.email == "bob@example.com"
    assert published_events.events == [
        UserRegistered(user_id=user.pk, username="bob", email="bob@example.com", profile_version=1)
    ]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"username": "", "email": "", "password": ""},
            {
                "username": ["This field cannot be blank."],
                "email": ["This field cannot be blank."],
                "password": ["This field cannot be blank."],
            },
        ),
        (
            {"username": "bob", "email": "bob@", "password": "x" * 129},
            {
                "email": ["Enter a valid email address."],
                "password": ["Ensure this value has at most 128 characters (it has 129)."],
            },
        ),
        (
            {"username": "b" * 151, "email": "bob@example.com", "password": PASSWORD},
            {"username": ["Ensure this value has at most 150 characters (it has 151)."]},
        ),
        (
            {"username": "Alice", "email": "ALICE@example.com", "password": PASSWORD},
            {
                "username": ["A user with that username already exists."],
                "email": ["A user with that email already exists."],
            },
        ),
    ],
)
def test_user_register_raises_validation_error_per_field_and_writes_nothing(
    alice: User,
    published_events: PublishedEvents,
    kwargs: dict[str, str],
    expected: dict[str, list[str]],
) -> None:
    # given
    published_events.clear()

    # when
    with pytest.raises(ValidationError) as raised:
        user_register(**kwargs)

    # then
    assert raised.value.message_dict == expected
    assert User.objects.count() == 1
    assert OutboxMessage.objects.count() == 1
    assert published_events.events == []


def test_user_update_profile_without_changes_returns_the_user_untouched(
    alice: User, published_events: PublishedEvents
) -> None:
    # given
    published_events.clear()

    # when
    result = user_update_profile(user=alice, email="alice@example.com", first_name="")

    # then
    assert result.pk == alice.pk
    assert result.profile_version == 1
    assert published_events.events == []


def test_the_unique_constraints_hold_in_the_database(alice: User) -> None:
    # when / then: even bypassing the services
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="ALICE", email="x@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="x", email="ALICE@EXAMPLE.COM")


def test_services_publish_inside_their_own_transaction(transactional_db: None) -> None:
    # when: no transaction around the call (as in a management command)
    try:
        user = user_register(username="carol", email="carol@example.com", password=PASSWORD)
    except NotInTransactionError:  # pragma: no cover - would mean publish ran outside atomic
        pytest.fail("user_register published outside its transaction")

    # then
    assert OutboxMessage.objects.filter(name="accounts.user_registered").count() == 1
    assert User.objects.get().pk == user.pk


def test_user_login_takes_plain_values_and_returns_a_token_pair(
    alice: User, published_events: PublishedEvents
) -> None:
    # given
    published_events.clear()

    # when: the request is only handed to authenticate(), for django-axes
    result = user_login(username="ALICE", password=PASSWORD, request=attempt("10.0.0.1"))

    # then
    assert result.user == alice
    # The stubs type the argument as a Token; simplejwt takes the encoded string.
    assert AccessToken(result.access)["user_id"] == str(alice.pk)  # type: ignore[arg-type]
    assert RefreshToken(result.refresh)["user_id"] == str(alice.pk)  # type: ignore[arg-type]
    assert published_events.events == [UserLoggedIn(user_id=alice.pk)]


def test_user_login_with_a_wrong_password_raises_invalid_credentials_and_publishes_nothing(
    alice: User, published_events: PublishedEvents
) -> None:
    # given
    published_events.clear()
    outbox_before = OutboxMessage.objects.count()

    # when / then
    with pytest.raises(InvalidCredentials, match=r"^Invalid username or password\.$"):
        user_login(username="alice", password="wrong", request=attempt("10.0.0.1"))
    assert published_events.events == []
    assert OutboxMessage.objects.count() == outbox_before


@override_settings(AXES_FAILURE_LIMIT=1, AXES_COOLOFF_TIME=timedelta(seconds=60))
def test_user_login_after_too_many_failures_raises_login_throttled(
    alice: User, published_events: PublishedEvents
) -> None:
    # given: one failure, the limit
    with pytest.raises(InvalidCredentials):
        user_login(username="alice", password="wrong", request=attempt("10.0.0.1"))
    published_events.clear()

    # when / then: even the right password is not checked
    with pytest.raises(
        LoginThrottled, match=r"^Too many failed logins; retry in 60 seconds\.$"
    ) as raised:
        user_login(username="alice", password=PASSWORD, request=attempt("10.0.0.2"))
    assert raised.value.retry_after_seconds == 60
    assert published_events.events == []


def attempt(ip: str) -> HttpRequest:
    """A login request from the given client address, as a view or a command hands it over."""
    return RequestFactory().post("/api/accounts/login/", REMOTE_ADDR=ip)

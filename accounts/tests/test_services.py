"""Services called directly (as commands and other tests do): the same rules as the API."""

import pytest
from django.core.exceptions import ValidationError

from accounts.events import UserRegistered
from accounts.models import User
from accounts.services import user_register, user_update_profile
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

"""GET/PATCH /api/accounts/me/: the caller's profile, statistics and profile changes."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.events import UserProfileUpdated
from accounts.models import User
from accounts.services import order_record_apply_cancelled, order_record_apply_placed, user_register
from accounts.tests.conftest import PASSWORD
from eventbus.models import OutboxMessage
from eventbus.testing import PublishedEvents

URL = "/api/accounts/me/"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
pytestmark = pytest.mark.django_db


def test_me_requires_credentials(api_client: APIClient) -> None:
    # when
    get = api_client.get(URL)
    patch = api_client.patch(URL, {"first_name": "Eve"}, format="json")

    # then
    assert get.status_code == 401
    assert get.json() == {"detail": "Authentication credentials were not provided."}
    assert patch.status_code == 401
    assert patch.json() == {"detail": "Authentication credentials were not provided."}


def test_me_returns_profile_with_empty_statistics(alice_client: APIClient, alice: User) -> None:
    # when
    response = alice_client.get(URL)

    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "username": "alice",
        "email": "alice@example.com",
        "first_name": "",
        "last_name": "",
        "date_joined": alice.date_joined.isoformat().replace("+00:00", "Z"),
        "profile_version": 1,
        "orders_count": 0,
        "total_spent": {},
    }


def test_me_statistics_count_orders_not_cancelled_per_currency(
    alice_client: APIClient, alice: User
) -> None:
    # given
    bob = user_register(username="bob", email="bob@example.com", password=PASSWORD)
    for order_id, total, currency in [
        (1, "29.90", "EUR"),
        (2, "29.90", "EUR"),
        (3, "10.00", "USD"),
        (4, "99.00", "EUR"),
    ]:
        order_record_apply_placed(
            order_id=order_id,
            user_id=alice.pk,
            total=Decimal(total),
            currency=currency,
            placed_at=WHEN,
        )
    order_record_apply_cancelled(
        order_id=4, user_id=alice.pk, total=Decimal("99.00"), currency="EUR", cancelled_at=WHEN
    )
    order_record_apply_placed(
        order_id=5, user_id=bob.pk, total=Decimal("5.00"), currency="GBP", placed_at=WHEN
    )

    # when
    response = alice_client.get(URL)

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["orders_count"], body["total_spent"]) == (3, {"EUR": "59.80", "USD": "10.00"})


def test_patch_changes_profile_bumps_version_and_publishes_once(
    alice_client: APIClient, alice: User, published_events: PublishedEvents
) -> None:
    # given
    published_events.clear()
    outbox_before = OutboxMessage.objects.count()

    # when
    response = alice_client.patch(
        URL,
        {"email": "alice@new.example.com", "first_name": "Alice", "last_name": "Liddell"},
        format="json",
    )

    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "username": "alice",
        "email": "alice@new.example.com",
        "first_name": "Alice",
        "last_name": "Liddell",
        "date_joined": alice.date_joined.isoformat().replace("+00:00", "Z"),
        "profile_version": 2,
        "orders_count": 0,
        "total_spent": {},
    }
    alice.refresh_from_db()
    assert (alice.email, alice.first_name, alice.profile_version) == (
        "alice@new.example.com",
        "Alice",
        2,
    )
    assert published_events.events == [
        UserProfileUpdated(
            user_id=alice.pk,
            username="alice",
            email="alice@new.example.com",
            first_name="Alice",
            last_name="Liddell",
            profile_version=2,
        )
    ]
    assert OutboxMessage.objects.count() == outbox_before + 1


def test_each_patch_that_changes_something_bumps_the_version(
    alice_client: APIClient, published_events: PublishedEvents
) -> None:
    # when
    alice_client.patch(URL, {"first_name": "A"}, format="json")
    response = alice_client.patch(URL, {"first_name": "B"}, format="json")

    # then
    assert response.json()["profile_version"] == 3
    assert [e.profile_version for e in published_events.of(UserProfileUpdated)] == [2, 3]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "alice@example.com", "first_name": ""},
        {"username": "mallory", "profile_version": 99, "is_staff": True},
    ],
)
def test_patch_that_changes_nothing_publishes_nothing(
    alice_client: APIClient,
    alice: User,
    published_events: PublishedEvents,
    body: dict[str, object],
) -> None:
    # given
    published_events.clear()
    outbox_before = OutboxMessage.objects.count()

    # when
    response = alice_client.patch(URL, body, format="json")

    # then: read-only fields are ignored, and nothing changed
    assert response.status_code == 200
    assert response.json()["profile_version"] == 1
    assert response.json()["username"] == "alice"
    alice.refresh_from_db()
    assert (alice.username, alice.profile_version, alice.is_staff) == ("alice", 1, False)
    assert published_events.events == []
    assert OutboxMessage.objects.count() == outbox_before


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"email": "BOB@example.com"}, {"email": ["A user with that email already exists."]}),
        ({"email": "nope"}, {"email": ["Enter a valid email address."]}),
        ({"email": ""}, {"email": ["This field may not be blank."]}),
        ({"email": None}, {"email": ["This field may not be null."]}),
        ({"last_name": 0}, {"last_name": ["Not a valid string."]}),
        ({"first_name": 1.5}, {"first_name": ["Not a valid string."]}),
        (
            {"first_name": "x" * 151},
            {"first_name": ["Ensure this field has no more than 150 characters."]},
        ),
        (
            {"first_name": "Al", "last_name": "y" * 151},
            {"last_name": ["Ensure this field has no more than 150 characters."]},
        ),
    ],
)
def test_patch_rejects_bad_input_and_writes_nothing(
    alice_client: APIClient,
    alice: User,
    published_events: PublishedEvents,
    body: dict[str, object],
    expected: dict[str, list[str]],
) -> None:
    # given
    user_register(username="bob", email="bob@example.com", password=PASSWORD)
    published_events.clear()
    outbox_before = OutboxMessage.objects.count()

    # when
    response = alice_client.patch(URL, body, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == expected
    alice.refresh_from_db()
    assert (alice.email, alice.first_name, alice.last_name, alice.profile_version) == (
        "alice@example.com",
        "",
        "",
        1,
    )
    assert published_events.events == []
    assert OutboxMessage.objects.count() == outbox_before


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            b'--b\r\nContent-Disposition: form-data; name="email"\r\n\r\n\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
        ),
        (b"email=&first_name=Al", "application/x-www-form-urlencoded"),
    ],
    ids=["multipart", "urlencoded"],
)
def test_patch_refuses_a_blank_email_sent_as_a_form_and_writes_nothing(
    alice_client: APIClient,
    alice: User,
    published_events: PublishedEvents,
    body: bytes,
    content_type: str,
) -> None:
    # given DRF's default reads a blank optional form field as "not sent"
    outbox_before = OutboxMessage.objects.count()

    # when
    response = alice_client.patch(URL, body, content_type=content_type)

    # then
    assert response.status_code == 400
    assert response.json() == {"email": ["This field may not be blank."]}
    alice.refresh_from_db()
    assert (alice.email, alice.first_name, alice.profile_version) == ("alice@example.com", "", 1)
    assert published_events.events == []
    assert OutboxMessage.objects.count() == outbox_before


def test_patch_as_a_form_without_email_keeps_the_email(alice_client: APIClient) -> None:
    # when
    response = alice_client.patch(
        URL, b"first_name=Al", content_type="application/x-www-form-urlencoded"
    )

    # then
    assert response.status_code == 200
    assert (response.json()["email"], response.json()["first_name"]) == ("alice@example.com", "Al")


def test_patch_may_change_the_letter_case_of_own_email(
    alice_client: APIClient, published_events: PublishedEvents
) -> None:
    # when
    response = alice_client.patch(URL, {"email": "Alice@example.com"}, format="json")

    # then
    assert response.status_code == 200
    assert response.json()["email"] == "Alice@example.com"
    assert response.json()["profile_version"] == 2


def test_patch_with_a_body_that_is_not_json_is_400(alice_client: APIClient) -> None:
    # when
    response = alice_client.patch(URL, "nope", content_type="application/json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)"
    }

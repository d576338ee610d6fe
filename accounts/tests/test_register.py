"""POST /api/accounts/register/: creates a user and publishes accounts.user_registered."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.events import UserRegistered
from accounts.models import User
from accounts.tests.conftest import PASSWORD
from eventbus.models import OutboxMessage
from eventbus.testing import PublishedEvents

URL = "/api/accounts/register/"
pytestmark = pytest.mark.django_db


def register(client: APIClient, **overrides: object) -> Any:
    body: dict[str, object] = {
        "username": "alice",
        "email": "alice@example.com",
        "password": PASSWORD,
    }
    body.update(overrides)
    return client.post(URL, {k: v for k, v in body.items() if v is not None}, format="json")


def assert_nothing_written(users: int = 0, outbox: int = 0) -> None:
    assert User.objects.count() == users
    assert OutboxMessage.objects.count() == outbox


def test_register_creates_user_and_publishes_user_registered(
    api_client: APIClient, published_events: PublishedEvents
) -> None:
    # when
    response = register(api_client)

    # then
    assert response.status_code == 201
    user = User.objects.get()
    assert response.json() == {
        "id": user.pk,
        "username": "alice",
        "email": "alice@example.com",
        "first_name": "",
        "last_name": "",
        "date_joined": user.date_joined.isoformat().replace("+00:00", "Z"),
    }
    assert user.check_password(PASSWORD)
    assert user.is_active
    assert user.profile_version == 1
    assert published_events.events == [
        UserRegistered(
            user_id=user.pk, username="alice", email="alice@example.com", profile_version=1
        )
    ]
    assert OutboxMessage.objects.get().name == "accounts.user_registered"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"username": "ALICE", "email": "other@example.com"},
            "username",
            "A user with that username already exists.",
        ),
        (
            {"username": "bob", "email": "Alice@Example.com"},
            "email",
            "A user with that email already exists.",
        ),
    ],
)
def test_register_rejects_taken_username_or_email_in_any_case(
    api_client: APIClient,
    published_events: PublishedEvents,
    overrides: dict[str, str],
    field: str,
    message: str,
) -> None:
    # given
    assert register(api_client).status_code == 201
    published_events.clear()

    # when
    response = register(api_client, **overrides)

    # then
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert_nothing_written(users=1, outbox=1)
    assert published_events.events == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"email": "not-an-email"}, {"email": ["Enter a valid email address."]}),
        (
            {"password": "123456"},
            {
                "password": [
                    "This password is too short. It must contain at least 8 characters.",
                    "This password is too common.",
                    "This password is entirely numeric.",
                ]
            },
        ),
        ({"password": "alice-97"}, {"password": ["The password is too similar to the username."]}),
        ({"password": ""}, {"password": ["This field may not be blank."]}),
        (
            {"username": "bad name!"},
            {
                "username": [
                    "Enter a valid username. This value may contain only letters, numbers, "
                    "and @/./+/-/_ characters."
                ]
            },
        ),
        ({"username": None}, {"username": ["This field is required."]}),
        ({"email": None}, {"email": ["This field is required."]}),
        ({"password": None}, {"password": ["This field is required."]}),
        ({"email": ""}, {"email": ["This field may not be blank."]}),
        (
            {"username": "a" * 151},
            {"username": ["Ensure this field has no more than 150 characters."]},
        ),
        (
            {"email": "a" * 243 + "@example.com"},
            {"email": ["Ensure this field has no more than 254 characters."]},
        ),
        (
            {"password": "x" * 129},
            {"password": ["Ensure this field has no more than 128 characters."]},
        ),
        ({"username": ["alice"]}, {"username": ["Not a valid string."]}),
    ],
)
def test_register_rejects_bad_input_per_field_and_writes_nothing(
    api_client: APIClient,
    published_events: PublishedEvents,
    overrides: dict[str, object],
    expected: dict[str, list[str]],
) -> None:
    # when
    response = register(api_client, **overrides)

    # then
    assert response.status_code == 400
    assert response.json() == expected
    assert_nothing_written()
    assert published_events.events == []


def test_register_accepts_password_of_128_characters(api_client: APIClient) -> None:
    # when
    response = register(api_client, password="Zq7!" * 32)

    # then
    assert response.status_code == 201
    assert User.objects.get().check_password("Zq7!" * 32)


def test_register_rejects_a_body_that_is_not_json(api_client: APIClient) -> None:
    # when
    response = api_client.post(URL, "not json", content_type="application/json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)"
    }
    assert_nothing_written()


def test_register_rejects_a_json_list(api_client: APIClient) -> None:
    # when
    response = api_client.post(URL, ["alice"], format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }
    assert_nothing_written()


def test_register_reports_every_bad_field_at_once(api_client: APIClient) -> None:
    # when
    response = api_client.post(URL, {}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "username": ["This field is required."],
        "email": ["This field is required."],
        "password": ["This field is required."],
    }
    assert_nothing_written()

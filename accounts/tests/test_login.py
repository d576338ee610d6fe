"""POST /api/accounts/login/: JWTs, one vague 401, throttling (django-axes) with 429."""

from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.events import UserLoggedIn
from accounts.models import User
from accounts.services import user_deactivate
from accounts.tests.conftest import PASSWORD
from eventbus.models import OutboxMessage
from eventbus.testing import PublishedEvents

URL = "/api/accounts/login/"
INVALID = {"detail": "Invalid username or password."}
pytestmark = pytest.mark.django_db


def login(client: APIClient, username: str, password: str, ip: str = "10.0.0.1") -> Any:
    return client.post(
        URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip
    )


def test_login_returns_tokens_and_user_and_publishes_user_logged_in(
    api_client: APIClient, alice: User, published_events: PublishedEvents
) -> None:
    # given
    published_events.clear()
    outbox_before = OutboxMessage.objects.count()

    # when
    response = login(api_client, "alice", PASSWORD)

    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "user"}
    assert body["user"] == {
        "id": alice.pk,
        "username": "alice",
        "email": "alice@example.com",
        "first_name": "",
        "last_name": "",
        "date_joined": alice.date_joined.isoformat().replace("+00:00", "Z"),
    }
    assert AccessToken(body["access"])["user_id"] == str(alice.pk)
    assert published_events.events == [UserLoggedIn(user_id=alice.pk)]
    assert OutboxMessage.objects.count() == outbox_before + 1
    alice.refresh_from_db()
    assert alice.last_login is not None


def test_login_username_is_case_insensitive(api_client: APIClient, alice: User) -> None:
    # when
    response = login(api_client, "ALICE", PASSWORD)

    # then
    assert response.status_code == 200
    assert response.json()["user"]["id"] == alice.pk


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong-password"), ("nobody", PASSWORD)],
)
def test_login_with_wrong_credentials_is_401_with_one_generic_message(
    api_client: APIClient,
    alice: User,
    published_events: PublishedEvents,
    username: str,
    password: str,
) -> None:
    # given
    published_events.clear()
    outbox_before = OutboxMessage.objects.count()

    # when
    response = login(api_client, username, password)

    # then
    assert response.status_code == 401
    assert response.json() == INVALID
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert published_events.events == []
    assert OutboxMessage.objects.count() == outbox_before


def test_login_of_inactive_account_is_401_with_the_same_message(
    api_client: APIClient, alice: User, published_events: PublishedEvents
) -> None:
    # given
    user_deactivate(user=alice, reason="staff")
    published_events.clear()

    # when
    response = login(api_client, "alice", PASSWORD)

    # then
    assert response.status_code == 401
    assert response.json() == INVALID
    assert published_events.events == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"username": ["This field is required."], "password": ["This field is required."]}),
        ({"username": "alice"}, {"password": ["This field is required."]}),
        ({"password": PASSWORD}, {"username": ["This field is required."]}),
        ({"username": "alice", "password": None}, {"password": ["This field may not be null."]}),
    ],
)
def test_login_without_fields_is_400(
    api_client: APIClient,
    alice: User,
    published_events: PublishedEvents,
    body: dict[str, object],
    expected: dict[str, list[str]],
) -> None:
    # given
    published_events.clear()

    # when
    response = api_client.post(URL, body, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == expected
    assert published_events.events == []


def test_login_with_a_body_that_is_not_json_is_400(api_client: APIClient) -> None:
    # when
    response = api_client.post(URL, "{", content_type="application/json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)"
    }


@override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=timedelta(seconds=120))
def test_repeated_failures_for_one_username_are_throttled_from_any_address(
    api_client: APIClient, alice: User
) -> None:
    # given: three failures for "alice" (in any letter case) from three addresses
    for index, username in enumerate(["alice", "Alice", "ALICE"]):
        assert login(api_client, username, "wrong", ip=f"10.0.0.{index}").status_code == 401

    # when: even the right password, from a fresh address
    response = login(api_client, "alice", PASSWORD, ip="10.9.9.9")

    # then
    assert response.status_code == 429
    assert response.json() == {
        "detail": "Too many failed login attempts. Expected available in 120 seconds."
    }
    assert response["Retry-After"] == "120"


@override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=timedelta(seconds=60))
def test_one_users_failures_do_not_lock_out_another_user_from_the_same_address(
    api_client: APIClient, alice: User
) -> None:
    # given: bob fails three times from one address, and is locked out there
    bob = [login(api_client, "bob", "wrong", ip="192.0.2.7").status_code for _ in range(4)]

    # when: alice logs in from the same address
    response = login(api_client, "alice", PASSWORD, ip="192.0.2.7")

    # then: failures never count per address alone
    assert bob == [401, 401, 401, 429]
    assert response.status_code == 200


@override_settings(AXES_FAILURE_LIMIT=1, AXES_COOLOFF_TIME=timedelta(seconds=120))
def test_a_throttle_with_one_second_left_says_second(api_client: APIClient, alice: User) -> None:
    # given: one failure, counted 119.5 seconds ago
    assert login(api_client, "alice", "wrong").status_code == 401
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(seconds=119.5))

    # when
    response = login(api_client, "alice", PASSWORD)

    # then
    assert response.status_code == 429
    assert response.json() == {
        "detail": "Too many failed login attempts. Expected available in 1 second."
    }
    assert response["Retry-After"] == "1"


@override_settings(AXES_FAILURE_LIMIT=1, AXES_COOLOFF_TIME=timedelta(seconds=120))
def test_a_lockout_ends_after_the_cool_off(api_client: APIClient, alice: User) -> None:
    # given: one failure, counted just over the cool-off ago
    assert login(api_client, "alice", "wrong").status_code == 401
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(seconds=121))

    # when
    response = login(api_client, "alice", PASSWORD)

    # then
    assert response.status_code == 200


def test_default_limit_is_five_failures(api_client: APIClient, alice: User) -> None:
    # given
    statuses = [login(api_client, "alice", "wrong").status_code for _ in range(5)]

    # when
    response = login(api_client, "alice", "wrong")

    # then
    assert statuses == [401] * 5
    assert response.status_code == 429
    assert response["Retry-After"] == "300"


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_successful_login_clears_the_usernames_failures(
    api_client: APIClient, alice: User
) -> None:
    # given: two failures, then a success
    for index in range(2):
        login(api_client, "alice", "wrong", ip=f"10.0.1.{index}")
    assert login(api_client, "alice", PASSWORD, ip="10.0.1.9").status_code == 200

    # when: two more failures from yet other addresses
    later = [login(api_client, "alice", "wrong", ip=f"10.0.2.{i}").status_code for i in range(2)]
    response = login(api_client, "alice", PASSWORD, ip="10.0.3.1")

    # then: four failures in all, but never three in a row for the username
    assert later == [401, 401]
    assert response.status_code == 200


@override_settings(AXES_FAILURE_LIMIT=2)
def test_successful_logins_are_not_counted_as_failures(api_client: APIClient, alice: User) -> None:
    # when: more successful logins than the limit
    statuses = [login(api_client, "alice", PASSWORD).status_code for _ in range(4)]

    # then
    assert statuses == [200] * 4
    assert AccessAttempt.objects.count() == 0

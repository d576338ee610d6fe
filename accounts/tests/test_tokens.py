"""Refresh tokens: rotated and blacklisted on use, at logout, and when the user is deactivated."""

from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.events import UserDeactivated
from accounts.models import User
from accounts.services import user_deactivate
from accounts.tests.conftest import PASSWORD
from eventbus.models import OutboxMessage
from eventbus.testing import PublishedEvents

pytestmark = pytest.mark.django_db

REFRESH = "/api/accounts/token/refresh/"
LOGOUT = "/api/accounts/logout/"
BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}
CHALLENGE = 'Bearer realm="api"'


def login(username: str = "alice") -> dict[str, Any]:
    response = APIClient().post(
        "/api/accounts/login/", {"username": username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.json()
    body: dict[str, Any] = response.json()
    return body


def post(url: str, refresh: Any, **extra: Any) -> Any:
    return APIClient().post(url, {"refresh": refresh}, format="json", **extra)


def test_refresh_gives_a_new_pair_and_the_old_refresh_token_stops_working(alice: User) -> None:
    # given
    old = login()["refresh"]

    # when
    first = post(REFRESH, old)
    again = post(REFRESH, old)

    # then
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != old
    assert AccessToken(body["access"])["user_id"] == str(alice.pk)
    assert (again.status_code, again.json()) == (401, BLACKLISTED)
    assert again["WWW-Authenticate"] == CHALLENGE
    assert post(REFRESH, body["refresh"]).status_code == 200


def test_refresh_works_even_with_an_expired_access_token_in_the_header(alice: User) -> None:
    # when: clients often still send the stale access token
    response = post(REFRESH, login()["refresh"], HTTP_AUTHORIZATION="Bearer not-a-token")

    # then: the refresh token is the only credential this view reads
    assert response.status_code == 200


def test_logout_blacklists_the_refresh_token(alice: User) -> None:
    # given
    refresh = login()["refresh"]

    # when
    response = post(LOGOUT, refresh)

    # then
    assert response.status_code == 204
    assert (post(REFRESH, refresh).status_code, post(REFRESH, refresh).json()) == (
        401,
        BLACKLISTED,
    )
    assert (post(LOGOUT, refresh).status_code, post(LOGOUT, refresh).json()) == (401, BLACKLISTED)


def test_logout_leaves_other_sessions_alone(alice: User) -> None:
    # given: two logins
    laptop, phone = login()["refresh"], login()["refresh"]

    # when
    post(LOGOUT, laptop)

    # then
    assert post(REFRESH, phone).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({}, 400, {"refresh": ["This field is required."]}),
        ({"refresh": None}, 400, {"refresh": ["This field may not be null."]}),
        ({"refresh": ["x"]}, 400, {"refresh": ["Not a valid string."]}),
        ({"refresh": "nope"}, 401, {"detail": "Token is invalid", "code": "token_not_valid"}),
    ],
)
@pytest.mark.parametrize("url", [REFRESH, LOGOUT])
def test_a_bad_refresh_field_is_refused_and_blacklists_nothing(
    alice: User, url: str, body: dict[str, Any], status: int, expected: dict[str, Any]
) -> None:
    # when
    response = APIClient().post(url, body, format="json")

    # then
    assert (response.status_code, response.json()) == (status, expected)
    assert not BlacklistedToken.objects.exists()


def test_an_access_token_is_not_a_refresh_token(alice: User) -> None:
    # when
    response = post(LOGOUT, login()["access"])

    # then
    assert response.status_code == 401
    assert response.json() == {"detail": "Token has wrong type", "code": "token_not_valid"}


def test_deactivation_blacklists_every_refresh_token_in_its_transaction(
    alice: User, published_events: PublishedEvents
) -> None:
    # given: two sessions
    tokens = [login()["refresh"], login()["refresh"]]
    published_events.clear()

    # when
    user_deactivate(user=alice, reason="staff")

    # then
    assert [post(REFRESH, t).json() for t in tokens] == [BLACKLISTED, BLACKLISTED]
    assert BlacklistedToken.objects.filter(token__user=alice).count() == 2
    assert published_events.events == [UserDeactivated(user_id=alice.pk, reason="staff")]


def test_a_deactivation_that_rolls_back_blacklists_nothing(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a refresh token, and a publish that fails
    refresh = login()["refresh"]
    outbox_before = OutboxMessage.objects.count()

    def broken_publish(event: object) -> None:
        raise RuntimeError("the outbox is down")

    monkeypatch.setattr("accounts.services.users.publish", broken_publish)

    # when
    with pytest.raises(RuntimeError):
        user_deactivate(user=alice, reason="staff")

    # then: the user, the tokens and the outbox are as they were
    alice.refresh_from_db()
    assert alice.is_active
    assert not BlacklistedToken.objects.exists()
    assert OutboxMessage.objects.count() == outbox_before
    assert post(REFRESH, refresh).status_code == 200


def test_refresh_token_of_a_deleted_user_is_refused(alice: User) -> None:
    # given
    refresh = login()["refresh"]
    alice.delete()

    # when
    response = post(REFRESH, refresh)

    # then: a 401, never a 500
    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found for the given token."}


def test_refresh_of_a_user_deactivated_without_the_service_is_refused(alice: User) -> None:
    # given: is_active switched off behind the service's back (no blacklisting)
    refresh = login()["refresh"]
    User.objects.filter(pk=alice.pk).update(is_active=False)

    # when
    response = post(REFRESH, refresh)

    # then
    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found for the given token."}
    assert OutstandingToken.objects.filter(user=alice).count() == 1

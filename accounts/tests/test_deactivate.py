"""POST /api/accounts/me/deactivate/ and user_deactivate: no more logins or tokens."""

import pytest
from rest_framework.test import APIClient

from accounts.events import UserDeactivated
from accounts.exceptions import DeactivationForbidden
from accounts.models import User
from accounts.services import user_deactivate
from accounts.tests.conftest import PASSWORD
from eventbus.models import OutboxMessage
from eventbus.testing import PublishedEvents

URL = "/api/accounts/me/deactivate/"
pytestmark = pytest.mark.django_db


def test_deactivate_requires_credentials(api_client: APIClient) -> None:
    # when
    response = api_client.post(URL)

    # then
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_deactivate_deactivates_the_caller_and_publishes_user_deactivated(
    alice_client: APIClient, alice: User, published_events: PublishedEvents
) -> None:
    # given
    published_events.clear()

    # when
    response = alice_client.post(URL)

    # then
    assert response.status_code == 200
    assert response.json() == {
        "detail": "Your account has been deactivated; you can no longer log in."
    }
    alice.refresh_from_db()
    assert alice.is_active is False
    assert published_events.events == [UserDeactivated(user_id=alice.pk, reason="self_service")]


def test_after_deactivation_login_is_refused(
    alice_client: APIClient, api_client: APIClient
) -> None:
    # given
    alice_client.post(URL)

    # when
    response = api_client.post(
        "/api/accounts/login/", {"username": "alice", "password": PASSWORD}, format="json"
    )

    # then
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid username or password."}


def test_access_token_of_a_deactivated_user_is_refused(alice_client: APIClient) -> None:
    # given: alice still holds her access token
    alice_client.post(URL)

    # when
    response = alice_client.get("/api/accounts/me/")

    # then
    assert response.status_code == 401
    assert response.json() == {"detail": "User is inactive", "code": "user_inactive"}


def test_deactivating_an_inactive_user_is_a_no_op(
    alice: User, published_events: PublishedEvents
) -> None:
    # given
    user_deactivate(user=alice, reason="self_service")
    published_events.clear()
    outbox_before = OutboxMessage.objects.count()

    # when
    result = user_deactivate(user=alice, reason="staff")

    # then
    assert result.is_active is False
    assert published_events.events == []
    assert OutboxMessage.objects.count() == outbox_before


def test_deactivate_rejects_an_unknown_reason(alice: User) -> None:
    # when / then
    with pytest.raises(ValueError, match="Unknown deactivation reason 'bored'"):
        user_deactivate(user=alice, reason="bored")  # type: ignore[arg-type]
    alice.refresh_from_db()
    assert alice.is_active is True


def test_only_a_superuser_can_deactivate_a_superuser(
    alice: User, published_events: PublishedEvents
) -> None:
    # given a superuser and a staff member who is not one
    root = User.objects.create_superuser(username="root", email="r@example.com", password=PASSWORD)
    published_events.clear()

    # when alice (not a superuser) deactivates root
    with pytest.raises(DeactivationForbidden) as refused:
        user_deactivate(user=root, reason="staff", by=alice)

    # then it is refused with the reason, and nothing is written or published
    assert str(refused.value) == (
        "Only a superuser can deactivate the superuser 'root'; ask a superuser to do it."
    )
    assert refused.value.status_code == 403
    root.refresh_from_db()
    assert root.is_active
    assert len(published_events) == 0
    assert not OutboxMessage.objects.filter(name="accounts.user_deactivated").exists()

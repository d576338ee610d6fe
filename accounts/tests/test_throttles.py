"""DRF throttles on registration and token refresh: per client, rates from the settings."""

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOW_RATES = override_settings(
    REST_FRAMEWORK={
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"register": "2/minute", "token_refresh": "3/minute"},
    }
)


def register(name: str, ip: str) -> Any:
    return APIClient().post(
        "/api/accounts/register/",
        {"username": name, "email": f"{name}@example.com", "password": PASSWORD},
        format="json",
        REMOTE_ADDR=ip,
    )


def refresh(token: str, ip: str) -> Any:
    return APIClient().post(
        "/api/accounts/token/refresh/", {"refresh": token}, format="json", REMOTE_ADDR=ip
    )


@LOW_RATES
def test_registration_is_throttled_per_client_with_retry_after() -> None:
    # given: the rate's two registrations from one address
    assert [register(f"user{i}", "198.51.100.1").status_code for i in range(2)] == [201, 201]

    # when
    throttled = register("user2", "198.51.100.1")
    elsewhere = register("user3", "198.51.100.2")

    # then: that client waits, another does not; nothing was written for the refused one
    assert throttled.status_code == 429
    assert throttled.json()["detail"].startswith("Request was throttled.")
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert elsewhere.status_code == 201
    assert not User.objects.filter(username="user2").exists()


@LOW_RATES
def test_token_refresh_is_throttled_per_client_with_retry_after(alice: User) -> None:
    # given: three refreshes (each rotating the token) from one address
    token = (
        APIClient()
        .post("/api/accounts/login/", {"username": "alice", "password": PASSWORD}, format="json")
        .json()["refresh"]
    )
    for _ in range(3):
        response = refresh(token, "198.51.100.1")
        assert response.status_code == 200
        token = response.json()["refresh"]

    # when
    throttled = refresh(token, "198.51.100.1")
    elsewhere = refresh(token, "198.51.100.2")

    # then: the throttled request did not use the token up
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert elsewhere.status_code == 200


@LOW_RATES
def test_logout_counts_against_the_refresh_rate(alice: User) -> None:
    # given
    token = (
        APIClient()
        .post("/api/accounts/login/", {"username": "alice", "password": PASSWORD}, format="json")
        .json()["refresh"]
    )
    for _ in range(3):
        refresh("nope", "198.51.100.1")

    # when
    response = APIClient().post(
        "/api/accounts/logout/", {"refresh": token}, format="json", REMOTE_ADDR="198.51.100.1"
    )

    # then
    assert response.status_code == 429

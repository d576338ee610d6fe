"""Fixtures for cross-module tests: an API client per user, logged in through the API."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()  # login throttling counts live in the cache


@pytest.fixture
def api() -> APIClient:
    return APIClient()


class UserClient(APIClient):
    """An API client with a user's token, and that user's id."""

    user_id: int


@pytest.fixture
def signed_up(api: APIClient) -> Callable[..., UserClient]:
    """signed_up("bob") registers bob through the API, logs in, returns a client with his token."""

    def _signed_up(username: str, **headers: Any) -> UserClient:
        password = f"{username}-correct-horse-battery"
        response = api.post(
            "/api/accounts/register/",
            {"username": username, "email": f"{username}@example.com", "password": password},
            format="json",
            **headers,
        )
        assert response.status_code == 201, response.content
        login = api.post(
            "/api/accounts/login/", {"username": username, "password": password}, format="json"
        )
        assert login.status_code == 200, login.content
        client = UserClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
        client.user_id = login.json()["user"]["id"]
        return client

    return _signed_up

"""Fixtures of the accounts tests: a clean cache, an API client and ready-made users."""

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import user_register

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """DRF's throttle counts live in the cache; no test may see another's requests. (Login
    failures live in axes' tables, which each test's transaction rolls back.)"""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def alice(db: None) -> User:
    return user_register(username="alice", email="alice@example.com", password=PASSWORD)


@pytest.fixture
def alice_client(alice: User) -> APIClient:
    """A client that sends alice's access token."""
    client = APIClient()
    response = client.post(
        "/api/accounts/login/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client

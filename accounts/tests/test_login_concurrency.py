"""Parallel wrong logins: the count is taken atomically, so at most the limit reach the
password test. Parallel refreshes of one token: it is rotated once.

PostgreSQL only (marker ``postgres``; run with DATABASE_URL=postgres://...): the SQLite test
database is a shared-cache in-memory one, where concurrent writers fail with "table is locked"
instead of queueing, so there the test is skipped, with the reason shown.
"""

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.conftest import PASSWORD

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ATTEMPTS = 16
LIMIT = 5
ROTATIONS = 8


@pytest.fixture(autouse=True)
def _on_postgresql(db: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL's concurrent writers and advisory locks (MariaDB's GET_LOCK is "
            "held by the session, not the transaction): run with DATABASE_URL=postgres://..."
        )


@override_settings(AXES_FAILURE_LIMIT=LIMIT)
def test_parallel_wrong_logins_check_at_most_the_limit_of_passwords(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: every password test counted, and all attempts released at once
    checked: list[str] = []
    guard = threading.Lock()
    real_check = User.check_password

    def counting_check(self: User, raw_password: str | None) -> bool:
        with guard:
            checked.append(self.username)
        return real_check(self, raw_password)

    monkeypatch.setattr(User, "check_password", counting_check)
    barrier = threading.Barrier(ATTEMPTS)
    statuses: list[int] = []

    def attempt(index: int) -> None:
        try:
            barrier.wait()
            response: Any = APIClient().post(
                "/api/accounts/login/",
                {"username": "alice", "password": f"wrong-{index}"},
                format="json",
                REMOTE_ADDR=f"10.1.0.{index}",
            )
            with guard:
                statuses.append(response.status_code)
        finally:
            connection.close()

    # when: sixteen wrong logins at once, each from its own address and connection
    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then: five were tested and refused, the rest refused untested
    assert len(checked) == LIMIT
    assert sorted(statuses) == [401] * LIMIT + [429] * (ATTEMPTS - LIMIT)


def test_one_refresh_token_sent_in_parallel_is_rotated_once(alice: User) -> None:
    # given
    token = (
        APIClient()
        .post("/api/accounts/login/", {"username": "alice", "password": PASSWORD}, format="json")
        .json()["refresh"]
    )
    barrier = threading.Barrier(ROTATIONS)
    statuses: list[int] = []
    guard = threading.Lock()

    def rotate() -> None:
        try:
            barrier.wait()
            response: Any = APIClient().post(
                "/api/accounts/token/refresh/", {"refresh": token}, format="json"
            )
            with guard:
                statuses.append(response.status_code)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=rotate) for _ in range(ROTATIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then: one new pair; every other copy finds the token blacklisted
    assert sorted(statuses) == [200] + [401] * (ROTATIONS - 1)

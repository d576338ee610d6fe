"""Every login path shares one count (django-axes): the API, the browsable API, the admin."""

from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client, override_settings
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/accounts/login/"
BROWSABLE = "/api/auth/login/"
ADMIN = "/admin/login/"


def api_login(username: str, password: str, **extra: Any) -> Any:
    return APIClient().post(
        API, {"username": username, "password": password}, format="json", **extra
    )


def form_login(url: str, username: str, password: str, **extra: Any) -> Any:
    return Client().post(url, {"username": username, "password": password}, **extra)


@pytest.fixture
def root(db: None) -> User:
    return User.objects.create_superuser(
        username="root", email="root@example.com", password=PASSWORD
    )


@override_settings(AXES_FAILURE_LIMIT=3)
@pytest.mark.parametrize("url", [BROWSABLE, ADMIN])
def test_after_the_api_locks_a_username_the_form_logins_refuse_it_too(root: User, url: str) -> None:
    # given: the API has locked "root" out
    statuses = [api_login("root", "wrong").status_code for _ in range(4)]

    # when: the right password through a form
    response = form_login(url, "root", PASSWORD)

    # then: axes' lockout page, and no session
    assert statuses == [401, 401, 401, 429]
    assert response.status_code == 429
    assert "Account locked: too many login attempts" in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


@override_settings(AXES_FAILURE_LIMIT=3)
@pytest.mark.parametrize("url", [BROWSABLE, ADMIN])
def test_failures_on_a_form_login_lock_the_api_too(root: User, url: str) -> None:
    # given: three wrong passwords through the form (each shows the form again)
    statuses = [form_login(url, "ROOT", "wrong").status_code for _ in range(3)]

    # when
    response = api_login("root", PASSWORD)

    # then
    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_admin_lockout_page_is_not_an_error(root: User) -> None:
    # given
    for _ in range(3):
        form_login(ADMIN, "root", "wrong")

    # when
    response = form_login(ADMIN, "root", "wrong")

    # then: a page saying what happened, never a 500
    assert response.status_code == 429
    assert "Account locked" in response.content.decode()


@override_settings(
    AXES_IPWARE_PROXY_COUNT=1,
    AXES_IPWARE_META_PRECEDENCE_ORDER=("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"),
)
def test_the_client_address_is_the_one_the_trusted_proxy_saw(root: User) -> None:
    # when: a client claims an address; the one trusted proxy appends the one it saw
    api_login("root", "wrong", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")

    # then
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.9"]


def test_without_trusted_proxies_forwarded_headers_are_ignored(root: User) -> None:
    # when
    api_login("root", "wrong", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")

    # then
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["10.0.0.2"]


@override_settings(AXES_FAILURE_LIMIT=2)
@pytest.mark.parametrize("url", [BROWSABLE, ADMIN])
def test_successful_form_logins_are_not_counted_as_failures(root: User, url: str) -> None:
    # when: more successful logins than the limit
    responses = [form_login(url, "root", PASSWORD) for _ in range(3)]

    # then: each signed in (a redirect), and no count is left
    assert [r.status_code for r in responses] == [302, 302, 302]
    assert AccessAttempt.objects.count() == 0

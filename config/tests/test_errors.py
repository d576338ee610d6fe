"""Django's error views: JSON ``{"detail": ...}`` under /api/, Django's HTML pages elsewhere."""

import importlib

import pytest
from django.test import Client

from config.errors import (
    BAD_REQUEST,
    DATABASE_UNAVAILABLE,
    NOT_FOUND,
    PERMISSION_DENIED,
    SERVER_ERROR,
)

pytestmark = pytest.mark.urls("config.tests.crash_urls")


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    "path",
    [
        "/api/nowhere/",
        "/api/orders/null,null/",
        "/api/orders/null,null/cancel/",
        "/api/orders/1234567890123456789/",
        "/api/accounts/me/nowhere",
    ],
)
def test_an_unknown_api_path_answers_a_json_404(client: Client, path: str) -> None:
    # when
    response = client.get(path, HTTP_ACCEPT="text/html")

    # then
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": NOT_FOUND}


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/api/crash/", 500, SERVER_ERROR),
        ("/api/suspicious/", 400, BAD_REQUEST),
        ("/api/forbidden/", 403, PERMISSION_DENIED),
    ],
)
def test_an_api_error_outside_drf_answers_json(
    client: Client, path: str, status: int, detail: str
) -> None:
    # when
    response = client.get(path)

    # then
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/nowhere/", 404),
        ("/apix/", 404),
        ("/site/crash/", 500),
        ("/site/suspicious/", 400),
        ("/site/forbidden/", 403),
    ],
)
def test_the_rest_of_the_site_keeps_html_error_pages(
    client: Client, path: str, status: int
) -> None:
    # when
    response = client.get(path)

    # then
    assert response.status_code == status
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"<h1>" in response.content


@pytest.mark.parametrize("urlconf", ["config.urls", "config.urls_accounts", "config.urls_orders"])
def test_every_deployment_answers_api_errors_as_json(urlconf: str) -> None:
    # given the URLconf of the monolith or of a split-mode service
    module = importlib.import_module(urlconf)

    # then
    assert (module.handler400, module.handler403, module.handler404, module.handler500) == (
        "config.errors.bad_request",
        "config.errors.permission_denied",
        "config.errors.page_not_found",
        "config.errors.server_error",
    )


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/api/database-away/", "application/json"), ("/site/database-away/", "text/plain")],
)
def test_a_database_that_cannot_be_reached_answers_503_with_retry_after(
    client: Client, path: str, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    # when a view meets a database that is away (a restart, a failover)
    response = client.get(path)

    # then the client is told to come back, not that the server broke
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == content_type
    body = response.json()["detail"] if content_type == "application/json" else response.text
    assert body == DATABASE_UNAVAILABLE
    # and operators see it, with the error
    assert f"database unavailable on GET {path}" in caplog.text
    assert "port 5432 failed: refused" in caplog.text


@pytest.mark.django_db
def test_an_orders_request_while_the_database_is_away_answers_503(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a signed-in customer, and a database that goes away before the view reads it
    from django.db import OperationalError
    from rest_framework_simplejwt.tokens import AccessToken

    from orders import selectors

    def away(**kwargs: object) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(selectors, "order_list_for_customer", away)
    token = AccessToken()
    token["user_id"] = 41

    # when it lists its orders through DRF
    response = client.get("/api/orders/", HTTP_AUTHORIZATION=f"Bearer {token}")

    # then DRF's view answers the same 503
    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}
    assert response["Retry-After"] == "5"

"""Django's error views: JSON ``{"detail": ...}`` under /api/, Django's HTML pages elsewhere."""

import importlib

import pytest
from django.test import Client

from config.errors import BAD_REQUEST, NOT_FOUND, PERMISSION_DENIED, SERVER_ERROR

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

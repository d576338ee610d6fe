"""API errors: JSON ``{"detail": ...}`` under /api/ with DEBUG on or off, in every settings
module; DRF's browsable pages, the admin and the rest of the site keep their HTML pages."""

import importlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client, override_settings
from rest_framework_simplejwt.tokens import AccessToken

from config.errors import (
    BAD_REQUEST,
    DATABASE_UNAVAILABLE,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PERMISSION_DENIED,
    SERVER_ERROR,
)
from tools.split import ensure_keys, run

pytestmark = pytest.mark.urls("config.tests.crash_urls")


@pytest.fixture(params=[False, True], ids=["DEBUG off", "DEBUG on"])
def debug(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Each test that asks for a client runs with DEBUG off (production) and on (make run)."""
    with override_settings(DEBUG=request.param):
        yield bool(request.param)


@pytest.fixture
def client(debug: bool) -> Client:
    return Client(raise_request_exception=False)


@pytest.fixture
def customer() -> dict[str, str]:
    """A customer's bearer token: orders reads its id claim, no user row behind it."""
    token = AccessToken()
    token["user_id"] = 41
    return {"Authorization": f"Bearer {token}"}


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
    # when a browser asks, which DEBUG's technical 404 page would answer
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
    response = client.get(path, HTTP_ACCEPT="text/html")

    # then
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": detail}


def test_a_crash_under_the_api_logs_its_traceback(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    # when
    response = client.get("/api/crash/")

    # then the client reads JSON, and the developer finds the traceback in the log
    assert response.json() == {"detail": SERVER_ERROR}
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelname == "ERROR"
    assert record.getMessage() == "Internal Server Error: /api/crash/"
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "planted crash"


def test_a_method_a_django_view_under_the_api_does_not_answer_is_a_json_405(
    client: Client,
) -> None:
    # when the browsable API's logout (a Django view, POST only) is asked with GET
    response = client.get("/api/auth/logout/", HTTP_ACCEPT="text/html")

    # then the Allow header is kept, and the body says where to look
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "POST, OPTIONS"
    assert response.json() == {"detail": METHOD_NOT_ALLOWED}


def test_the_correlation_id_survives_the_json_error(client: Client) -> None:
    # when
    response = client.get("/api/nowhere/", HTTP_X_CORRELATION_ID="trace-me-1")

    # then
    assert response["X-Correlation-ID"] == "trace-me-1"
    assert response.json() == {"detail": NOT_FOUND}


@pytest.mark.django_db
def test_a_method_a_drf_view_does_not_answer_is_drf_s_json_405(
    client: Client, customer: dict[str, str]
) -> None:
    # when
    response = client.get("/api/orders/1/cancel/", headers=customer)

    # then
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": 'Method "GET" not allowed.'}


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/", 200), ("/api/orders/1/cancel/", 405), ("/api/orders/999/", 404)],
)
@pytest.mark.django_db
def test_the_browsable_api_keeps_its_html_pages(
    client: Client, customer: dict[str, str], path: str, status: int
) -> None:
    # when a browser asks DRF's views (orders' as a customer), errors included
    credentials = customer if path.startswith("/api/orders/") else {}
    response = client.get(path, HTTP_ACCEPT="text/html", headers=credentials)

    # then DRF's browsable page answers
    assert response.status_code == status
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"rest_framework/css/bootstrap.min.css" in response.content


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
    client: Client, debug: bool, path: str, status: int
) -> None:
    # when
    response = client.get(path)

    # then Django's page (its technical page with DEBUG on, whose 500 and 400 name no charset)
    technical_500 = debug and status in {400, 500}
    assert response.status_code == status
    assert response["Content-Type"] == (
        "text/html" if technical_500 else "text/html; charset=utf-8"
    )
    assert b"<h1>" in response.content


@pytest.mark.django_db
def test_the_admin_keeps_django_s_pages(client: Client, debug: bool) -> None:
    # given a superuser's session
    from accounts.models import User

    admin = User.objects.create_superuser(username="root", email="root@example.com")
    client.force_login(admin)

    # when
    response = client.get("/admin/nowhere/")

    # then
    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert (b"Page not found" in response.content) is debug


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


PROBE = """
import json
from django.conf import settings
from django.test import Client
response = Client().get(
    "/api/orders/null,null/", HTTP_ACCEPT="text/html", HTTP_HOST="localhost", secure=True
)
print(json.dumps([settings.DEBUG, response.status_code, response["Content-Type"],
                  response.content.decode()]))
"""


@pytest.mark.parametrize(
    ("settings_module", "debug_env"),
    [
        ("config.settings.dev", None),
        ("config.settings.test", None),
        ("config.settings.production", None),
        ("config.settings.accounts_service", "1"),
        ("config.settings.orders_service", "0"),
    ],
)
def test_every_settings_module_answers_an_unknown_api_path_as_json(
    tmp_path: Path, settings_module: str, debug_env: str | None
) -> None:
    # given a fresh process under the settings module (the split services with DEBUG as set)
    keys = ensure_keys(tmp_path)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DJANGO_SECRET_KEY": "s" * 60,
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "JWT_PRIVATE_KEY_PATH": str(keys["private"]),
        "JWT_PUBLIC_KEY_PATH": str(keys["public"]),
        **({"DJANGO_DEBUG": debug_env} if debug_env else {}),
    }

    # when a browser asks for a path no URL matches
    output = run(["manage.py", "shell", "-v0", "-c", PROBE], env=env)

    # then
    debug, status, content_type, body = json.loads(output.splitlines()[-1])
    assert debug is (settings_module in {"config.settings.dev", "config.settings.accounts_service"})
    assert (status, content_type) == (404, "application/json")
    assert json.loads(body) == {"detail": NOT_FOUND}


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
    client: Client, customer: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a database that goes away before the view reads it
    from django.db import OperationalError

    from orders import selectors

    def away(**kwargs: object) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(selectors, "order_list_for_customer", away)

    # when a customer lists its orders through DRF
    response = client.get("/api/orders/", headers=customer)

    # then DRF's view answers the same 503
    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}
    assert response["Retry-After"] == "5"

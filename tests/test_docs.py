"""The browsable API, the OpenAPI schema and Swagger UI, served without any external network."""

import re

import pytest


@pytest.mark.django_db
def test_swagger_ui_is_served_from_local_static_files(client):
    page = client.get("/api/docs/")

    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.content.decode())
    assert any("swagger-ui-bundle.js" in s for s in sources)
    assert [s for s in sources if s.startswith(("http://", "https://", "//"))] == []


@pytest.mark.django_db
def test_openapi_schema_lists_both_modules(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert {"/api/accounts/register/", "/api/accounts/login/", "/api/accounts/me/"} <= paths
    assert {"/api/orders/", "/api/orders/products/", "/api/orders/{order_id}/cancel/"} <= paths


@pytest.mark.django_db
def test_api_root_is_browsable(client):
    page = client.get("/api/", HTTP_ACCEPT="text/html")

    assert page.status_code == 200
    assert "/api/accounts/register/" in page.content.decode()
    assert "Log in" in page.content.decode()

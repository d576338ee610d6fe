"""The probes over HTTP: /healthz while up, /readyz 200 or 503 with each check named,
open to anonymous clients over plain HTTP (load balancers)."""

import json
import os

import pytest
from django.test import Client, override_settings

from config.settings.hardening import SECURE_REDIRECT_EXEMPT
from tools.split import run

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_answers_200_when_every_check_passes():
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"ok": True, "detail": "database 'default' reachable, migrations applied"}
        },
    }
    assert "no-cache" in response["Cache-Control"]


def test_readyz_answers_503_naming_the_failing_check():
    with override_settings(EVENTBUS={"DELIVERY": "worker"}):
        response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["worker"] == {
        "ok": False,
        "detail": "no worker registered; start `manage.py eventbus worker`",
    }


def test_probes_are_not_redirected_to_https_while_the_api_is():
    with override_settings(SECURE_SSL_REDIRECT=True, SECURE_REDIRECT_EXEMPT=SECURE_REDIRECT_EXEMPT):
        client = Client()
        assert client.get("/api/").status_code == 301
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200


PROBE = """
import django
django.setup()
from django.test import Client
response = Client().get("/readyz", HTTP_HOST="127.0.0.1")
print(response.status_code, response.content.decode())
"""


def test_readyz_answers_503_when_the_database_is_unreachable():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere",  # a closed port
    }

    status, body = run(["-c", PROBE], env=env, timeout=60).split(" ", 1)

    assert status == "503"
    checks = json.loads(body)["checks"]
    assert list(checks) == ["database"]
    assert checks["database"]["ok"] is False
    assert checks["database"]["detail"].startswith("database 'default' is unreachable: ")

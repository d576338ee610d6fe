"""Production-like settings: no development secret key with DEBUG off, no demo data."""

import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.models import User
from config.settings.base import DEVELOPMENT_SECRET_KEY
from config.settings.hardening import secret_key
from eventbus.models import OutboxMessage
from orders.models import Order, Product
from tools.split import ensure_keys, run

REFUSED = "DJANGO_SECRET_KEY is not set (or is the development key) and DEBUG is off"


@pytest.mark.parametrize("value", [None, "", DEVELOPMENT_SECRET_KEY])
def test_secret_key_is_refused_with_debug_off(monkeypatch: pytest.MonkeyPatch, value: str | None):
    if value is None:
        monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("DJANGO_SECRET_KEY", value)

    with pytest.raises(ImproperlyConfigured) as refused:
        secret_key(debug=False)

    assert str(refused.value).startswith(REFUSED)
    assert "Set DJANGO_SECRET_KEY to a long random value" in str(refused.value)


def test_secret_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", "k" * 60)
    assert secret_key(debug=False) == "k" * 60
    monkeypatch.delenv("DJANGO_SECRET_KEY")
    assert secret_key(debug=True) == DEVELOPMENT_SECRET_KEY  # a local trial with DEBUG on


def service_env(settings_module: str, keys: dict[str, Path], **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "JWT_PRIVATE_KEY_PATH": str(keys["private"]),
        "JWT_PUBLIC_KEY_PATH": str(keys["public"]),
        **extra,
    }


@pytest.mark.parametrize(
    "settings_module",
    [
        "config.settings.production",
        "config.settings.accounts_service",
        "config.settings.orders_service",
    ],
)
def test_production_settings_refuse_to_start_without_a_secret_key(
    tmp_path: Path, settings_module: str
):
    env = service_env(settings_module, ensure_keys(tmp_path))

    with pytest.raises(RuntimeError) as failed:
        run(["manage.py", "check"], env=env)

    assert "ImproperlyConfigured: " + REFUSED in str(failed.value)


@pytest.mark.django_db
@override_settings(DEMO_DATA_ALLOWED=False)
def test_load_demo_data_refuses_when_demo_data_is_not_allowed():
    with pytest.raises(CommandError) as refused:
        call_command("load_demo_data", "--quiet")

    assert str(refused.value) == (
        "load_demo_data creates users with published passwords, so it refuses to run under "
        "these settings (DEMO_DATA_ALLOWED is off, as in production). "
        "Use config.settings.dev for a demo."
    )
    assert (User.objects.count(), Product.objects.count(), Order.objects.count()) == (0, 0, 0)
    assert OutboxMessage.objects.count() == 0


def test_load_demo_data_refuses_under_the_production_settings(tmp_path: Path):
    env = service_env(
        "config.settings.production",
        ensure_keys(tmp_path),
        DJANGO_SECRET_KEY="s" * 60,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )

    with pytest.raises(RuntimeError) as failed:
        run(["manage.py", "load_demo_data"], env=env)

    assert "CommandError: load_demo_data creates users with published passwords" in str(
        failed.value
    )
    assert tables(tmp_path / "db.sqlite3") == []  # refused before touching the database


def tables(path: Path) -> list[str]:
    if not path.exists():
        return []
    with closing(sqlite3.connect(path)) as db:
        return [name for (name,) in db.execute("SELECT name FROM sqlite_master")]


def test_postgresql_prepares_statements_and_plans_each_execution(monkeypatch: pytest.MonkeyPatch):
    # given a PostgreSQL URL and no choice made
    from config.settings.base import database_from_env

    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal:5432/shop")
    monkeypatch.delenv("DB_PREPARED_STATEMENTS", raising=False)

    # then the project's backend (a health check without a round trip) is used, parameters
    # bind on the server, repeated statements are prepared, and each execution is planned
    # for its own values
    assert database_from_env(Path("unused.sqlite3"))["ENGINE"] == "config.postgresql"
    assert database_from_env(Path("unused.sqlite3"))["OPTIONS"] == {
        "server_side_binding": True,
        "prepare_threshold": 5,
        "options": "-c plan_cache_mode=force_custom_plan",
    }

    # and DB_PREPARED_STATEMENTS=0 (PgBouncer before 1.21) is Django's default: no options
    monkeypatch.setenv("DB_PREPARED_STATEMENTS", "0")
    assert database_from_env(Path("unused.sqlite3")).get("OPTIONS", {}) == {}

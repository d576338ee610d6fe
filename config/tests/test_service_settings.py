"""Split-mode service settings: only accounts signs and keeps the refresh-token blacklist."""

from pathlib import Path

import pytest

from config.settings.base import SIMPLE_JWT
from config.settings.service import service_settings


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "private.pem").write_text("PRIVATE")
    (tmp_path / "public.pem").write_text("PUBLIC")
    monkeypatch.setenv("JWT_PRIVATE_KEY_PATH", str(tmp_path / "private.pem"))
    monkeypatch.setenv("JWT_PUBLIC_KEY_PATH", str(tmp_path / "public.pem"))


def test_orders_verifies_with_the_public_key_alone_and_keeps_no_blacklist(keys: None) -> None:
    # when
    orders = service_settings("orders", SIMPLE_JWT)

    # then
    assert orders["SIMPLE_JWT"]["ALGORITHM"] == "RS256"
    assert orders["SIMPLE_JWT"]["SIGNING_KEY"] is None
    assert orders["SIMPLE_JWT"]["VERIFYING_KEY"] == "PUBLIC"
    assert "rest_framework_simplejwt.token_blacklist" not in orders["INSTALLED_APPS"]
    assert "axes" in orders["INSTALLED_APPS"]


def test_accounts_signs_rotates_and_blacklists_with_short_lived_access_tokens(keys: None) -> None:
    # when
    accounts = service_settings("accounts", SIMPLE_JWT)

    # then
    jwt = accounts["SIMPLE_JWT"]
    assert (jwt["SIGNING_KEY"], jwt["VERIFYING_KEY"]) == ("PRIVATE", "PUBLIC")
    assert jwt["ROTATE_REFRESH_TOKENS"] and jwt["BLACKLIST_AFTER_ROTATION"]
    assert jwt["ACCESS_TOKEN_LIFETIME"].total_seconds() <= 15 * 60
    assert "rest_framework_simplejwt.token_blacklist" in accounts["INSTALLED_APPS"]

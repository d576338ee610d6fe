"""`eventbus extraction-report MODULE`: the project's two modules can be extracted, a planted
coupling of each kind is reported and blocks, and docs/extraction-report.md is the output."""

import json
import sys
import textwrap
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from tools.split import ROOT

PLANTED = "planted_leaky"
RECORD: dict[str, Any] = {
    "version": 1,
    "queries": [
        {
            "module": "orders",
            "table": "accounts_user",
            "owner": "accounts",
            "sql": 'SELECT "accounts_user"."id" FROM "accounts_user"',
            "location": "orders/services.py:42",
        },
        {
            "module": "orders",
            "table": "orders_order",
            "owner": "orders",
            "sql": 'SELECT "orders_order"."id" FROM "orders_order"',
            "location": "orders/selectors.py:7",
        },
    ],
}


def report_json(module: str, *args: str) -> dict:
    return json.loads(printed("--format", "json", module, *args))


def printed(*args: str) -> str:
    """What `eventbus extraction-report ARGS` prints; raises if it exits 1."""
    out = StringIO()
    call_command("eventbus", "extraction-report", *args, stdout=out)
    return out.getvalue()


def test_accounts_can_be_extracted_and_its_events_and_urls_are_listed():
    report = report_json("accounts")

    assert report["extractable"] is True
    assert report["blockers"] == []
    assert report["other_modules"] == ["orders"]
    assert (report["imports"], report["relations"], report["queries"]) == ([], [], None)
    # The browsable API's JWT cookies: settings an accounts service of its own must carry.
    assert [setting["name"] for setting in report["settings"]] == [
        "API_LOGIN_REDIRECT_HOSTS",
        "JWT_AUTH_COOKIE",
        "JWT_AUTH_REFRESH_COOKIE",
        "JWT_AUTH_REFRESH_COOKIE_PATH",
        "JWT_AUTH_SAMESITE",
        "JWT_AUTH_SECURE",
    ]
    assert report["events"] == {
        "published": [
            {
                "name": "accounts.user_deactivated",
                "version": 1,
                "subscribers": ["orders.handlers.deactivate_customer"],
            },
            {"name": "accounts.user_logged_in", "version": 1, "subscribers": []},
            {
                "name": "accounts.user_profile_updated",
                "version": 1,
                "subscribers": ["orders.handlers.replicate_updated_profile"],
            },
            {
                "name": "accounts.user_registered",
                "version": 1,
                "subscribers": ["orders.handlers.replicate_registered_customer"],
            },
        ],
        "consumed": [
            {
                "name": "orders.order_cancelled",
                "version": 1,
                "producer": "orders",
                "handlers": ["accounts.handlers.record_order_cancelled"],
            },
            {
                "name": "orders.order_placed",
                "version": 1,
                "producer": "orders",
                "handlers": ["accounts.handlers.record_order_placed"],
            },
        ],
    }
    assert [(u["route"], u["view"]) for u in report["urls"]] == [
        ("admin/accounts/user/", "accounts.admin.UserAdmin"),
        ("admin/accounts/orderrecord/", "accounts.admin.OrderRecordAdmin"),
        ("api/accounts/register/", "accounts.api.views.RegisterView"),
        ("api/accounts/login/", "accounts.api.views.LoginView"),
        ("api/accounts/token/refresh/", "accounts.api.views.RefreshView"),
        ("api/accounts/logout/", "accounts.api.views.LogoutView"),
        ("api/accounts/me/", "accounts.api.views.MeView"),
        ("api/accounts/me/deactivate/", "accounts.api.views.MeDeactivateView"),
        ("api/auth/login/", "accounts.api.browser.BrowserLoginView"),
        ("api/auth/logout/", "accounts.api.browser.BrowserLogoutView"),
    ]
    assert report["broker"]["queue"] == "accounts.events"
    assert report["broker"]["bindings"] == ["orders.order_cancelled.*", "orders.order_placed.*"]
    assert report["broker"]["permissions"]["topics"] == {
        "eventbus": r"^(accounts)\..+$",
        "eventbus.dead-letter": r"^(accounts\.events)$",
    }
    assert report["service"]["tables"] == [
        "accounts_orderrecord",
        "accounts_user",
        "accounts_user_groups",
        "accounts_user_user_permissions",
    ]
    assert "orders" not in report["service"]["installed_apps"]
    assert report["service"]["settings_naming_other_modules"] == []


def test_orders_can_be_extracted_and_names_the_settings_that_point_at_accounts():
    report = report_json("orders")

    assert report["extractable"] is True
    assert report["events"]["published"] == [
        {
            "name": "orders.order_cancelled",
            "version": 1,
            "subscribers": ["accounts.handlers.record_order_cancelled"],
        },
        {
            "name": "orders.order_placed",
            "version": 1,
            "subscribers": ["accounts.handlers.record_order_placed"],
        },
        {"name": "orders.order_status_changed", "version": 1, "subscribers": []},
    ]
    assert [(e["name"], e["producer"], e["handlers"]) for e in report["events"]["consumed"]] == [
        ("accounts.user_deactivated", "accounts", ["orders.handlers.deactivate_customer"]),
        (
            "accounts.user_profile_updated",
            "accounts",
            ["orders.handlers.replicate_updated_profile"],
        ),
        ("accounts.user_registered", "accounts", ["orders.handlers.replicate_registered_customer"]),
    ]
    assert [(u["route"], u["name"]) for u in report["urls"]] == [
        ("admin/orders/product/", "orders_product_changelist"),
        ("admin/orders/order/", "orders_order_changelist"),
        ("admin/orders/customer/", "orders_customer_changelist"),
        ("api/orders/products/", "product-list"),
        ("api/orders/", "order-list"),
        ("api/orders/<order_id:order_id>/", "order-detail"),
        ("api/orders/<order_id:order_id>/cancel/", "order-cancel"),
    ]
    assert report["broker"]["publishes"] == [
        "orders.order_cancelled.v1",
        "orders.order_placed.v1",
        "orders.order_status_changed.v1",
    ]
    assert report["broker"]["bindings"] == [
        "accounts.user_deactivated.*",
        "accounts.user_profile_updated.*",
        "accounts.user_registered.*",
    ]
    # What config/settings/orders_service.py sets otherwise.
    assert report["service"]["settings_naming_other_modules"] == [
        {"setting": "AUTH_USER_MODEL", "value": "accounts.User"},
        {"setting": "AXES_USERNAME_CALLABLE", "value": "accounts.usernames.axes_username"},
    ]


@pytest.fixture
def planted(tmp_path: Path, monkeypatch, settings) -> Iterator[Path]:
    """A module of its own, installed: it imports accounts' model and its events (allowed),
    has a foreign key to accounts' user and reads two settings."""
    package = tmp_path / PLANTED
    package.mkdir()
    files = {
        "__init__.py": "",
        "events.py": "import accounts.events  # allowed: the public contract\n",
        "services.py": """\
            from django.conf import settings as conf

            from accounts.models import User


            def count() -> int:
                return User.objects.count() + getattr(conf, "PLANTED_LIMIT", 1)
            """,
        "models.py": """\
            from django.conf import settings
            from django.db import models


            class Leak(models.Model):
                owner = models.ForeignKey(
                    "accounts.User", on_delete=models.CASCADE, related_name="+"
                )
                note = models.CharField(max_length=settings.PLANTED_NOTE_LENGTH)

                class Meta:
                    app_label = "planted_leaky"
            """,
    }
    for name, text in files.items():
        (package / name).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    settings.PLANTED_NOTE_LENGTH = 20
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, PLANTED]
    yield package
    apps.all_models.pop(PLANTED, None)  # a later test plants it again
    for name in [m for m in sys.modules if m == PLANTED or m.startswith(f"{PLANTED}.")]:
        del sys.modules[name]


def test_a_planted_import_relation_and_query_are_reported_and_block(planted, tmp_path):
    record = tmp_path / "queries.json"
    record.write_text(json.dumps(RECORD))
    out = tmp_path / "report.json"

    with pytest.raises(CommandError) as raised:
        call_command(
            "eventbus",
            "extraction-report",
            "accounts",
            "--format",
            "json",
            "--queries",
            str(record),
            "--output",
            str(out),
        )

    blockers = [
        f"import {PLANTED}.services -> accounts.models ({PLANTED}/services.py:3)",
        f"relation {PLANTED}.Leak.owner -> accounts.User (ForeignKey)",
        "query by orders on accounts_user, owned by accounts (orders/services.py:42)",
    ]
    assert str(raised.value) == (
        "accounts cannot be extracted; 3 coupling(s) block it:\n"
        + "\n".join(f"  - {line}" for line in blockers)
    )
    report = json.loads(out.read_text())
    assert report["extractable"] is False
    assert report["blockers"] == blockers
    assert report["other_modules"] == ["orders", PLANTED]
    assert report["imports"] == [
        {
            "importer": f"{PLANTED}.services",
            "imported": "accounts.models",
            "location": f"{PLANTED}/services.py:3",
            "line": "from accounts.models import User",
        }
    ]
    assert report["relations"] == [
        {
            "model": f"{PLANTED}.Leak",
            "field": "owner",
            "kind": "ForeignKey",
            "related": "accounts.User",
        }
    ]
    assert report["queries"] == [RECORD["queries"][0]]


def test_the_planted_module_s_own_report_lists_its_couplings_and_settings(planted):
    with pytest.raises(CommandError, match=f"{PLANTED} cannot be extracted; 2 coupling"):
        printed(PLANTED)


def test_the_planted_module_s_report_in_markdown(planted, capsys):
    with pytest.raises(CommandError):
        call_command("eventbus", "extraction-report", PLANTED)

    text = capsys.readouterr().out
    assert text.startswith(
        f"## Extraction report: `{PLANTED}`\n\n"
        "**Not extractable.** 2 coupling(s) to the other modules (`accounts`, `orders`) must "
        "go first:\n\n"
        f"- import {PLANTED}.services -> accounts.models ({PLANTED}/services.py:3)\n"
        f"- relation {PLANTED}.Leak.owner -> accounts.User (ForeignKey)\n"
    )
    assert (
        "| setting | where |\n|---|---|\n"
        f"| `PLANTED_LIMIT` | `{PLANTED}/services.py:7` |\n"
        f"| `PLANTED_NOTE_LENGTH` | `{PLANTED}/models.py:9` |\n"
    ) in text
    assert (
        "| importer | imported | where |\n|---|---|---|\n"
        f"| `{PLANTED}.services` | `accounts.models` | `{PLANTED}/services.py:3` |\n"
    ) in text


def test_a_record_without_the_module_s_queries_does_not_block_it(tmp_path, capsys):
    record = tmp_path / "queries.json"
    record.write_text(json.dumps({"version": 1, "queries": [RECORD["queries"][1]]}))

    report = report_json("orders", "--queries", str(record))

    assert (report["extractable"], report["queries"]) == (True, [])
    assert "None in the record." in printed("orders", "--queries", str(record))


def test_an_unknown_module_is_refused_and_nothing_is_written(tmp_path):
    out = tmp_path / "report.md"

    with pytest.raises(CommandError) as raised:
        call_command("eventbus", "extraction-report", "eventbus", "--output", str(out))

    assert str(raised.value) == (
        "'eventbus' is not a module of this project; its modules are accounts, orders "
        "(its own apps by label, other than the bus and the project's package, and the "
        "groups EVENTBUS['MODULES'] names)."
    )
    assert not out.exists()


def test_a_bad_record_is_refused_and_nothing_is_written(tmp_path):
    record, out = tmp_path / "queries.json", tmp_path / "report.md"
    record.write_text(json.dumps({"version": 2, "queries": []}))

    with pytest.raises(CommandError, match="is not a version 1 record"):
        call_command(
            "eventbus", "extraction-report", "orders", "--queries", str(record), "-o", str(out)
        )

    assert not out.exists()


@pytest.mark.parametrize("module", ["accounts", "orders"])
def test_the_documented_report_is_the_command_s(module):
    page = (ROOT / "docs" / "extraction-report.md").read_text()

    assert printed(module) in page

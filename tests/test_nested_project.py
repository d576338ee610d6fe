"""Modules in a project whose apps live inside one package (tests/support/nested_project.py):
each app is a module named by its label, or a group EVENTBUS["MODULES"] names, and the
guard, the catalogue, the Mermaid map and the extraction report all use those names."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import nested_project
from tools.split import ROOT


def run(
    site: Path, *args: str, modules: str | None = None, project_app: bool = False
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if modules is not None:
        env["NESTED_MODULES"] = modules
    if project_app:
        env["NESTED_PROJECT_APP"] = "1"
    return subprocess.run(
        [sys.executable, *args], cwd=site, env=env, capture_output=True, text=True, timeout=120
    )


def probe(site: Path, modules: str | None = None) -> dict:
    done = run(site, "probe.py", modules=modules)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    nested_project.write(tmp_path)
    return tmp_path


def test_the_apps_inside_the_project_package_are_modules_by_label_or_group(site):
    found = probe(site)

    assert found["modules"] == ["emails", "shop", "users"]


def test_a_cross_module_read_fails_with_the_documented_message(site):
    found = probe(site)

    assert found["emails reads users"] == {
        "raised": "emails queried users_member, a table of users, at project/emails/services.py:5: "
        'SELECT "users_member"."name" AS "name" FROM "users_member"\n'
        "A module reads another module's data only from its events, keeping a replica of what "
        "it needs in its own tables (see docs/ownership.md)."
    }


def test_reads_within_a_module_pass_across_the_apps_of_a_group_too(site):
    found = probe(site)

    assert found["within users"] == {"returned": 0}
    assert found["within shop, across its apps"] == {"returned": 0}


def test_without_the_group_the_same_read_crosses_two_modules(site):
    found = probe(site, modules="{}")

    assert found["modules"] == ["billing", "emails", "orders", "users"]
    assert found["within shop, across its apps"]["raised"].startswith(
        "orders queried billing_invoice, a table of billing, at project/orders/services.py:5: "
    )


def test_the_catalogue_names_both_sides_of_every_event_by_module(site):
    found = probe(site)

    assert found["catalogue"] == [
        {"event": "billing.invoice_paid", "producer": "shop", "consumers": []},
        {"event": "shop.invoice_issued", "producer": "shop", "consumers": ["users"]},
        {"event": "users.user_registered", "producer": "users", "consumers": ["emails"]},
    ]
    assert found["mermaid"].splitlines() == [
        "flowchart LR",
        '    m_emails["emails"]',
        '    m_shop["shop"]',
        '    m_users["users"]',
        '    m_shop -->|"shop.invoice_issued v1"| m_users',
        '    m_users -->|"users.user_registered v1"| m_emails',
        '    nobody(["no subscriber yet"])',
        '    m_shop -.->|"billing.invoice_paid v1"| nobody',
    ]


def test_an_event_named_for_another_module_than_its_own_is_a_warning(site):
    done = run(site, "manage.py", "check")

    assert done.returncode == 0, done.stderr
    assert (
        "<class 'project.billing.events.InvoicePaid'>: (eventbus.W002) 'billing.invoice_paid' "
        "is defined by the module 'shop' (project.billing.events) but its name begins with "
        "'billing'"
    ) in done.stderr
    assert "System check identified 1 issue (0 silenced)." in done.stdout + done.stderr


def test_apps_with_tables_hidden_in_a_project_package_app_are_a_warning(site):
    done = run(site, "manage.py", "check", "--tag", "eventbus", project_app=True)

    warnings = [line for line in done.stderr.splitlines() if "eventbus.W004" in line]
    assert warnings == [
        f"?: (eventbus.W004) The app 'project.{app}' has models but is inside the project's "
        "package, so it is no module: the ownership guard does not see its tables queried by "
        "other modules, nor theirs queried by it."
        for app in ("emails", "users")
    ]


def test_the_extraction_report_speaks_of_modules(site):
    done = run(site, "manage.py", "eventbus", "extraction-report", "emails", "--format", "json")
    report = json.loads(done.stdout)

    assert (report["module"], report["other_modules"]) == ("emails", ["shop", "users"])
    assert report["blockers"] == [
        "import project.emails.services -> project.users.models (project/emails/services.py:1)"
    ]
    assert report["events"]["consumed"] == [
        {
            "name": "users.user_registered",
            "version": 1,
            "producer": "users",
            "handlers": ["project.emails.handlers.send_welcome"],
        }
    ]
    assert report["service"]["installed_apps"] == [
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "eventbus",
        "project.emails",
    ]
    assert report["service"]["tables"] == ["emails_email"]

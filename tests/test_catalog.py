"""`eventbus catalog` in every format, and the README's diagram kept equal to the command's."""

import json
import re

from django.core.management import call_command

from tests.support.processes import manage
from tools.split import ROOT


def test_catalog_json_keeps_its_fields_and_adds_module_and_flag(capsys):
    call_command("eventbus", "catalog", "--format", "json")

    entries = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert entries["orders.order_placed"] == {
        "name": "orders.order_placed",
        "version": 1,
        "producer": "orders",
        "class": "orders.events.OrderPlaced",
        "externalised": False,
        "subscribers": ["accounts.handlers.record_order_placed"],
        "subscriptions": [
            {"handler": "accounts.handlers.record_order_placed", "module": "accounts"}
        ],
    }
    assert entries["accounts.user_logged_in"]["subscribers"] == []


def test_catalog_mermaid_draws_modules_and_events():
    assert manage("eventbus", "catalog", "--format", "mermaid").splitlines() == [
        "flowchart LR",
        '    m_accounts["accounts"]',
        '    m_orders["orders"]',
        '    m_accounts -->|"accounts.user_deactivated v1"| m_orders',
        '    m_accounts -->|"accounts.user_profile_updated v1"| m_orders',
        '    m_accounts -->|"accounts.user_registered v1"| m_orders',
        '    m_orders -->|"orders.order_cancelled v1"| m_accounts',
        '    m_orders -->|"orders.order_placed v1"| m_accounts',
        '    nobody(["no subscriber yet"])',
        '    m_accounts -.->|"accounts.user_logged_in v1"| nobody',
        '    m_orders -.->|"orders.order_status_changed v1"| nobody',
    ]


def test_the_readme_diagram_is_the_catalog_commands_output():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```mermaid\n(.*?)```", readme, flags=re.DOTALL)

    assert len(blocks) == 1, "README.md should embed exactly one mermaid block"
    assert blocks[0] == manage("eventbus", "catalog", "--format", "mermaid"), (
        "The README's diagram is out of date: paste the output of "
        "`manage.py eventbus catalog --format mermaid` into it."
    )


def test_catalog_writes_to_a_file(tmp_path, capsys):
    target = tmp_path / "catalog.mmd"
    call_command("eventbus", "catalog", "--format", "mermaid", "--output", str(target))

    assert capsys.readouterr().out == f"Wrote the mermaid catalogue to {target}.\n"
    assert target.read_text().startswith("flowchart LR\n")

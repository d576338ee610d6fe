"""The bus's features on this project's own modules: what the bus's standalone tests
(packages/eventbus/tests) cannot see, since accounts and orders are not installed there."""

import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from eventbus.broker.topology import service_permissions
from eventbus.contracts.schema_lock import LOCK_FILENAME, default_path


def allows(pattern: str, name: str) -> bool:
    return re.search(pattern, name) is not None


@pytest.mark.django_db
def test_the_catalogue_page_lists_the_modules_events_and_their_subscribers(admin_client):
    page = admin_client.get("/admin/eventbus/outboxmessage/catalogue/")

    assert page.status_code == 200
    entry = next(e for e in page.context["entries"] if e.name == "orders.order_placed")
    assert (entry.version, entry.producer, entry.externalised) == (1, "orders", False)
    body = page.content.decode()
    assert "<strong>accounts</strong>: <code>accounts.handlers.record_order_placed</code>" in body


def test_the_schema_lock_holds_every_version_of_the_modules_events(tmp_path: Path):
    path = tmp_path / LOCK_FILENAME
    call_command("eventbus", "schema", "--write", "--lock", str(path))
    document = json.loads(path.read_text())

    placed = next(e for e in document["events"] if e["name"] == "orders.order_placed")
    assert placed["producer"] == "orders"
    assert placed["schema"]["required"] == ["order_id", "customer_id", "total", "currency", "lines"]
    assert placed["schema"]["$defs"]["OrderLinePayload"]["required"] == [
        "sku",
        "quantity",
        "unit_price",
    ]


def test_the_committed_lock_matches_the_project_events():
    call_command("eventbus", "schema", "--check", "--lock", str(default_path()))


def test_a_service_may_publish_only_the_events_of_its_installed_modules():
    with override_settings(EVENTBUS={"EXCHANGE": "bus", "QUEUE_PREFIX": "p."}):
        publish = service_permissions("bus").topics["bus"]

    assert allows(publish, "accounts.user_registered.v1")
    assert allows(publish, "orders.order_placed.v1")
    assert not allows(publish, "accountsx.user_registered.v1")
    assert not allows(publish, "accounts")

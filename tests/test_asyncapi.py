"""`eventbus catalog --format asyncapi`: the AMQP layout of split mode, validated by the
official AsyncAPI parser (tools/asyncapi, Node)."""

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone

from eventbus.broker.wire import encode
from eventbus.contracts import catalog
from eventbus.contracts.asyncapi import render_asyncapi
from eventbus.envelope import Envelope
from eventbus.ids import uuid7
from tests.support.processes import manage
from tools.split import ROOT

TOOL = ROOT / "tools" / "asyncapi"


def test_each_event_version_is_a_channel_on_the_topic_exchange_with_its_routing_key():
    document = render_asyncapi(catalog.build())

    assert document["asyncapi"] == "3.0.0"
    assert document["servers"]["rabbitmq"] == {
        "host": "localhost:5672",
        "protocol": "amqp",
        "protocolVersion": "0-9-1",
        "description": "RabbitMQ: the broker between the services in split mode.",
    }
    channel = document["channels"]["orders.order_placed.v1"]
    assert channel["address"] == "orders.order_placed.v1"
    assert channel["bindings"]["amqp"] == {
        "is": "routingKey",
        "exchange": {
            "name": "eventbus",
            "type": "topic",
            "durable": True,
            "autoDelete": False,
            "vhost": "/",
        },
        "bindingVersion": "0.3.0",
    }
    assert channel["description"].startswith("Sent by orders; received by accounts.")


def test_messages_carry_the_payload_schema_and_the_envelope_headers():
    document = render_asyncapi(catalog.build())

    message = document["components"]["messages"]["orders.order_placed.v1"]
    assert message["payload"] == {"$ref": "#/components/schemas/orders.order_placed.v1"}
    sent = encode(
        Envelope(uuid7(), "orders.order_placed", 1, timezone.now(), "orders", "c", None, {})
    )
    # Every header the wire format sends is documented, and required.
    assert (
        sorted(message["headers"]["properties"])
        == sorted(sent.headers)
        == [
            "x-aggregate-id",
            "x-causation-id",
            "x-correlation-id",
            "x-event-name",
            "x-event-version",
            "x-occurred-at",
            "x-producer",
        ]
    )
    assert sorted(message["headers"]["required"]) == sorted(sent.headers)
    assert message["headers"]["properties"]["x-event-version"] == {
        "type": "integer",
        "const": 1,
    }
    assert message["correlationId"]["location"] == "$message.header#/x-correlation-id"
    assert message["x-externalised"] is False
    schemas = document["components"]["schemas"]
    # Nested models move to components, so their references resolve in the document.
    assert schemas["orders.order_placed.v1"]["properties"]["lines"]["items"] == {
        "$ref": "#/components/schemas/orders.order_placed.v1.OrderLinePayload"
    }
    assert schemas["orders.order_placed.v1.OrderLinePayload"]["required"] == [
        "sku",
        "quantity",
        "unit_price",
    ]


def test_the_producer_sends_and_each_subscribing_module_receives():
    operations = render_asyncapi(catalog.build())["operations"]

    sends = operations["orders.sends.orders.order_placed.v1"]
    receives = operations["accounts.receives.orders.order_placed.v1"]
    assert (sends["action"], sends["channel"]) == (
        "send",
        {"$ref": "#/channels/orders.order_placed.v1"},
    )
    assert (receives["action"], receives["x-queue"]) == ("receive", "accounts.events")
    assert "accounts.handlers.record_order_placed" in receives["description"]
    assert "accounts.sends.accounts.user_logged_in.v1" in operations
    assert not [k for k in operations if k.endswith("receives.accounts.user_logged_in.v1")]


def test_queue_names_and_the_exchange_come_from_the_settings(settings):
    settings.EVENTBUS = {**settings.EVENTBUS, "QUEUE_PREFIX": "shop.", "EXCHANGE": "shop-bus"}

    document = render_asyncapi(catalog.build())

    receives = document["operations"]["accounts.receives.orders.order_placed.v1"]
    assert receives["x-queue"] == "shop.accounts.events"
    channel = document["channels"]["orders.order_placed.v1"]
    assert channel["bindings"]["amqp"]["exchange"]["name"] == "shop-bus"


@pytest.fixture(scope="module")
def validate() -> Callable[[Path], subprocess.CompletedProcess[str]]:
    """validate(path) runs tools/asyncapi/validate.mjs, installing its pinned packages with
    `npm ci` first when they are missing. Skips without Node, unless CI is set: then fails."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        message = "node and npm are needed to run the official AsyncAPI parser (tools/asyncapi)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI is set, so this cannot be skipped.")
        pytest.skip(f"{message}; install Node 20+ (CI=true turns this skip into a failure).")
    if not (TOOL / "node_modules" / "@asyncapi" / "parser").is_dir():
        subprocess.run(
            [npm, "ci", "--prefix", str(TOOL), "--ignore-scripts", "--no-audit", "--no-fund"],
            check=True,
            capture_output=True,
        )

    def _validate(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [node, str(TOOL / "validate.mjs"), str(path)], capture_output=True, text=True
        )

    return _validate


def test_the_asyncapi_document_passes_the_official_parser(tmp_path, validate):
    target = tmp_path / "asyncapi.json"
    manage("eventbus", "catalog", "--format", "asyncapi", "--output", str(target))
    assert json.loads(target.read_text())["asyncapi"] == "3.0.0"

    done = validate(target)

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == f"{target}: valid AsyncAPI 3.0.0 document."


def test_the_validator_rejects_an_invalid_document(tmp_path, validate):
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"asyncapi": "3.0.0", "info": {"title": "no version"}}))

    done = validate(broken)

    assert done.returncode == 1
    assert 'error: info: "info" property must have required property "version"' in done.stdout

"""Structured logs: a request's correlation id on its request line and on every bus line."""

import io
import json
import logging
import logging.config
from decimal import Decimal

import pytest

from config.logs import logging_config
from eventbus import subscriber
from eventbus.subscriptions import unsubscribe
from orders.events import OrderPlaced
from orders.services import product_upsert

pytestmark = pytest.mark.django_db(transaction=True)

FLAKY = "tests.test_logs.flaky_on_order_placed"


def flaky_on_order_placed(event: OrderPlaced) -> None:
    raise ConnectionError("warehouse away")


@pytest.fixture
def json_lines():
    """read() -> every record of the request and bus loggers so far, as dicts, written by
    the console handler of the production LOGGING (JSON formatter and the bus's filter)."""
    config = logging_config(json=True)
    configurator = logging.config.DictConfigurator(config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configurator.configure_formatter(config["formatters"]["json"]))
    handler.addFilter(configurator.configure_filter(config["filters"]["bus"]))
    loggers = [logging.getLogger(name) for name in ("config.requests", "eventbus")]
    levels = [each.level for each in loggers]
    for each in loggers:
        each.addHandler(handler)
        each.setLevel(logging.DEBUG)

    def read() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield read
    for each, level in zip(loggers, levels, strict=True):
        each.removeHandler(handler)
        each.setLevel(level)


@pytest.fixture
def flaky_handler():
    subscriber(OrderPlaced)(flaky_on_order_placed)
    yield
    unsubscribe(FLAKY)


def test_a_requests_correlation_id_is_on_its_request_line_and_every_bus_line(
    signed_up, json_lines, flaky_handler
):
    # given bob, and a handler of order_placed that fails
    product_upsert(sku="MUG-001", name="Coffee mug", price=Decimal("12.50"))
    bob = signed_up("bob")

    # when he places an order with a correlation id
    placed = bob.post(
        "/api/orders/",
        {"lines": [{"sku": "MUG-001", "quantity": 1}]},
        format="json",
        HTTP_X_CORRELATION_ID="order-req-42",
    )
    assert placed.status_code == 201
    lines = [line for line in json_lines() if line.get("correlation_id") == "order-req-42"]

    # then the request line and the bus's lines (each delivery, and the failure) carry it
    by_logger = {(line["logger"], line.get("handler")) for line in lines}
    assert ("config.requests", None) in by_logger
    assert ("eventbus.delivery", FLAKY) in by_logger
    request_line = next(line for line in lines if line["logger"] == "config.requests")
    assert (request_line["view"], request_line["status"], request_line["level"]) == (
        "orders:order-list",
        201,
        "INFO",
    )
    failure = next(line for line in lines if line.get("handler") == FLAKY)
    assert failure["level"] == "WARNING"
    assert failure["event"] == "orders.order_placed"
    assert failure["event_id"]
    assert failure["duration"] >= 0
    handled = [line for line in lines if "handled" in line["message"]]
    assert handled and all(line["event"] == "orders.order_placed" for line in handled)


def test_lines_outside_any_request_carry_a_placeholder_correlation_id(json_lines):
    logging.getLogger("eventbus.delivery").warning("on its own")

    (line,) = json_lines()
    assert (line["message"], line["correlation_id"]) == ("on its own", "-")


def test_development_logs_text_and_production_logs_json():
    from config.settings import base

    assert base.LOGGING["handlers"]["console"]["formatter"] == "text"
    assert logging_config(json=True)["handlers"]["console"]["formatter"] == "json"

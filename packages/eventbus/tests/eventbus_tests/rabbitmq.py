"""Test support for RabbitMQ: a reachable broker or a clear skip (a failure under CI)."""

import os
import uuid
from collections.abc import Iterator

import kombu
import pytest
from django.test import override_settings

from eventbus.broker.topology import delete_topology, queue_name

BROKER_URL = os.environ.get("EVENTBUS_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
#: For the tests' own publishers: each publish waits for the broker's confirm, so the message
#: is queued before the consumer under test looks (without it, a loaded machine may let a
#: ``Consumer(once=True)`` find the queue still short of what was sent).
CONFIRMED = {"confirm_publish": True}


def require_rabbitmq() -> None:
    try:
        with kombu.Connection(BROKER_URL, connect_timeout=3) as connection:
            connection.connect()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"RabbitMQ is not reachable at {BROKER_URL} under CI: {exc}")
        pytest.skip(f"needs RabbitMQ at {BROKER_URL} ({exc})")


@pytest.fixture
def broker() -> Iterator[dict[str, str]]:
    """A private exchange and queue prefix on the local RabbitMQ, deleted afterwards."""
    require_rabbitmq()
    tag = uuid.uuid4().hex[:8]
    names = {"EXCHANGE": f"test-{tag}", "QUEUE_PREFIX": f"test-{tag}."}
    with override_settings(
        EVENTBUS={
            "TRANSPORT": "amqp",
            "BROKER_URL": BROKER_URL,
            "CONFIRM_TIMEOUT_SECONDS": 5,
            "RETRY_JITTER": 0,
            **names,
        }
    ):
        queue = queue_name(
            "eventbus_tests"
        )  # the bus's own tests subscribe in module eventbus_tests
        yield names
    with kombu.Connection(BROKER_URL) as connection:
        delete_topology(connection.channel(), names["EXCHANGE"], [queue])


def get_all(queue: str) -> list:
    """Every message now in a queue (acknowledged, so it is emptied)."""
    messages = []
    with kombu.Connection(BROKER_URL) as connection:
        channel = connection.channel()
        while (message := channel.basic_get(queue, no_ack=True)) is not None:
            messages.append(message)
    return messages

"""Fixtures for the bus's tests: subscribe throwaway handlers and remove them afterwards."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import override_settings

from eventbus.subscriptions import subscriber, unsubscribe


@pytest.fixture
def subscribe() -> Iterator[Callable[..., Callable[..., Any]]]:
    """subscribe(EventClass, func, **options) -> func; unsubscribed when the test ends."""
    added: list[str] = []

    def _subscribe(event: type, func: Callable[..., Any], **options: Any) -> Callable[..., Any]:
        subscriber(event, **options)(func)
        added.append(f"{func.__module__}.{func.__qualname__}")
        return func

    yield _subscribe
    for handler_id in added:
        unsubscribe(handler_id)


@pytest.fixture(autouse=True)
def predictable_retries() -> Iterator[None]:
    """No jitter, so retry times are exact; three attempts before a dead letter."""
    with override_settings(
        EVENTBUS={"MAX_ATTEMPTS": 3, "RETRY_BASE_SECONDS": 10, "RETRY_JITTER": 0}
    ):
        yield


from eventbus.tests.rabbitmq import broker  # noqa: E402, F401  (a fixture for the AMQP tests)

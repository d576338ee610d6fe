"""Fixtures for the bus's tests: subscribe throwaway handlers and remove them afterwards.
Under `make test-matrix`, proof that ``eventbus`` is the installed wheel, not the source tree."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from eventbus.subscriptions import subscriber, unsubscribe
from eventbus.tasks import SUPPORTED

#: Test modules of django.tasks (Django 6.0+): not collected on Django 5.2, where the bus
#: refuses OutboxTaskBackend (test_tasks_need_django_6.py proves the refusal there).
NEED_DJANGO_TASKS = ["test_tasks.py", "test_together.py"]
collect_ignore = [] if SUPPORTED else NEED_DJANGO_TASKS


def pytest_report_header(config: pytest.Config) -> str:
    import django

    if SUPPORTED:
        return f"Django {django.get_version()}: django.tasks present, every test collected"
    return (
        f"Django {django.get_version()}: no django.tasks, so {', '.join(NEED_DJANGO_TASKS)} "
        "are not collected (OutboxTaskBackend needs Django 6.0+)"
    )


def pytest_configure(config: pytest.Config) -> None:
    """EVENTBUS_FROM_WHEEL=1 (set by noxfile.py): refuse to run against a source checkout."""
    if os.environ.get("EVENTBUS_FROM_WHEEL") != "1":
        return
    import eventbus

    where = Path(eventbus.__file__).resolve()
    if "site-packages" not in where.parts:
        raise pytest.UsageError(f"eventbus comes from {where}, not an installed wheel")


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


from eventbus_tests.rabbitmq import broker  # noqa: E402, F401  (a fixture for the AMQP tests)

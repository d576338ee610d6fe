"""Test helpers shipped with the bus: capture published events and assert on them.

Enable the fixtures in a project's conftest.py with ``pytest_plugins = ["eventbus.testing"]``.

    def test_places_order(published_events):
        order_place(...)
        assert published_events.names() == ["orders.order_placed"]
        (placed,) = published_events.of(OrderPlaced)

Redelivery drill: ``pytest --eventbus-redeliver`` (or ``@pytest.mark.eventbus_redeliver`` on a
test, ``eventbus_redeliver(False)`` to keep one out) delivers every event twice, crashes each
handler once after its effects and reorders batches (see eventbus.delivery.redelivery);
``redelivering()`` does the same for one block.

Consumer contracts: ``event_from_schema(UserRegistered, user_id=7)`` builds an event from
the producer's locked schema (see eventbus.contracts.consumer), for a subscriber's tests.

Data ownership: the plugin turns the guard on for every test (eventbus.ownership.pytest_plugin:
``--eventbus-ownership-record=PATH``, ``--no-eventbus-ownership``).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import pytest

from eventbus.contracts.consumer import event_from_schema
from eventbus.delivery.redelivery import redelivering
from eventbus.envelope import Envelope
from eventbus.events import Event

E = TypeVar("E", bound=Event)

__all__ = [
    "PublishedEvents",
    "capture_published",
    "event_from_schema",
    "isolated_event_registry",
    "published_events",
    "redelivering",
]

#: The redelivery drill's switch, marker and fixture, and the data-ownership guard's options
#: and fixtures, come with these fixtures.
pytest_plugins = ["eventbus.testing_redeliver", "eventbus.ownership.pytest_plugin"]


class PublishedEvents:
    """What was published while capturing, in order (rolled-back publishes included:
    check the outbox table when you need to know what committed)."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.events: list[Event] = []

    def _record(self, envelope: Envelope, event: Event) -> None:
        self.envelopes.append(envelope)
        self.events.append(event)

    def names(self) -> list[str]:
        return [e.name for e in self.envelopes]

    def of(self, event_type: type[E]) -> list[E]:
        """The captured events of one class, in publish order."""
        return [e for e in self.events if type(e) is event_type]

    def clear(self) -> None:
        self.envelopes.clear()
        self.events.clear()

    def __len__(self) -> int:
        return len(self.events)


@contextmanager
def isolated_event_registry() -> Iterator[None]:
    """Event classes and upcasters defined inside the block are forgotten when it ends, so a
    test can define a new version of an event without leaking it into other tests."""
    from eventbus import events
    from eventbus.contracts import upcasting

    saved_events, saved_upcasters = dict(events._registry), dict(upcasting._upcasters)
    try:
        yield
    finally:
        events._registry.clear()
        events._registry.update(saved_events)
        upcasting._upcasters.clear()
        upcasting._upcasters.update(saved_upcasters)


@contextmanager
def capture_published() -> Iterator[PublishedEvents]:
    """Capture every event published inside the block."""
    from eventbus.publishing import add_publish_observer, remove_publish_observer

    captured = PublishedEvents()
    add_publish_observer(captured._record)
    try:
        yield captured
    finally:
        remove_publish_observer(captured._record)


@pytest.fixture
def published_events() -> Iterator[PublishedEvents]:
    """Every event published during the test, in order."""
    with capture_published() as captured:
        yield captured

"""The pytest side of the redelivery drill: the ``--eventbus-redeliver`` switch, the
``eventbus_redeliver`` marker and the autouse fixture that applies them. A pytest plugin of
its own, loaded with eventbus.testing (its ``pytest_plugins``).

The drill itself (every event delivered twice, a crash after each handler's effects, batches
reordered) is eventbus.delivery.redelivery. Which tests it covers:

- ``pytest --eventbus-redeliver``: every test, except those marked
  ``@pytest.mark.eventbus_redeliver(False)`` (tests of the bus's own mechanics that count a
  handler's calls exactly; say why in a comment beside the marker);
- ``@pytest.mark.eventbus_redeliver`` (or ``(True)``): this test, with or without the switch.
"""

from collections.abc import Iterator

import pytest

from eventbus.delivery.redelivery import redelivering

OPTION = "--eventbus-redeliver"
MARKER = "eventbus_redeliver"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("eventbus").addoption(
        OPTION,
        action="store_true",
        default=False,
        help="Deliver every event twice, crash each handler once after its effects and "
        "reorder batches, to prove handlers idempotent and order-tolerant.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(on=True): run this test under the redelivery drill ({OPTION}), or with "
        "False keep it out of the drill.",
    )


def wanted(node: pytest.Item) -> bool:
    """Whether ``node`` runs under the drill: its closest marker decides, else the switch."""
    marker = node.get_closest_marker(MARKER)
    if marker is None:
        return bool(node.config.getoption(OPTION))
    if len(marker.args) > 1 or set(marker.kwargs) - {"on"}:
        raise pytest.UsageError(
            f"{node.nodeid}: @pytest.mark.{MARKER} takes one argument, True or False "
            f"(got args={marker.args!r}, kwargs={marker.kwargs!r})."
        )
    on = marker.args[0] if marker.args else marker.kwargs.get("on", True)
    if not isinstance(on, bool):
        raise pytest.UsageError(
            f"{node.nodeid}: @pytest.mark.{MARKER}({on!r}) needs True or False."
        )
    return on


@pytest.fixture(autouse=True)
def _eventbus_redeliver(request: pytest.FixtureRequest) -> Iterator[None]:
    """The drill, for each test that the switch or its marker puts under it."""
    if not wanted(request.node):
        yield
        return
    with redelivering():
        yield

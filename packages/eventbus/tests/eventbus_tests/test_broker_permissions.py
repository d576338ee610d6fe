"""A service's own broker user: the permissions the bus computes from its topology."""

import json
import re
from io import StringIO

from django.core.management import call_command
from django.test import override_settings

from eventbus.broker.topology import service_permissions
from eventbus_tests.sample import ThingHappened


def allows(pattern: str, name: str) -> bool:
    return re.search(pattern, name) is not None


def test_a_service_may_publish_only_the_events_of_its_installed_modules(subscribe):
    # given this process consumes samples' events (samples is not installed here)
    subscribe(ThingHappened, lambda event: None)
    with override_settings(EVENTBUS={"EXCHANGE": "bus", "QUEUE_PREFIX": "p."}):
        permissions = service_permissions("bus")

    publish = permissions.topics["bus"]
    assert not allows(publish, "samples.thing_happened.v1")  # not produced here
    assert not allows(publish, "samples")
    dead_letters = permissions.topics["bus.dead-letter"]
    assert allows(dead_letters, "p.eventbus_tests.events")
    assert not allows(dead_letters, "p.samples.events")
    for own in ["bus", "bus.unrouted", "bus.dead-letter", "p.eventbus_tests.events"]:
        assert allows(permissions.read, own) and allows(permissions.configure, own)
    assert allows(permissions.write, "p.eventbus_tests.events.dead-letter")
    for foreign in ["p.samples.events", "p.eventbus_tests.eventsx", "other", "bus2"]:
        assert not allows(permissions.read, foreign)
        assert not allows(permissions.write, foreign)
        assert not allows(permissions.configure, foreign)


def test_the_command_prints_them_as_json():
    out = StringIO()
    call_command("eventbus", "broker-permissions", "--exchange", "bus", stdout=out)

    printed = json.loads(out.getvalue())
    assert set(printed) == {"configure", "write", "read", "topics"}
    assert set(printed["topics"]) == {"bus", "bus.dead-letter"}

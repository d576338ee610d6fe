"""eventbus.metrics: relay and consumer counters, the scrape-time gauges, multi-process mode."""

import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from prometheus_client import REGISTRY, generate_latest

from eventbus import metrics, publish
from eventbus.broker.amqp import ConfirmingPublisher, Received
from eventbus.broker.inbox import receive
from eventbus.broker.relay import relay_batch
from eventbus.broker.wire import encode
from eventbus.ids import uuid7
from eventbus.models import OutboxMessage
from eventbus.operations.stats import gauge_stats
from eventbus.signals import LIFECYCLE
from eventbus_tests.rabbitmq import BROKER_URL
from eventbus_tests.sample import ThingAnnounced, ThingHappened

pytestmark = pytest.mark.django_db(transaction=True)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_connect_listens_to_every_lifecycle_signal_and_disconnect_frees_them():
    metrics.connect()  # the app connected them already (EVENTBUS['METRICS']): idempotent
    counted = [len(signal.receivers) for signal in LIFECYCLE]
    metrics.disconnect()
    try:
        assert [len(signal.receivers) for signal in LIFECYCLE] == [n - 1 for n in counted]
    finally:
        metrics.connect()


def test_relayed_and_received_messages_are_counted_with_the_consumer_lag(subscribe, broker):
    subscribe(ThingHappened, lambda event: None)
    relayed = sample("eventbus_relayed_messages_total", event="samples.thing_announced")
    consumed = sample("messaging_client_consumed_messages_total", event="samples.thing_happened")
    lagged = sample("eventbus_consumer_lag_seconds_count", event="samples.thing_happened")
    with transaction.atomic():
        published = publish(ThingAnnounced(thing_id=3))  # externalised: waits for the relay
    assert gauge_stats().relay_pending == 1

    publisher = ConfirmingPublisher(BROKER_URL, broker["EXCHANGE"], confirm_timeout=5)
    try:
        relay_batch(publisher, using="default", batch_size=10)
    finally:
        publisher.close()
    arriving = replace(published, event_id=uuid7(), name="samples.thing_happened")
    wire = encode(replace(arriving, payload={"thing_id": 4, "label": ""}))
    receive([Received("q", 1, wire.message_id, wire.body, wire.headers)])

    assert sample("eventbus_relayed_messages_total", event="samples.thing_announced") == relayed + 1
    assert (
        sample("messaging_client_consumed_messages_total", event="samples.thing_happened")
        == consumed + 1
    )
    assert (
        sample("eventbus_consumer_lag_seconds_count", event="samples.thing_happened") == lagged + 1
    )
    assert gauge_stats().relay_pending == 0


def test_the_consumer_pending_age_is_the_oldest_undispatched_received_row():
    now = timezone.now()

    def row(*, broker: str, minutes: int, dispatched: bool = False) -> None:
        OutboxMessage.objects.create(
            name="samples.thing_happened",
            version=1,
            occurred_at=now - timedelta(minutes=minutes),
            producer="samples",
            correlation_id="c",
            payload={},
            broker=broker,
            dispatched_at=now if dispatched else None,
        )

    row(broker=OutboxMessage.Broker.RECEIVED, minutes=5)
    row(broker=OutboxMessage.Broker.RECEIVED, minutes=9, dispatched=True)  # done: not lag
    row(broker="", minutes=20)  # a local row: backlog, not consumer lag

    gauges = gauge_stats()

    assert (gauges.backlog, gauges.oldest_pending_at) == (2, now - timedelta(minutes=20))
    assert gauges.oldest_received_pending_at == now - timedelta(minutes=5)
    text = generate_latest(metrics._GAUGES).decode()
    assert "eventbus_outbox_backlog 2.0" in text
    assert "eventbus_consumer_pending_age_seconds 3" in text  # 300 s and a little


CHILD = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "eventbus_tests.settings"
django.setup()
from eventbus import metrics
metrics.SENT.labels("samples.thing_happened").inc({n})
"""


def test_multiprocess_mode_sums_every_process(tmp_path, monkeypatch):
    # given two processes that each counted under PROMETHEUS_MULTIPROC_DIR
    env = {
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    for n in (2, 3):
        subprocess.run([sys.executable, "-c", CHILD.format(n=n)], env=env, check=True)

    # when this process renders the exposition in multi-process mode
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    text = generate_latest(metrics.process_registry()).decode()

    # then it reads both processes' files, not its own registry
    assert 'messaging_client_sent_messages_total{event="samples.thing_happened"} 5.0' in text

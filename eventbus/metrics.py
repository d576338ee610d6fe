"""Prometheus metrics for the bus, fed by its lifecycle signals; opt-in, needs prometheus-client.

``EVENTBUS = {"METRICS": True}`` makes the app connect them at start-up (``connect()``);
``exposition()`` renders every metric of the process, or of every process when
``PROMETHEUS_MULTIPROC_DIR`` is set (gunicorn), plus the gauges read from the database at
each scrape. Serve it from a view of your own, behind whatever guards your project needs.

Counters and histograms (labels: ``event``, ``handler``, ``outcome``):

``messaging_client_sent_messages_total``    events written to the outbox, by event
``eventbus_deliveries_total``               handler runs, by event, handler and outcome
                                            (succeeded, failed, dead_lettered)
``messaging_process_duration_seconds``      how long a handler ran, by event, handler, outcome
``eventbus_delivery_latency_seconds``       from the event's occurred_at to its handler's
                                            success (commit to handled), by event and handler
``eventbus_relayed_messages_total``         events the broker confirmed from the relay
``messaging_client_consumed_messages_total`` events received from the broker
``eventbus_consumer_lag_seconds``           from occurred_at to stored by the consumer

Gauges, read from the database at each scrape (``eventbus.operations.stats.gauge_stats``):
``eventbus_outbox_backlog``, ``eventbus_outbox_oldest_pending_age_seconds``,
``eventbus_deliveries_due``, ``eventbus_dead_letters`` (by handler),
``eventbus_relay_pending``, ``eventbus_consumer_pending_age_seconds``.
"""

import logging
import os
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from eventbus.envelope import Envelope
from eventbus.operations.stats import gauge_stats
from eventbus.signals import (
    delivery_dead_lettered,
    delivery_failed,
    delivery_succeeded,
    event_published,
    message_received,
    message_relayed,
)

logger = logging.getLogger("eventbus.metrics")

#: From a millisecond handler to a retry hours later.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)

SENT = Counter("messaging_client_sent_messages", "Events written to the outbox.", ["event"])
DELIVERIES = Counter(
    "eventbus_deliveries", "Handler runs by outcome.", ["event", "handler", "outcome"]
)
PROCESS_DURATION = Histogram(
    "messaging_process_duration_seconds",
    "How long a handler ran.",
    ["event", "handler", "outcome"],
)
DELIVERY_LATENCY = Histogram(
    "eventbus_delivery_latency_seconds",
    "From the event's occurred_at to its handler's success.",
    ["event", "handler"],
    buckets=LATENCY_BUCKETS,
)
RELAYED = Counter(
    "eventbus_relayed_messages", "Events the broker confirmed from the relay.", ["event"]
)
CONSUMED = Counter(
    "messaging_client_consumed_messages", "Events received from the broker.", ["event"]
)
CONSUMER_LAG = Histogram(
    "eventbus_consumer_lag_seconds",
    "From the event's occurred_at to its storing by the consumer.",
    ["event"],
    buckets=LATENCY_BUCKETS,
)


#: Each metric's child per label values, looked up once: ``labels()`` validates and locks
#: at every call, a third of a delivery's metric work. (A metric's ``clear()`` or
#: ``remove()`` would orphan its cached children; the bus calls neither.)
_children: dict[tuple[object, tuple[str, ...]], Any] = {}


def _child(metric: Counter | Histogram, *labels: str) -> Any:
    child = _children.get((metric, labels))
    if child is None:
        child = _children[(metric, labels)] = metric.labels(*labels)
    return child


def _age(moment: datetime) -> float:
    return max(0.0, time.time() - moment.timestamp())


def _published(sender: str, *, envelope: Envelope, **data: Any) -> None:
    _child(SENT, sender).inc()


def _succeeded(
    sender: str, *, envelope: Envelope, handler_id: str, duration: float, **data: Any
) -> None:
    _child(DELIVERIES, sender, handler_id, "succeeded").inc()
    _child(PROCESS_DURATION, sender, handler_id, "succeeded").observe(duration)
    _child(DELIVERY_LATENCY, sender, handler_id).observe(_age(envelope.occurred_at))


def _failed(
    sender: str, *, envelope: Envelope, handler_id: str, duration: float, **data: Any
) -> None:
    DELIVERIES.labels(sender, handler_id, "failed").inc()
    PROCESS_DURATION.labels(sender, handler_id, "failed").observe(duration)


def _dead(
    sender: str, *, envelope: Envelope, handler_id: str, duration: float, **data: Any
) -> None:
    DELIVERIES.labels(sender, handler_id, "dead_lettered").inc()
    PROCESS_DURATION.labels(sender, handler_id, "dead_lettered").observe(duration)


def _relayed(sender: str, *, envelope: Envelope, **data: Any) -> None:
    RELAYED.labels(sender).inc()


def _received(sender: str, *, envelope: Envelope, **data: Any) -> None:
    CONSUMED.labels(sender).inc()
    CONSUMER_LAG.labels(sender).observe(_age(envelope.occurred_at))


_RECEIVERS = (
    (event_published, _published),
    (delivery_succeeded, _succeeded),
    (delivery_failed, _failed),
    (delivery_dead_lettered, _dead),
    (message_relayed, _relayed),
    (message_received, _received),
)


def connect() -> None:
    """Count every lifecycle signal from now on. Idempotent: blinker keeps one connection
    per receiver."""
    for signal, receiver in _RECEIVERS:
        signal.connect(receiver, weak=False)


def disconnect() -> None:
    """Stop counting; the lifecycle signals are free again when nothing else listens."""
    for signal, receiver in _RECEIVERS:
        signal.disconnect(receiver)


class BusCollector(Collector):
    """The bus's gauges, read from the database at each scrape (two aggregate queries).
    A database that fails is logged and leaves the gauges out of that scrape."""

    def __init__(self, *, using: str = DEFAULT_DB_ALIAS) -> None:
        self.using = using

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            snapshot = gauge_stats(using=self.using)
        except DatabaseError:
            logger.exception("could not read the bus's gauges")
            return []
        oldest = snapshot.oldest_pending_at
        received = snapshot.oldest_received_pending_at
        dead = GaugeMetricFamily(
            "eventbus_dead_letters", "Dead-lettered deliveries, by handler.", labels=["handler"]
        )
        for handler, count in sorted(snapshot.dead_letters.items()):
            dead.add_metric([handler], count)
        return [
            GaugeMetricFamily(
                "eventbus_outbox_backlog", "Outbox rows not yet dispatched.", value=snapshot.backlog
            ),
            GaugeMetricFamily(
                "eventbus_outbox_oldest_pending_age_seconds",
                "Age of the oldest undispatched outbox row (0 when none).",
                value=0.0 if oldest is None else (snapshot.at - oldest).total_seconds(),
            ),
            GaugeMetricFamily(
                "eventbus_deliveries_due",
                "Failed or waiting deliveries whose next attempt is due.",
                value=snapshot.due,
            ),
            dead,
            GaugeMetricFamily(
                "eventbus_relay_pending",
                "Outbox rows still to be relayed to the broker.",
                value=snapshot.relay_pending,
            ),
            GaugeMetricFamily(
                "eventbus_consumer_pending_age_seconds",
                "Age of the oldest row received from the broker and not yet dispatched.",
                value=0.0 if received is None else (snapshot.at - received).total_seconds(),
            ),
        ]


_GAUGES = CollectorRegistry(auto_describe=False)
_GAUGES.register(BusCollector())


def process_registry() -> CollectorRegistry:
    """Every process's metrics in multi-process mode (``PROMETHEUS_MULTIPROC_DIR`` set
    before the processes start), else this process's default registry."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


def exposition() -> bytes:
    """The text exposition format: the counters and histograms, then the bus's gauges
    (queried once per scrape, not once per process)."""
    return generate_latest(process_registry()) + generate_latest(_GAUGES)

"""The relay: sends outbox rows marked for the broker, marking them sent once confirmed.

Rows are claimed in id order with SKIP LOCKED (several relays can run), published as one
batch with many confirms in flight, and marked sent in one UPDATE for those the broker
confirmed, in the claim's transaction. Unconfirmed rows stay pending and are sent again:
delivery to the broker is at least once, and consumers deduplicate by event id.
"""

import logging
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from eventbus import tracing
from eventbus.broker.amqp import CONNECTION_ERRORS, ConfirmingPublisher
from eventbus.broker.wire import encode
from eventbus.conf import bus_settings
from eventbus.envelope import Envelope
from eventbus.process import next_reconnect_pause
from eventbus.signals import announce, message_relayed
from eventbus.storage import store_for

logger = logging.getLogger("eventbus.broker.relay")


@dataclass(frozen=True)
class RelayResult:
    claimed: int
    confirmed: int


def relay_batch(publisher: ConfirmingPublisher, *, using: str, batch_size: int) -> RelayResult:
    """Publish up to ``batch_size`` pending rows; raises CONNECTION_ERRORS if the broker is
    unreachable (the rows stay pending, nothing is marked)."""
    store = store_for(using)
    with transaction.atomic(using=using):
        envelopes = store.claim_relay(limit=batch_size)
        if not envelopes:
            return RelayResult(0, 0)
        started = time.perf_counter()
        confirmed = _publish(publisher, envelopes)
        duration = time.perf_counter() - started
        sent = [e for e, ok in zip(envelopes, confirmed, strict=True) if ok]
        store.mark_relayed([e.event_id for e in sent], at=timezone.now())
        for envelope in sent:
            announce(message_relayed, envelope, using=using, duration=duration)
        return RelayResult(len(envelopes), len(sent))


def _publish(publisher: ConfirmingPublisher, envelopes: list[Envelope]) -> list[bool]:
    """Publish ``envelopes``; which the broker confirmed, in a ``send`` span when traced."""
    messages = [encode(envelope) for envelope in envelopes]
    tracer = tracing.tracer()
    if tracer is None:
        return publisher.publish_many(messages)
    traceparents = [envelope.traceparent for envelope in envelopes]
    with tracing.sending(tracer, traceparents, destination=bus_settings.EXCHANGE) as span:
        confirmed = publisher.publish_many(messages)
        if not all(confirmed):
            tracing.failed(span, f"{confirmed.count(False)} of {len(confirmed)} not confirmed")
        return confirmed


class Relayer:
    """Relays batch after batch; when the broker is away, backs off and reconnects.

    Publishing requests never wait for it: while the broker is down the outbox simply
    grows, and it drains when the broker is back.
    """

    def __init__(self, *, using: str = "default", batch_size: int = 500) -> None:
        self.using = using
        self.batch_size = batch_size
        self.publisher = ConfirmingPublisher(
            bus_settings.BROKER_URL,
            bus_settings.EXCHANGE,
            bus_settings.CONFIRM_TIMEOUT_SECONDS,
        )
        self.backoff = 0.0
        self._resume_at = 0.0
        self.sent = 0

    def tick(self) -> int:
        """Relay one batch; returns how many rows were confirmed (0 while backing off)."""
        if time.monotonic() < self._resume_at:
            return 0
        try:
            result = relay_batch(self.publisher, using=self.using, batch_size=self.batch_size)
            if not result.claimed:
                self.publisher.heartbeat()  # idle: keep the connection known to be alive
        except CONNECTION_ERRORS as exc:
            self.publisher.close()
            self.backoff = next_reconnect_pause(self.backoff)
            self._resume_at = time.monotonic() + self.backoff
            logger.warning("broker unreachable (%s); relaying again in %.1f s", exc, self.backoff)
            return 0
        self.backoff = 0.0
        self.sent += result.confirmed
        return result.confirmed

    def close(self) -> None:
        self.publisher.close()

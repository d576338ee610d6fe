"""RabbitMQ through kombu/py-amqp: a confirming publisher and a batching consumer.

Both sides declare the topology (eventbus.broker.topology) idempotently when they connect.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventbus.extras import missing_extra

try:
    import amqp
    import kombu
    from kombu.exceptions import OperationalError
except ModuleNotFoundError as missing:  # the `amqp` extra is not installed
    raise missing_extra("kombu", needed_for="RabbitMQ (the broker side of the bus)") from missing

from eventbus.broker.topology import dead_letter_exchange, declare_exchange, declare_queue
from eventbus.broker.wire import CONTENT_ENCODING, CONTENT_TYPE, WireMessage
from eventbus.exceptions import BrokerTopologyError

logger = logging.getLogger("eventbus.amqp")

#: Seconds between AMQP heartbeats: a connection the network silently dropped is noticed
#: within two of them (both sides check at every poll), instead of never.
HEARTBEAT_SECONDS = 30


#: What a lost or refused broker connection raises: retry after a pause.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    OperationalError,
    amqp.exceptions.ConnectionError,
    amqp.exceptions.RecoverableConnectionError,
    amqp.exceptions.ChannelError,
    amqp.exceptions.MessageNacked,
)


def connection_error(url: str, *, timeout: float) -> BaseException | None:
    """What opening an AMQP connection to ``url`` raised within ``timeout`` seconds (one of
    CONNECTION_ERRORS), or None when it opened; the connection is closed either way."""
    connection = kombu.Connection(url, connect_timeout=timeout)
    try:
        connection.connect()
    except CONNECTION_ERRORS as exc:
        return exc
    finally:
        connection.release()
    return None


#: The header a dead letter carries its reason in, and the longest reason written.
DEAD_REASON_HEADER = "x-eventbus-dead-reason"
MAX_REASON_CHARS = 1000
#: An original header larger than this (as text) is not copied onto the dead letter (its
#: name is listed instead), so that the dead letter fits in one AMQP frame.
MAX_COPIED_HEADER_CHARS = 1024


def to_amqp(message: WireMessage) -> amqp.Message:
    return amqp.Message(
        message.body,
        content_type=CONTENT_TYPE,
        content_encoding="utf-8",
        delivery_mode=2,  # persistent
        message_id=message.message_id,
        application_headers=message.headers,
    )


class ConfirmingPublisher:
    """Publishes to the exchange with publisher confirms, many in flight at once.

    ``publish_many`` sends a whole batch before waiting, then collects the broker's acks
    (which may confirm many at once) until all are in or the confirm timeout passes, and
    says which messages were confirmed. Only those may be marked sent; the rest are sent
    again later (consumers deduplicate by event id). Raises one of CONNECTION_ERRORS when
    the broker is unreachable; call ``close()`` and try again later.
    """

    def __init__(self, url: str, exchange: str, confirm_timeout: float) -> None:
        self.url = url
        self.exchange = exchange
        self.confirm_timeout = confirm_timeout
        self._connection: kombu.Connection | None = None
        self._channel: Any = None
        self._last_tag = 0
        self._acked: set[int] = set()
        self._nacked: set[int] = set()
        self._unsettled: set[int] = set()

    def _connect(self) -> tuple[kombu.Connection, Any]:
        """The open connection and its channel, opened and set up on first use."""
        if self._connection is not None:
            return self._connection, self._channel
        connection = kombu.Connection(self.url, connect_timeout=5, heartbeat=HEARTBEAT_SECONDS)
        connection.connect()
        channel = connection.channel()
        declare_exchange(channel, self.exchange)
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        self._connection, self._channel = connection, channel
        self._last_tag = 0
        self._acked.clear()
        self._nacked.clear()
        self._unsettled.clear()
        logger.info("publisher connected to %s", connection.as_uri())
        return connection, channel

    def _settle(self, tag: int, multiple: bool, into: set[int]) -> None:
        tags = [t for t in self._unsettled if t <= tag] if multiple else [tag]
        for t in tags:
            self._unsettled.discard(t)
            into.add(t)

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, self._acked)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, self._nacked)

    def publish_many(self, messages: list[WireMessage]) -> list[bool]:
        """Publish the batch; return, in order, whether the broker confirmed each one."""
        connection, channel = self._connect()
        tags: list[int] = []
        for message in messages:
            self._last_tag += 1
            self._unsettled.add(self._last_tag)
            tags.append(self._last_tag)
            channel.basic_publish(to_amqp(message), self.exchange, message.routing_key)
        deadline = time.monotonic() + self.confirm_timeout
        waiting = set(tags)
        while waiting & self._unsettled:
            left = deadline - time.monotonic()
            if left <= 0:
                logger.warning(
                    "%d of %d publishes not confirmed within %.1f s; they will be sent again",
                    len(waiting & self._unsettled),
                    len(tags),
                    self.confirm_timeout,
                )
                break
            try:
                connection.drain_events(timeout=left)
            except TimeoutError:
                continue
        confirmed = [t in self._acked for t in tags]
        timed_out = bool(waiting & self._unsettled)
        self._acked.difference_update(tags)
        self._nacked.difference_update(tags)
        if timed_out:
            # Confirms that never came: the connection may be half-open. Start afresh
            # next time rather than keep publishing into it (the rows are sent again).
            self.close()
        return confirmed

    def heartbeat(self) -> None:
        """Send and check heartbeats while idle; raises CONNECTION_ERRORS on a dead link."""
        if self._connection is not None:
            self._connection.heartbeat_check()

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:
                logger.debug("error while closing the publisher connection", exc_info=True)


@dataclass(frozen=True)
class Received:
    """One message taken from a queue, not yet acknowledged."""

    queue: str
    delivery_tag: int
    message_id: object
    body: bytes
    headers: object
    #: None when the message did not come through an exchange (then it is not checked).
    routing_key: str | None = None
    content_type: object = CONTENT_TYPE
    content_encoding: object = CONTENT_ENCODING


def dead_letter_headers(received: Received, reason: str) -> dict[str, Any]:
    """The headers of ``received``'s dead letter: its own (unless too large to copy), its
    routing key, and the reason, as valid UTF-8 of bounded length."""
    original = received.headers if isinstance(received.headers, dict) else {}
    kept = {k: v for k, v in original.items() if len(repr(v)) <= MAX_COPIED_HEADER_CHARS}
    dropped = [str(k)[:100] for k in original if k not in kept]
    if dropped:
        kept["x-eventbus-headers-dropped"] = ", ".join(dropped)[:MAX_COPIED_HEADER_CHARS]
    readable = reason.encode("utf-8", "backslashreplace").decode("utf-8")
    return {
        **kept,
        "x-eventbus-routing-key": received.routing_key or "",
        DEAD_REASON_HEADER: readable[:MAX_REASON_CHARS],
    }


class BatchingConsumer:
    """Consumes the given queues; hands over what has arrived in batches; acks after.

    ``handle(batch)`` must commit its work before returning; it returns the messages to
    send to their queue's dead-letter queue with a reason. Each dead letter is published
    on a channel with publisher confirms and waited for; only once the broker has confirmed
    them all is the batch acknowledged (one ack for all), so a crash or an unconfirmed dead
    letter before that redelivers the whole batch (what was stored is deduplicated).
    """

    def __init__(
        self,
        url: str,
        exchange: str,
        queues: dict[str, list[str]],
        *,
        prefetch: int,
        handle: Callable[[list[Received]], list[tuple[Received, str]]],
        confirm_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.exchange = exchange
        self.queues = queues
        self.prefetch = prefetch
        self.handle = handle
        self.confirm_timeout = confirm_timeout
        self._buffer: list[Received] = []
        self._connection: kombu.Connection | None = None
        self._channel: Any = None
        self._dead_letters: Any = None  # a channel in confirm mode

    def connect(self) -> kombu.Connection:
        """Open the connection, declare the topology and start consuming; return it."""
        connection = kombu.Connection(self.url, connect_timeout=5, heartbeat=HEARTBEAT_SECONDS)
        connection.connect()
        channel = connection.channel()
        channel.auto_decode = False  # bodies stay bytes: decoding is the wire format's job
        try:
            declare_exchange(channel, self.exchange)
            for queue, bindings in self.queues.items():
                declare_queue(channel, self.exchange, queue, bindings)
        except amqp.exceptions.PreconditionFailed as exc:
            connection.release()
            raise BrokerTopologyError(
                f"The broker refused the bus's topology: {exc}. A queue's type or arguments "
                "cannot change in place (classic to quorum, another delivery limit): move to "
                "new queues as docs/split-mode.md says (e.g. a new EVENTBUS['QUEUE_PREFIX'])."
            ) from exc
        dead_letters = connection.channel()
        dead_letters.confirm_select()
        channel.basic_qos(0, self.prefetch, False)
        for queue in self.queues:
            channel.basic_consume(queue, callback=self._make_callback(queue))
        self._connection, self._channel, self._dead_letters = connection, channel, dead_letters
        logger.info("consuming %s from %s", ", ".join(self.queues), connection.as_uri())
        return connection

    def _make_callback(self, queue: str) -> Callable[[amqp.Message], None]:
        def on_message(message: amqp.Message) -> None:
            properties = message.properties
            body = message.body
            self._buffer.append(
                Received(
                    queue=queue,
                    delivery_tag=message.delivery_tag,
                    message_id=properties.get("message_id"),
                    body=body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass"),
                    headers=properties.get("application_headers"),
                    routing_key=(message.delivery_info or {}).get("routing_key", ""),
                    content_type=properties.get("content_type"),
                    content_encoding=properties.get("content_encoding"),
                )
            )

        return on_message

    def poll(self, timeout: float) -> int:
        """Wait up to ``timeout`` for messages, handle what arrived as one batch, ack it.

        Returns how many messages were handled. Raises one of CONNECTION_ERRORS when the
        connection is lost (the unacknowledged messages come back on reconnect).
        """
        connection = self._connection if self._connection is not None else self.connect()
        connection.heartbeat_check()
        if not self._buffer:  # messages may have come while waiting for a confirm
            try:
                connection.drain_events(timeout=timeout)
            except TimeoutError:
                return 0
        while len(self._buffer) < self.prefetch:  # take what is already here, no waiting
            try:
                connection.drain_events(timeout=0)
            except TimeoutError:
                break
        batch, self._buffer = self._buffer, []
        if not batch:
            return 0
        for received, reason in self.handle(batch):
            self._dead_letter(received, reason)
        self._channel.basic_ack(max(r.delivery_tag for r in batch), multiple=True)
        return len(batch)

    def _dead_letter(self, received: Received, reason: str) -> None:
        """Publish to the queue's dead letters and wait for the broker's confirm; raises
        one of CONNECTION_ERRORS (MessageNacked, a timeout) if it does not come."""
        headers = dead_letter_headers(received, reason)
        logger.warning(
            "dead-lettering message %r from %s: %s",
            received.message_id,
            received.queue,
            headers[DEAD_REASON_HEADER],
        )
        message_id = received.message_id
        self._dead_letters.basic_publish_confirm(
            amqp.Message(
                received.body,
                delivery_mode=2,
                message_id=message_id if isinstance(message_id, str) else None,
                application_headers=headers,
            ),
            dead_letter_exchange(self.exchange),
            received.queue,
            confirm_timeout=self.confirm_timeout,
        )

    def close(self) -> None:
        self._buffer = []
        connection, self._connection, self._channel = self._connection, None, None
        self._dead_letters = None
        if connection is not None:
            try:
                connection.release()
            except Exception:
                logger.debug("error while closing the consumer connection", exc_info=True)

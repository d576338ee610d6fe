"""publish(): write an event to the outbox in the caller's transaction, dispatch after commit."""

import time
from collections.abc import Callable
from functools import cache, partial
from typing import NamedTuple, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from eventbus import tracing
from eventbus.conf import bus_settings
from eventbus.context import current_correlation_id, current_envelope, new_correlation_id
from eventbus.envelope import Envelope
from eventbus.events import Event
from eventbus.exceptions import EventDefinitionError, NotInTransactionError
from eventbus.ids import uuid7
from eventbus.signals import announce, event_published
from eventbus.subscriptions import subscriptions_for
from eventbus.together import NewMessage, write_message
from eventbus.transports import transport

T = TypeVar("T")

PublishObserver = Callable[[Envelope, Event], None]
_observers: list[PublishObserver] = []


def publish(event: Event, *, using: str = DEFAULT_DB_ALIAS) -> Envelope:
    """Publish ``event`` as part of the current transaction and return its envelope.

    Must be called inside ``transaction.atomic()`` (on the ``using`` database): the outbox
    row is written in that transaction, so a rollback publishes nothing. Raises
    NotInTransactionError otherwise. In inline mode each subscriber in this process runs
    after the commit, in its own transaction; its failure is recorded and never raised
    here. With the amqp transport, or for an externalised event, the row also waits for the
    relay to send it to the broker. When tracing is on (eventbus.tracing), it runs in a
    ``create`` span whose context the envelope carries as ``traceparent``.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise NotInTransactionError(
            f"publish({type(event).__name__}) was called outside a transaction. Wrap the "
            "state change and the publish() call in `with transaction.atomic():` so that "
            "both commit or neither does."
        )
    if "event_name" not in vars(type(event)):
        raise EventDefinitionError(
            f"{type(event).__name__} has no event_name; it cannot be published."
        )
    if event.internal:
        raise EventDefinitionError(
            f"{event.event_name} is internal to the bus; it is written by the bus itself "
            "(e.g. a task enqueued through eventbus.tasks), never with publish()."
        )
    return write_traced(event, partial(_publish, event, using=using))


def write_traced(event: Event, write: Callable[[Envelope], T]) -> T:
    """``write(envelope)`` for a new envelope of ``event`` (publish's, a task's enqueue): when
    tracing is on, inside the event's ``create`` span, whose context the envelope carries."""
    tracer = tracing.tracer()
    if tracer is None:
        return write(new_envelope(event))
    with tracing.creating(tracer, event.event_name) as span:
        envelope = new_envelope(event, traceparent=tracing.traceparent(span))
        tracing.identify(span, envelope)
        return write(envelope)


def new_envelope(event: Event, *, traceparent: str = "") -> Envelope:
    """A new envelope for ``event``: a fresh time-ordered id, the current correlation id (a
    new one outside any) and, inside a handler, the handled event as its cause."""
    parent = current_envelope()
    return Envelope(
        event_id=uuid7(),
        name=event.event_name,
        version=event.event_version,
        occurred_at=timezone.now(),
        producer=event.producer(),
        correlation_id=current_correlation_id() or new_correlation_id(),
        causation_id=parent.event_id if parent is not None else None,
        payload=event.payload(),
        aggregate_id=event.aggregate_id(),
        traceparent=traceparent,
    )


def _publish(event: Event, envelope: Envelope, *, using: str) -> Envelope:
    """Write ``event``'s envelope to the outbox and schedule its inline dispatch."""
    started = time.perf_counter()
    later = _loaded()
    subscribers = subscriptions_for(envelope.name)
    has_subscribers = bool(subscribers)
    inline = bus_settings.DELIVERY == "inline"
    relayed = transport().relays(type(event))
    message = NewMessage(
        envelope,
        dispatched=not has_subscribers,
        notify=(has_subscribers and not inline) or relayed,
        broker=later.pending if relayed else later.local,
    )

    def written() -> None:
        for observer in _observers:
            observer(envelope, event)
        if event_published.receivers:
            duration = time.perf_counter() - started
            announce(event_published, envelope, using=using, duration=duration)
        if has_subscribers and inline:
            last = subscribers[-1].handler_id  # marks the row dispatched; not looked up again
            transaction.on_commit(
                partial(later.dispatch, envelope, event, using=using, dispatched_by=last),
                using=using,
            )

    write_message(using, message, written)
    return envelope


class _Later(NamedTuple):
    dispatch: Callable[..., object]
    pending: str
    local: str


@cache
def _loaded() -> _Later:
    """What publish() needs of the delivery engine and the models. Imported on
    the first call, not above: the models need the app registry, and `from eventbus import
    Event, publish` must work in an events module before set-up."""
    from eventbus.delivery.inline import dispatch
    from eventbus.models import OutboxMessage

    broker = OutboxMessage.Broker
    return _Later(dispatch, broker.PENDING.value, broker.NONE.value)


def add_publish_observer(observer: PublishObserver) -> None:
    """Call ``observer(envelope, event)`` on every publish (test capture, tracing)."""
    _observers.append(observer)


def remove_publish_observer(observer: PublishObserver) -> None:
    if observer in _observers:
        _observers.remove(observer)

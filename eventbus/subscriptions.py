"""Subscribers: the @subscriber decorator and the blinker signal that holds them per event.

Each event name has a blinker signal; its receivers are the subscriptions, in the order they
were connected. Sending the signal delivers the event: each receiver hands its handler to the
delivery engine, which runs it in its own transaction and never raises into ``send``.
"""

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from blinker import ANY, NamedSignal

from eventbus.contracts.upcasting import upcast_event
from eventbus.events import Event
from eventbus.exceptions import SubscriptionError

E = TypeVar("E", bound=Event)
Handler = Callable[[E], None]

if TYPE_CHECKING:
    from eventbus.delivery.engine import Outcome


class EventSignal(NamedSignal):
    """The signal of one event name. ``send`` calls every receiver, in the order they were
    connected (blinker's own order is undefined), whatever sender they were connected for:
    the signal belongs to one event, and its sender is always that event's name."""

    def send(
        self, sender: Any | None = None, /, *, _async_wrapper: Any = None, **kwargs: Any
    ) -> list[tuple[Callable[..., Any], Any]]:
        """Call each receiver with ``sender`` and ``kwargs``; [(receiver, its result)].

        Leaner than blinker's: no per-sender lookup and no check of each receiver for a
        coroutine function, which together cost a tenth of an inline delivery's Python time
        (an event's receivers are subscriptions, which are synchronous)."""
        if self.is_muted:
            return []
        results = []
        for held in list(self.receivers.values()):
            receiver = held() if isinstance(held, weakref.ref) else held
            if receiver is not None:
                results.append((receiver, receiver(sender, **kwargs)))
        return results


_signals: dict[str, EventSignal] = {}
_by_id: dict[str, "Subscription"] = {}


def event_signal(name: str) -> EventSignal:
    """The blinker signal of an event name (made on first use)."""
    signal = _signals.get(name)
    if signal is None:
        signal = _signals[name] = EventSignal(name, doc=f"Delivers {name} to its subscribers.")
    return signal


@dataclass(frozen=True)
class Subscription:
    """One handler of one event. ``handler_id`` is its dotted path, stored with deliveries."""

    handler_id: str
    event: type[Event]
    func: Callable[[Any], None]
    max_attempts: int | None = None
    ordered: bool = False

    @property
    def module(self) -> str:
        return self.handler_id.split(".", 1)[0]

    def handle(self, event: Event) -> None:
        """Call the handler with ``event`` as the class it subscribed to: an older version
        published or stored is upcast first (raises UpcastError when it cannot be)."""
        self.func(upcast_event(event, self.event))

    def __call__(self, sender: str, **kwargs: Any) -> "Outcome":
        """The blinker receiver: deliver through the engine (see eventbus.delivery.inline).
        Never raises: a failure is recorded and returned as the outcome."""
        return _inline_receive()(self, **kwargs)


@cache
def _inline_receive() -> Callable[..., "Outcome"]:
    """The engine's receiver, imported on first use: the engine needs the models, and this
    module is imported before the app registry is ready."""
    from eventbus.delivery.inline import receive

    return receive


def subscriber(
    event: type[E], *, max_attempts: int | None = None, ordered: bool = False
) -> Callable[[Handler[E]], Handler[E]]:
    """Subscribe the decorated function to ``event``.

    The handler receives the event instance, as ``event`` (an older version of the same
    name is upcast first; subscribe to the newest version). It runs after the publishing transaction
    commits, in a transaction of its own, once per event (a redelivery is skipped once it
    succeeded). It must not assume it runs in the publisher's process. ``max_attempts``
    overrides EVENTBUS['MAX_ATTEMPTS'] for this handler. ``ordered=True`` asks for the events
    of one aggregate (see Event.aggregate_field) in publish order: a later event waits, in
    status "waiting", while an earlier one of the same aggregate is undelivered, or failing,
    waiting or dead for an ordered handler of the same module.
    """
    if ordered and event.aggregate_field is None:
        raise SubscriptionError(
            f"@subscriber({event.__name__}, ordered=True) needs {event.__name__}.aggregate_field "
            "to say which field identifies the aggregate."
        )
    if not (isinstance(event, type) and issubclass(event, Event) and "event_name" in vars(event)):
        raise SubscriptionError(f"@subscriber needs a concrete Event class, got {event!r}.")

    def decorate(func: Handler[E]) -> Handler[E]:
        handler_id = f"{func.__module__}.{func.__qualname__}"
        existing = _by_id.get(handler_id)
        if existing is not None:
            if existing.event is event:
                return func  # the module was imported twice; keep the first registration
            raise SubscriptionError(f"{handler_id} already subscribes to {existing.event}.")
        subscription = Subscription(handler_id, event, func, max_attempts, ordered)
        _by_id[handler_id] = subscription
        event_signal(event.event_name).connect(subscription, sender=ANY, weak=False)
        return func

    return decorate


def subscriptions_for(event_name: str) -> list[Subscription]:
    """The handlers of an event name, in subscription order."""
    signal = _signals.get(event_name)
    if signal is None:
        return []
    return [r for r in signal.receivers.values() if isinstance(r, Subscription)]


def subscription(handler_id: str) -> Subscription | None:
    return _by_id.get(handler_id)


def all_subscriptions() -> list[Subscription]:
    return list(_by_id.values())


def unsubscribe(handler_id: str) -> None:
    """Remove a handler (tests use it to clean up what they subscribed)."""
    sub = _by_id.pop(handler_id, None)
    if sub is not None:
        event_signal(sub.event.event_name).disconnect(sub)

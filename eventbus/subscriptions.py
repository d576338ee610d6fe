"""Subscribers: the @subscriber decorator and the blinker signal that holds them per event."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from blinker import ANY, Namespace

from eventbus.events import Event
from eventbus.exceptions import SubscriptionError
from eventbus.upcasting import upcast_event

E = TypeVar("E", bound=Event)
Handler = Callable[[E], None]

_signals = Namespace()
_by_id: dict[str, "Subscription"] = {}


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

    def __call__(self, event: Event) -> None:
        """Call the handler with ``event`` as the class it subscribed to: an older version
        published or stored is upcast first (raises UpcastError when it cannot be)."""
        self.func(upcast_event(event, self.event))


def subscriber[E: Event](
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
        _signals.signal(event.event_name).connect(subscription, sender=ANY, weak=False)
        return func

    return decorate


def subscriptions_for(event_name: str) -> list[Subscription]:
    """The handlers of an event name, in subscription order."""
    if event_name not in _signals:
        return []
    # Signal.receivers keeps connection order (receivers_for() iterates a set).
    return [r for r in _signals[event_name].receivers.values() if isinstance(r, Subscription)]


def subscription(handler_id: str) -> Subscription | None:
    return _by_id.get(handler_id)


def all_subscriptions() -> list[Subscription]:
    return list(_by_id.values())


def unsubscribe(handler_id: str) -> None:
    """Remove a handler (tests use it to clean up what they subscribed)."""
    sub = _by_id.pop(handler_id, None)
    if sub is not None:
        _signals.signal(sub.event.event_name).disconnect(sub)

"""Subscribers: the @subscriber decorator and the blinker signal that holds them per event.

Each event name has a blinker signal; its receivers are the subscriptions, in the order they
were connected. Sending the signal delivers the event: each receiver hands its handler to the
delivery engine, which runs it in its own transaction and never raises into ``send``.
"""

from collections.abc import Callable, Iterable, Iterator, MutableSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from blinker import ANY, NamedSignal

from eventbus.contracts.upcasting import upcast_event
from eventbus.events import Event
from eventbus.exceptions import SubscriptionError

E = TypeVar("E", bound=Event)
Handler = Callable[[E], None]

if TYPE_CHECKING:
    from eventbus.delivery.engine import Outcome


class _OrderedSet(MutableSet[Any]):
    """A set that keeps insertion order, so a signal calls its receivers in the order they
    were connected (blinker's own sets leave the order undefined)."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._items = dict.fromkeys(items)

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def add(self, value: Any) -> None:
        self._items[value] = None

    def discard(self, value: Any) -> None:
        self._items.pop(value, None)

    def copy(self) -> "_OrderedSet":
        return _OrderedSet(self._items)


class EventSignal(NamedSignal):
    """The signal of one event name; receivers are called in connection order."""

    set_class = _OrderedSet  # type: ignore[assignment]


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
        from eventbus.delivery.inline import receive

        return receive(self, **kwargs)


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

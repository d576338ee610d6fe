"""Transports: which events leave this process for the broker. Chosen by alias in
``EVENTBUS['TRANSPORT']``: ``"local"`` (the default) or ``"amqp"`` (``eventbus.conf.TRANSPORTS``).

``local``  events stay in this database; only events marked ``externalised = True`` are also
           relayed to the broker (so another service can consume them).
``amqp``   every event is relayed to RabbitMQ, and handlers of events that no installed
           module produces receive them from it (`eventbus consume`): split mode.
"""

from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

from eventbus.conf import TRANSPORTS, bus_settings
from eventbus.events import Event, registered_events

if TYPE_CHECKING:
    from eventbus.broker.relay import Relayer


class Transport:
    """What a transport decides: whether an event's outbox row waits for the relay."""

    alias = ""

    def relays(self, event_type: type[Event]) -> bool:
        """True when rows of ``event_type`` must be sent to the broker by the relay."""
        raise NotImplementedError

    def relaying(self) -> bool:
        """True when some event may wait for the relay, so workers relay too."""
        return any(self.relays(cls) for cls in registered_events())

    def relayer(self, *, using: str) -> "Relayer | None":
        """The relay a worker runs beside its deliveries, or None when nothing is relayed."""
        if not self.relaying():
            return None
        from eventbus.broker.relay import Relayer

        return Relayer(using=using)


class LocalTransport(Transport):
    alias = "local"

    def relays(self, event_type: type[Event]) -> bool:
        return bool(getattr(event_type, "externalised", False))


class AmqpTransport(Transport):
    alias = "amqp"

    def relays(self, event_type: type[Event]) -> bool:
        return True

    def relaying(self) -> bool:
        return True


_cache: dict[str, Transport] = {}


def transport() -> Transport:
    """The configured transport (EVENTBUS['TRANSPORT'])."""
    name = bus_settings.TRANSPORT
    found = _cache.get(name)
    if found is None:
        found = _cache[name] = import_string(TRANSPORTS[name])()
    return found

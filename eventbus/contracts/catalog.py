"""The catalogue of events: each event with its version, producer, flag and subscribers.

Both sides are named as eventbus.boundaries.modules names modules: the producer is the
module whose app defines the event class (the event name's prefix for a class outside every
module), a subscriber's module the one whose app holds its handler.
"""

from dataclasses import dataclass, field
from typing import Any

from eventbus.boundaries.modules import code_owner, producer_of
from eventbus.events import Event, registered_events
from eventbus.subscriptions import all_subscriptions


@dataclass(frozen=True)
class Subscriber:
    """A handler of an event: its dotted path and its module (the module whose app holds it;
    for a handler in no module, the label of its app, else its top-level package)."""

    handler: str
    module: str


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    version: int
    producer: str
    event_class: str
    subscribers: list[str] = field(default_factory=list)
    externalised: bool = False
    cls: type[Event] | None = field(default=None, compare=False, repr=False)

    @property
    def subscriptions(self) -> list[Subscriber]:
        return [Subscriber(h, code_owner(h)) for h in self.subscribers]

    @property
    def subscriber_modules(self) -> list[str]:
        """The modules that receive this event, sorted, each once."""
        return sorted({s.module for s in self.subscriptions})

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "producer": self.producer,
            "class": self.event_class,
            "externalised": self.externalised,
            "subscribers": self.subscribers,
            "subscriptions": [
                {"handler": s.handler, "module": s.module} for s in self.subscriptions
            ],
        }


def build() -> list[CatalogEntry]:
    """One entry per registered (name, version), sorted by name then version. A handler
    is listed under the version it subscribes to (older versions reach it upcast)."""
    subs = all_subscriptions()
    return [
        CatalogEntry(
            name=cls.event_name,
            version=cls.event_version,
            producer=producer_of(cls),
            event_class=f"{cls.__module__}.{cls.__qualname__}",
            subscribers=sorted(s.handler_id for s in subs if s.event is cls),
            externalised=cls.externalised,
            cls=cls,
        )
        for cls in registered_events()
    ]


def render_table(entries: list[CatalogEntry]) -> str:
    """A plain-text table, one line per subscriber (``-`` for an event nobody handles)."""
    header = ("EVENT", "VERSION", "PRODUCER", "EXTERNALISED", "CONSUMER", "HANDLER")
    rows = [header]
    for e in entries:
        first = (e.name, str(e.version), e.producer, "yes" if e.externalised else "no")
        subs = [(s.module, s.handler) for s in e.subscriptions] or [("-", "-")]
        rows.append((*first, *subs[0]))
        rows.extend(("", "", "", "", *sub) for sub in subs[1:])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(f"{cell:<{width}}" for cell, width in zip(r, widths, strict=True)).rstrip()
        for r in rows
    )

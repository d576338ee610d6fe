"""The catalogue of events: each event with its version, producer and subscribers."""

from dataclasses import dataclass, field
from typing import Any

from eventbus.events import registered_events
from eventbus.subscriptions import all_subscriptions


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    version: int
    producer: str
    event_class: str
    subscribers: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "producer": self.producer,
            "class": self.event_class,
            "subscribers": self.subscribers,
        }


def build() -> list[CatalogEntry]:
    """One entry per registered (name, version), sorted by name then version."""
    subs = all_subscriptions()
    return [
        CatalogEntry(
            name=cls.event_name,
            version=cls.event_version,
            producer=cls.producer(),
            event_class=f"{cls.__module__}.{cls.__qualname__}",
            subscribers=sorted(s.handler_id for s in subs if s.event is cls),
        )
        for cls in registered_events()
    ]


def render_table(entries: list[CatalogEntry]) -> str:
    rows = [("EVENT", "VERSION", "PRODUCER", "SUBSCRIBERS")]
    for e in entries:
        handlers = e.subscribers or ["-"]
        rows.append((e.name, str(e.version), e.producer, handlers[0]))
        rows.extend(("", "", "", h) for h in handlers[1:])
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip()
        for r in rows
    )

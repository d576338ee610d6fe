"""Which module sends which events to which: the catalogue folded into module-to-module links."""

from dataclasses import dataclass, field

from eventbus.contracts.catalog import CatalogEntry


@dataclass(frozen=True)
class ModuleLink:
    """The events ``producer`` publishes that ``consumer`` subscribes to, by name, sorted;
    ``consumer`` may be ``producer`` itself."""

    producer: str
    consumer: str
    events: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ModuleMap:
    """Every module that publishes or subscribes, the links between them, and the events
    nobody subscribes to here (as links with ``consumer`` "", one per producer)."""

    modules: list[str]
    links: list[ModuleLink]
    unsubscribed: list[ModuleLink]


def module_map(entries: list[CatalogEntry]) -> ModuleMap:
    """Fold catalogue entries (``catalog.build()``): every version of an event counts under
    its name, so a module subscribed to an older version still links. Producers and
    subscriber modules are the catalogue's. Stable ordering."""
    consumers: dict[str, set[str]] = {}
    producers: dict[str, str] = {}
    for entry in entries:
        producers[entry.name] = entry.producer
        consumers.setdefault(entry.name, set()).update(entry.subscriber_modules)
    links: dict[tuple[str, str], list[str]] = {}
    unsubscribed: dict[str, list[str]] = {}
    for name in sorted(consumers):
        if not consumers[name]:
            unsubscribed.setdefault(producers[name], []).append(name)
        for module in consumers[name]:
            links.setdefault((producers[name], module), []).append(name)
    modules = set(producers.values()) | {m for ms in consumers.values() for m in ms}
    return ModuleMap(
        modules=sorted(modules),
        links=[ModuleLink(p, c, events) for (p, c), events in sorted(links.items())],
        unsubscribed=[ModuleLink(p, "", names) for p, names in sorted(unsubscribed.items())],
    )

"""The catalogue as a Mermaid flowchart: modules as boxes, events as arrows to subscribers."""

import re

from eventbus.contracts.catalog import CatalogEntry

NOBODY = "nobody"


def _node(module: str) -> str:
    return "m_" + re.sub(r"\W", "_", module)


def render_mermaid(entries: list[CatalogEntry]) -> str:
    """``flowchart LR``: one box per module, one labelled arrow per (event name, consuming
    module) from producer to consumer, labelled with the newest version; an event nobody
    subscribes to is a dotted arrow to a "no subscriber yet" node. Stable ordering."""
    newest: dict[str, CatalogEntry] = {}
    consumers: dict[str, set[str]] = {}
    for entry in entries:
        if entry.name not in newest or entry.version > newest[entry.name].version:
            newest[entry.name] = entry
        consumers.setdefault(entry.name, set()).update(entry.subscriber_modules)
    modules = sorted({e.producer for e in entries} | {m for ms in consumers.values() for m in ms})
    lines = ["flowchart LR"]
    lines += [f'    {_node(m)}["{m}"]' for m in modules]
    unsubscribed = []
    for name in sorted(newest):
        entry = newest[name]
        label = f"{name} v{entry.version}" + (" (externalised)" if entry.externalised else "")
        if not consumers[name]:
            unsubscribed.append(f'    {_node(entry.producer)} -.->|"{label}"| {NOBODY}')
        for module in sorted(consumers[name]):
            lines.append(f'    {_node(entry.producer)} -->|"{label}"| {_node(module)}')
    if unsubscribed:
        lines.append(f'    {NOBODY}(["no subscriber yet"])')
        lines += unsubscribed
    return "\n".join(lines)

"""The URLs a module serves: the patterns of the root URLconf whose views live in it, and the
admin pages of its models (one line per ModelAdmin: its change list)."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from eventbus.boundaries.modules import module_of


@dataclass(frozen=True)
class ModuleUrl:
    """A route (as written in the URLconfs, prefixes joined), its name and its view."""

    route: str
    name: str
    view: str

    def as_dict(self) -> dict[str, str]:
        return {"route": self.route, "name": self.name, "view": self.view}


def _walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def _dotted(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _view(pattern: URLPattern) -> str | None:
    """The view's dotted path; for an admin page, its ModelAdmin's class; None for an
    admin page other than a change list (the ModelAdmin is listed once)."""
    callback = pattern.callback
    model_admin = getattr(callback, "model_admin", None)
    if model_admin is not None:
        name = pattern.name or ""
        return _dotted(type(model_admin)) if name.endswith("_changelist") else None
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    return _dotted(view_class if view_class is not None else callback)


def served_by(module: str, urlconf: str | None = None) -> list[ModuleUrl]:
    """The module's URLs, in the URLconf's order."""
    found = []
    for route, pattern in _walk(get_resolver(urlconf).url_patterns, ""):
        view = _view(pattern)
        if view is not None and module_of(view) == module:
            found.append(ModuleUrl(route=route, name=pattern.name or "", view=view))
    return found

"""The Django settings a module's code reads: ``settings.X`` and ``getattr(settings, "X")``,
where ``settings`` is ``django.conf.settings`` under whatever name the file imports it."""

import ast
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from eventbus.boundaries.modules import current_modules, top
from eventbus.operations.extraction.modules import is_test


@dataclass(frozen=True)
class SettingRead:
    """A setting and where the module reads it (``accounts/api/views.py:12``), sorted."""

    name: str
    locations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "locations": self.locations}


def _settings_names(tree: ast.Module) -> set[str]:
    """The names a file binds to django.conf.settings (``from django.conf import settings``,
    ``... as conf``); ``django.conf.settings`` itself is matched as an attribute chain."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.conf"
        for alias in node.names
        if alias.name == "settings"
    }


def _is_settings(node: ast.expr, names: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in names
    return isinstance(node, ast.Attribute) and ast.unparse(node) == "django.conf.settings"


def _reads(tree: ast.Module) -> list[tuple[str, int]]:
    names = _settings_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_settings(node.value, names):
            found.append((node.attr, node.lineno))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "hasattr"}
            and len(node.args) >= 2
            and _is_settings(node.args[0], names)
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            found.append((node.args[1].value, node.lineno))
    return found


def _files(app: str) -> list[tuple[Path, Path]]:
    """Each Python file of the app's package, with the directory its top-level package is
    in (locations read ``project/users/views.py:12``)."""
    spec = importlib.util.find_spec(app)
    root = importlib.util.find_spec(top(app))
    if spec is None or root is None or not spec.submodule_search_locations:
        return []
    package = Path(next(iter(spec.submodule_search_locations)))
    tops = root.submodule_search_locations
    base = Path(next(iter(tops))).parent if tops else package.parent
    return [(path, base) for path in sorted(package.rglob("*.py"))]


def scan(module: str, packages: tuple[str, ...] | None = None) -> list[SettingRead]:
    """The settings the source of the module's apps (or of ``packages``) reads, tests and
    migrations aside, sorted by name. A file that does not parse raises SyntaxError (the
    module could not run either)."""
    reads: dict[str, set[tuple[str, int]]] = {}
    apps = current_modules().apps_of.get(module, ()) if packages is None else packages
    for app in apps:
        for path, base in _files(app):
            relative = path.relative_to(base)
            dotted = ".".join(relative.with_suffix("").parts)
            if is_test(dotted) or "migrations" in relative.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for name, line in _reads(tree):
                reads.setdefault(name, set()).add((relative.as_posix(), line))
    return [
        SettingRead(name, [f"{file}:{line}" for file, line in sorted(places)])
        for name, places in sorted(reads.items())
    ]

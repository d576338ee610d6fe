"""Which top-level packages of the project are its modules, found without naming any."""

import importlib.metadata
import importlib.util
from functools import cache
from pathlib import Path

from django.apps import apps
from django.conf import settings

#: The bus's own package: never a module, whatever project installs it.
BUS_PACKAGE = __name__.split(".", 1)[0]


def top(dotted: str) -> str:
    """The top-level package of a dotted name: ``orders`` for ``orders.api.views``."""
    return dotted.split(".", 1)[0]


@cache
def _distributions() -> dict[str, list[str]]:
    """Top-level package -> the distributions that install it (Django, DRF, ...): read
    once per process, it takes a second."""
    return {
        package: sorted(set(names))
        for package, names in importlib.metadata.packages_distributions().items()
    }


def distributions_of(package: str) -> list[str]:
    """The distributions that install a top-level package (empty for the project's own)."""
    return list(_distributions().get(package, []))


def project_packages() -> set[str]:
    """The packages that assemble the project (its settings and root URLconf): they may
    know every module, and are no module themselves."""
    names = {getattr(settings, "SETTINGS_MODULE", None), getattr(settings, "ROOT_URLCONF", "")}
    return {top(name) for name in names if name}


def project_modules() -> list[str]:
    """The modules: the top-level packages of the installed Django apps that no
    distribution installs, other than the bus and the project's own package; sorted."""
    installed = {top(config.name) for config in apps.get_app_configs()}
    excluded = set(_distributions()) | project_packages() | {BUS_PACKAGE}
    return sorted(installed - excluded)


def is_test(dotted: str) -> bool:
    """Whether a dotted module is a test (in a ``tests`` package, ``test_*`` or conftest)."""
    parts = dotted.split(".")
    return "tests" in parts or parts[-1].startswith("test_") or parts[-1] == "conftest"


def source_location(dotted: str, line: int) -> str:
    """``orders/services.py:42``: a module's file, relative to its top-level package's
    parent directory, and a line; the dotted name when no file is found."""
    root = importlib.util.find_spec(top(dotted))
    spec = importlib.util.find_spec(dotted)
    if root is None or spec is None or spec.origin is None or not root.submodule_search_locations:
        return f"{dotted}:{line}"
    base = Path(next(iter(root.submodule_search_locations))).parent
    return f"{Path(spec.origin).relative_to(base).as_posix()}:{line}"

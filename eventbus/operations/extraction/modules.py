"""What the extraction report needs to know of code besides its module: whether it is a
test, where its file is, which distributions install a package. Which module code belongs
to is eventbus.boundaries.modules' answer."""

import importlib.util
from pathlib import Path

from eventbus.boundaries.modules import distributions, project_packages, top


def distributions_of(package: str) -> list[str]:
    """The distributions that install a top-level package (empty for the project's own)."""
    return list(distributions().get(package, []))


def project_tops() -> set[str]:
    """The top-level packages of the project's settings and root URLconf."""
    return {top(name) for name in project_packages()}


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

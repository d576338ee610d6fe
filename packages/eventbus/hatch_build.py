"""The distribution's files: the eventbus package, without its tests.

In a checkout the package is at the repository's root (``../../eventbus``), where the
monolith imports it; an sdist carries a copy beside this file, which its wheel is built from.
"""

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: Directories that never ship: the bus's own tests and bytecode caches.
LEFT_OUT = {"tests", "__pycache__"}


def package_dir(root: Path) -> Path:
    """The eventbus package: beside this file in an unpacked sdist, else two levels up."""
    for candidate in (root / "eventbus", root / ".." / ".." / "eventbus"):
        if (candidate / "__init__.py").is_file():
            return candidate.resolve()
    raise FileNotFoundError(
        f"no eventbus package in {root} nor two levels up; build from a checkout"
    )


def shipped(package: Path) -> dict[str, str]:
    """Each file of ``package`` to ship, by absolute path, mapped to its path in the archive."""
    files = {}
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if path.is_dir() or LEFT_OUT.intersection(relative.parts) or path.suffix == ".pyc":
            continue
        files[str(path)] = f"{package.name}/{relative.as_posix()}"
    return files


class EventbusFiles(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        build_data["force_include"].update(shipped(package_dir(Path(self.root))))

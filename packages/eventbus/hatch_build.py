"""The wheel's files: the eventbus package at the repository's root, without its tests."""

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: Directories that never go into the wheel: the bus's own tests and bytecode caches.
LEFT_OUT = {"tests", "__pycache__"}


def shipped(package: Path) -> dict[str, str]:
    """Each file of ``package`` to ship, by absolute path, mapped to its path in the wheel."""
    files = {}
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if path.is_dir() or LEFT_OUT.intersection(relative.parts) or path.suffix == ".pyc":
            continue
        files[str(path)] = f"{package.name}/{relative.as_posix()}"
    return files


class EventbusFiles(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        package = (Path(self.root) / ".." / ".." / "eventbus").resolve()
        if not (package / "__init__.py").is_file():
            raise FileNotFoundError(f"{package} is not the eventbus package; build from a checkout")
        build_data["force_include"].update(shipped(package))

"""The support matrix is stated once, in noxfile.py (DJANGO_PYTHONS, DATABASES): the docs'
compatibility table, the wheel's classifiers, the locks and CI must say the same."""

import importlib.util
import os
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "installing-eventbus.md"


@pytest.fixture(scope="module")
def matrix() -> ModuleType:
    """noxfile.py as a module (it puts pyenv's interpreters on PATH: put PATH back)."""
    path = os.environ.get("PATH", "")
    spec = importlib.util.spec_from_file_location("noxfile", ROOT / "noxfile.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        os.environ["PATH"] = path
    return module


def table(matrix: ModuleType) -> str:
    """The compatibility table the docs must hold, rendered from the noxfile's matrix."""
    databases = list(matrix.DATABASES.values())
    lines = [
        "| Django | Python | " + " | ".join(databases) + " |",
        "|---|---|" + "---|" * len(databases),
    ]
    for django, pythons in matrix.DJANGO_PYTHONS.items():
        lines.append(
            f"| {django} | {', '.join(pythons)} | " + " | ".join("yes" for _ in databases) + " |"
        )
    return "\n".join(lines)


def test_the_docs_table_is_the_matrix_ci_runs(matrix):
    text = DOC.read_text()
    found = re.search(r"<!-- support-matrix -->\n(.*?)\n<!-- /support-matrix -->", text, re.S)

    assert found, f"{DOC.name} has no <!-- support-matrix --> block"
    assert found.group(1) == table(matrix)


def test_the_cells_are_every_python_of_every_django_on_every_database(matrix):
    names = [cell.name for cell in matrix.CELLS]

    assert len(names) == len(set(names)) == 21
    assert names[0] == "py311-django52-sqlite"
    assert "py313-django61-mariadb" in names
    assert not [n for n in names if n.startswith("py311-django6")]  # Django 6 needs 3.12+


def test_the_wheel_declares_the_same_djangos_and_pythons(matrix):
    project = tomllib.loads((ROOT / "packages" / "eventbus" / "pyproject.toml").read_text())
    classifiers = project["project"]["classifiers"]
    pythons = sorted({p for ps in matrix.DJANGO_PYTHONS.values() for p in ps})

    assert [
        c.rsplit(" :: ", 1)[1] for c in classifiers if c.startswith("Framework :: Django :: ")
    ] == list(matrix.DJANGO_PYTHONS)
    assert [
        c.rsplit(" :: ", 1)[1]
        for c in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ] == pythons
    assert project["project"]["requires-python"] == f">={pythons[0]}"
    oldest = next(iter(matrix.DJANGO_PYTHONS))
    assert f"django>={oldest},<7" in project["project"]["dependencies"]


def test_each_django_series_has_a_lock_that_pins_it(matrix):
    for django in matrix.DJANGO_PYTHONS:
        lock = matrix.LOCKS / f"django{django.replace('.', '')}.txt"
        pins = re.findall(r"^django==(\S+)$", lock.read_text(), re.M)

        assert len(pins) == 1 and pins[0].startswith(f"{django}."), (lock, pins)


def test_ci_runs_the_matrix():
    assert "make test-matrix" in (ROOT / ".ci" / "run").read_text()

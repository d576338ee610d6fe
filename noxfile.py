"""The eventbus wheel's support matrix: its own tests, against the installed wheel, in every
cell (a Python, a Django series and a database) it declares support for.

One session per cell, named ``py311-django52-sqlite`` and so on; each installs dist/'s wheel
(`make wheel`) with its extras into a fresh uv virtualenv, pinned by its Django series' lock
(packages/eventbus/matrix/django52.txt, ...), and runs packages/eventbus/tests from that
directory, so ``eventbus`` can only come from site-packages (its conftest checks it).

    make test-matrix CELL=py311-django52-mariadb    # one cell
    make test-matrix                                # every cell

DJANGO_PYTHONS and DATABASES are the one statement of the matrix: the wheel's classifiers,
the compatibility table in docs/installing-eventbus.md and CI follow them
(tests/test_support_matrix.py checks that they agree).
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
PACKAGE = ROOT / "packages" / "eventbus"
TESTS = PACKAGE / "tests"
LOCKS = PACKAGE / "matrix"
DIST = ROOT / "dist"
EXTRAS = "amqp,metrics,progress,tracing,extraction"

#: Each supported Django series and the Pythons the bus supports it on (Django 6.x needs
#: Python 3.12 or later).
DJANGO_PYTHONS: dict[str, tuple[str, ...]] = {
    "5.2": ("3.11", "3.12", "3.13"),
    "6.0": ("3.12", "3.13"),
    "6.1": ("3.12", "3.13"),
}

#: Each supported database: its name in a cell, and how the docs name it.
DATABASES: dict[str, str] = {
    "sqlite": "SQLite",
    "postgresql": "PostgreSQL 15",
    "mariadb": "MariaDB 10.11",
}

#: The servers a cell's tests use; each cell gets a database of its own there, named
#: MATRIX_DB_PREFIX + the cell, so cells can run side by side.
SERVERS = {
    "postgresql": os.environ.get("MATRIX_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
    "mariadb": os.environ.get("MATRIX_MARIADB", "mysql://root@127.0.0.1:3306"),
}
DB_PREFIX = os.environ.get("MATRIX_DB_PREFIX", "eventbus_matrix_")

#: Tests that prove nothing more on a server database than on SQLite: the redelivery drill's
#: negative control runs its own pytest on SQLite whatever DATABASE_URL says (19 s a run).
SQLITE_ONLY = [
    "eventbus_tests/test_redelivery.py::test_a_handler_that_is_not_idempotent_fails_under_the_switch_and_passes_without"
]


@dataclass(frozen=True)
class Cell:
    python: str
    django: str
    database: str

    @property
    def name(self) -> str:
        """e.g. ``py311-django52-sqlite``."""
        return (
            f"py{self.python.replace('.', '')}-django{self.django.replace('.', '')}-{self.database}"
        )

    @property
    def lock(self) -> Path:
        return LOCKS / f"django{self.django.replace('.', '')}.txt"

    def database_url(self) -> str | None:
        if self.database == "sqlite":
            return None  # the tests' settings use a SQLite file in TMPDIR
        return f"{SERVERS[self.database]}/{DB_PREFIX}{self.name.replace('-', '_')}"


CELLS = [
    Cell(python, django, database)
    for django, pythons in DJANGO_PYTHONS.items()
    for python in pythons
    for database in DATABASES
]


def _pyenv_interpreters_on_path() -> None:
    """Put pyenv's interpreters (~/.pyenv/versions/3.1x.y/bin) first on PATH, so that
    ``python3.11`` is pyenv's 3.11 and not a shim or the system's."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = {
        python: sorted(versions.glob(f"{python}.*/bin"))
        for python in {p for pythons in DJANGO_PYTHONS.values() for p in pythons}
    }
    dirs = [str(paths[-1]) for paths in found.values() if paths]
    os.environ["PATH"] = os.pathsep.join([*dirs, os.environ.get("PATH", "")])


_pyenv_interpreters_on_path()
nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True
nox.options.error_on_external_run = True
nox.options.sessions = [cell.name for cell in CELLS]


def the_wheel() -> Path:
    """dist/'s one eventbus wheel (`make wheel` builds it)."""
    wheels = sorted(DIST.glob("django_eventbus_outbox-*-py3-none-any.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one eventbus wheel in {DIST}, found {wheels}: run `make wheel`")
    return wheels[0]


#: Installed only where its database is used: mysqlclient compiles against MariaDB's client
#: headers (Debian's libmariadb-dev, which `make test-matrix` installs for MariaDB cells).
DRIVERS = {"mariadb": "mysqlclient"}


def locked_for(cell: Cell, path: Path) -> Path:
    """The cell's lock, less the drivers of the other databases, written to ``path``."""
    others = {driver for database, driver in DRIVERS.items() if database != cell.database}
    lines = cell.lock.read_text().splitlines(keepends=True)
    kept = [line for line in lines if line.split("==")[0].strip().lower() not in others]
    path.write_text("".join(kept))
    return path


def run_cell(session: nox.Session, cell: Cell) -> None:
    """Install the wheel and the cell's lock, check the migrations, run the bus's tests."""
    tmp = Path(session.create_tmp()).resolve()
    lock = locked_for(cell, tmp / "requirements.txt")
    session.install("--constraint", str(lock), f"{the_wheel()}[{EXTRAS}]")
    session.install("--requirement", str(lock))
    env = {"EVENTBUS_FROM_WHEEL": "1", "TMPDIR": str(tmp), "PYTHONPATH": ""}
    # Empty for SQLite, whatever this shell exported: the tests' settings then use SQLite.
    env["DATABASE_URL"] = cell.database_url() or ""
    session.chdir(TESTS)
    session.run("python", "--version")
    # Upgrades: every migration of the bus runs forward on a fresh database of the cell's
    # kind, the checks pass there (the database's own included), and the models match the
    # migrations on this Django (makemigrations has nothing to make).
    settings = ["--settings", "eventbus_tests.settings", "--pythonpath", "."]
    session.run("python", "-m", "eventbus_tests.fresh_database", env=env | {"PYTHONPATH": "."})
    session.run("django-admin", "migrate", "--no-input", "-v", "1", *settings, env=env)
    session.run(
        "django-admin", "check", "--database", "default", "--fail-level", "WARNING", *settings,
        env=env,
    )  # fmt: skip
    session.run(
        "django-admin", "makemigrations", "eventbus", "--check", "--dry-run", *settings, env=env
    )
    deselect = [] if cell.database == "sqlite" else [f"--deselect={t}" for t in SQLITE_ONLY]
    session.run("pytest", "-q", "--durations=5", *deselect, *session.posargs, env=env)
    session.run(
        "python", "-m", "eventbus_tests.fresh_database", "--drop", env=env | {"PYTHONPATH": "."}
    )


def _session_for(cell: Cell) -> Callable[[nox.Session], None]:
    def session(session: nox.Session) -> None:
        run_cell(session, cell)

    session.__doc__ = f"eventbus's tests on Python {cell.python}, Django {cell.django}, {DATABASES[cell.database]}"
    return session


for _cell in CELLS:
    nox.session(
        name=_cell.name,
        python=_cell.python,
        tags=["matrix", f"django{_cell.django.replace('.', '')}", _cell.database],
    )(_session_for(_cell))

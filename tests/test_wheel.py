"""The eventbus wheel (packages/eventbus, built with its sdist into dist/ by `make wheel`):
what it holds, and that it works on its own in a fresh virtualenv beside a tiny Django project.

Run by `make test-wheel` (pytest -m packaging), which builds the wheel first. The tests never
skip: without a current wheel in dist/ they fail and say to run `make wheel`.
"""

import email.parser
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import eventbus
from tests.support import tiny_project

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parent.parent
UV = ROOT / ".tools" / "bin" / "uv"
DISTRIBUTION = "django_eventbus_outbox"
WHEEL = ROOT / "dist" / f"{DISTRIBUTION}-{eventbus.__version__}-py3-none-any.whl"
DIST_INFO = f"{DISTRIBUTION}-{eventbus.__version__}.dist-info"
SDIST = ROOT / "dist" / f"{DISTRIBUTION}-{eventbus.__version__}.tar.gz"


def source_files() -> list[Path]:
    """The eventbus files git tracks, its tests left out: what the wheel must hold."""
    listed = subprocess.run(
        ["git", "ls-files", "eventbus"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    return [ROOT / name for name in listed if not name.startswith("eventbus/tests/")]


@pytest.fixture(scope="module")
def wheel() -> Path:
    """dist/'s wheel of the current version, newer than every file it packs."""
    if not WHEEL.is_file():
        pytest.fail(f"{WHEEL.relative_to(ROOT)} is missing: run `make wheel`.", pytrace=False)
    built = WHEEL.stat().st_mtime
    newer = [str(p.relative_to(ROOT)) for p in source_files() if p.stat().st_mtime > built]
    if newer:
        pytest.fail(f"dist/ holds a wheel older than {newer[:3]}: run `make wheel`.", pytrace=False)
    return WHEEL


def names_in(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(f"{DIST_INFO}/METADATA").decode()
    return email.parser.Parser().parsestr(text)


# --- what the wheel holds ---------------------------------------------------------------


def test_the_wheel_holds_eventbus_and_its_metadata_only(wheel: Path) -> None:
    names = names_in(wheel)

    assert {name.split("/")[0] for name in names} == {"eventbus", DIST_INFO}
    assert {name for name in names if name.startswith(DIST_INFO)} == {
        f"{DIST_INFO}/METADATA",
        f"{DIST_INFO}/WHEEL",
        f"{DIST_INFO}/RECORD",
    }


def test_the_wheel_holds_every_tracked_file_of_eventbus_with_py_typed_migrations_and_templates(
    wheel: Path,
) -> None:
    names = names_in(wheel)
    expected = {str(path.relative_to(ROOT)) for path in source_files()}

    assert {name for name in names if name.startswith("eventbus/")} == expected
    assert "eventbus/py.typed" in names
    assert {
        "eventbus/migrations/__init__.py",
        "eventbus/migrations/0001_initial.py",
        "eventbus/templates/admin/eventbus/catalogue.html",
        "eventbus/templates/admin/eventbus/outboxmessage/change_list.html",
        "eventbus/management/commands/eventbus.py",
    } <= names


def test_the_wheel_holds_no_tests_no_bytecode_and_nothing_of_the_project(wheel: Path) -> None:
    names = names_in(wheel)

    assert [n for n in names if "/tests/" in n or n.startswith("tests/")] == []
    assert [n for n in names if "__pycache__" in n or n.endswith(".pyc")] == []
    assert [n for n in names if n.startswith(("accounts/", "orders/", "config/"))] == []


def test_the_metadata_names_the_distribution_its_version_and_its_dependencies(
    wheel: Path,
) -> None:
    meta = metadata(wheel)

    assert meta["Name"] == "django-eventbus-outbox"
    assert meta["Version"] == eventbus.__version__
    assert meta["Requires-Python"] == ">=3.11"
    assert sorted(meta.get_all("Provides-Extra", [])) == [
        "amqp",
        "extraction",
        "metrics",
        "mysql",
        "progress",
        "tracing",
    ]
    assert sorted(meta.get_all("Requires-Dist", [])) == [
        "blinker<2,>=1.9",
        "django<7,>=5.2",
        "grimp>=3.20; extra == 'extraction'",
        "kombu<6,>=5.7; extra == 'amqp'",
        "mysqlclient>=2.2; extra == 'mysql'",
        "opentelemetry-api>=1.45; extra == 'tracing'",
        "prometheus-client>=0.26; extra == 'metrics'",
        "pydantic<3,>=2.14",
        "tqdm>=4.70; extra == 'progress'",
    ]


def test_the_sdist_holds_the_same_eventbus_files_and_what_builds_the_wheel_again(
    wheel: Path,
) -> None:
    # `make wheel` (uv build) builds the wheel from this sdist: it must be complete.
    top = f"{DISTRIBUTION}-{eventbus.__version__}/"
    with tarfile.open(SDIST) as archive:
        names = {member.name.removeprefix(top) for member in archive.getmembers()}

    assert {n for n in names if n.startswith("eventbus/")} == {
        n for n in names_in(wheel) if n.startswith("eventbus/")
    }
    assert {"PKG-INFO", "pyproject.toml", "hatch_build.py", "README.md"} <= names


# --- the clean room: the wheel alone, a fresh virtualenv, a tiny project -----------------


@dataclass
class Site:
    """The tiny project in ``path``, the virtualenv in ``venv`` that has the wheel, and what
    ``manage.py migrate`` printed."""

    path: Path
    venv: Path
    cell: str
    migrated: str = ""

    def run(self, *args: str, delivery: str = "inline", check: bool = True) -> str:
        """``python ARGS`` with the venv's Python in the site, in a clean environment (no
        PYTHONPATH, nothing of the repository): its stdout; raises when it fails and
        ``check`` is set, else returns stdout and stderr together."""
        done = subprocess.run(
            [str(self.venv / "bin" / "python"), *args],
            cwd=self.path,
            env=clean_environment(DJANGO_SETTINGS_MODULE="site_config.settings")
            | {"EVENTBUS_DELIVERY": delivery},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
            return done.stdout
        return done.stdout + done.stderr

    def publish(self, greeting_id: int, *, delivery: str, rollback: bool = False) -> dict:
        flags = ["--rollback"] if rollback else []
        return json.loads(self.run("publish.py", str(greeting_id), *flags, delivery=delivery))

    def log(self) -> list[str]:
        path = self.path / tiny_project.LOG
        return path.read_text().splitlines() if path.exists() else []


def clean_environment(**extra: str) -> dict[str, str]:
    """PATH, HOME and what is given: no PYTHONPATH, no virtualenv, no DJANGO_SETTINGS_MODULE
    of the repository's."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")} | extra


#: What uv must not inherit from this test process: the repository's Python and venv.
NOT_FOR_UV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_PYTHON")


def uv(*args: str, cwd: Path) -> str:
    """``uv ARGS`` in ``cwd`` with this machine's environment (its certificates, its uv
    cache), less the repository's Python; its stdout, or a failure with uv's message."""
    environment = {k: v for k, v in os.environ.items() if k not in NOT_FOR_UV}
    done = subprocess.run(
        [str(UV), *args],
        cwd=cwd,
        env=environment | {"UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"uv {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def pyenv_python(version: str) -> Path:
    """pyenv's newest interpreter of a Python series (e.g. "3.11"), which must be there."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(versions.glob(f"{version}.*/bin/python{version}"))
    assert found, f"no Python {version} under {versions}: install it with pyenv"
    return found[-1]


#: The support matrix's newest cell (this project's own Python and uv.lock: Django 6.1) and
#: its oldest (Python 3.11, Django 5.2 at the versions of its matrix lock).
CLEAN_ROOMS = ["py313-django61", "py311-django52"]


@pytest.fixture(scope="module", params=CLEAN_ROOMS)
def site(
    wheel: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Site:
    """A fresh virtualenv of one cell with the wheel and its required dependencies only,
    beside the tiny project, migrated: the newest cell at the versions of uv.lock, the oldest
    at those of packages/eventbus/matrix/django52.txt."""
    tmp = tmp_path_factory.mktemp("clean-room")
    constraints = tmp / "constraints.txt"
    if request.param == "py313-django61":
        uv("export", "--frozen", "--no-hashes", "--no-emit-project", "--no-dev",
           "--output-file", str(constraints), cwd=ROOT)  # fmt: skip
        python = Path(sys.base_prefix) / "bin" / "python3.13"
    else:
        lock = ROOT / "packages" / "eventbus" / "matrix" / "django52.txt"
        constraints.write_text(lock.read_text())
        python = pyenv_python("3.11")
    uv("venv", "--python", str(python), str(tmp / "venv"), cwd=tmp)
    uv("pip", "install", "--python", str(tmp / "venv" / "bin" / "python"),
       "--constraint", str(constraints), str(wheel), cwd=tmp)  # fmt: skip
    tiny_project.write(tmp / "site")
    built = Site(tmp / "site", tmp / "venv", request.param)
    built.migrated = built.run("manage.py", "migrate", "--no-input")
    return built


def test_the_clean_room_has_the_wheel_and_what_django_blinker_and_pydantic_need_only(
    site: Site,
) -> None:
    listed = uv("pip", "list", "--format", "json", "--python", str(site.venv / "bin" / "python"),
                cwd=site.path)  # fmt: skip
    installed = {package["name"]: package["version"] for package in json.loads(listed)}

    assert installed["django-eventbus-outbox"] == eventbus.__version__
    python = site.run("-c", "import sys; print(sys.version_info[:2])").strip()
    expected = {"py313-django61": ("(3, 13)", "6.1."), "py311-django52": ("(3, 11)", "5.2.")}
    assert (python, installed["django"][:4]) == expected[site.cell]
    assert sorted(installed) == [
        "annotated-types",
        "asgiref",
        "blinker",
        "django",
        "django-eventbus-outbox",
        "pydantic",
        "pydantic-core",
        "sqlparse",
        "typing-extensions",
        "typing-inspection",
    ]


def test_eventbus_is_imported_from_the_venv_and_the_project_from_nowhere(site: Site) -> None:
    found = site.run(
        "-c",
        "import importlib.util as u, eventbus; "
        "print(eventbus.__file__); print([u.find_spec(m) for m in ('accounts', 'orders', 'config', 'kombu', 'tqdm')])",
    ).splitlines()

    assert Path(found[0]).is_relative_to(site.venv / "lib")
    assert found[1] == "[None, None, None, None, None]"


def test_migrate_applies_every_migration_of_the_bus(site: Site) -> None:
    shipped = sorted(p.stem for p in (ROOT / "eventbus" / "migrations").glob("0*.py"))

    applied = [
        line.split()[1] for line in site.migrated.splitlines() if "Applying eventbus." in line
    ]

    assert applied == [f"eventbus.{name}..." for name in shipped]
    assert len(shipped) >= 5


def test_publish_in_atomic_delivers_inline_then_through_the_worker_and_stats_count_it(
    site: Site,
) -> None:
    # A rolled-back transaction publishes nothing.
    rolled_back = site.publish(1, delivery="inline", rollback=True)
    assert (rolled_back["outbox"], rolled_back["deliveries"], site.log()) == (0, [], [])
    assert Path(rolled_back["eventbus"]).is_relative_to(site.venv / "lib")
    assert rolled_back["version"] == eventbus.__version__

    # Inline: the handler ran right after the commit, in the publishing process.
    inline = site.publish(2, delivery="inline")
    assert (inline["outbox"], inline["deliveries"], site.log()) == (1, ["succeeded"], ["2 ada"])

    # Worker: the publish only writes the outbox; `eventbus worker --once` delivers it.
    queued = site.publish(3, delivery="worker")
    assert (queued["outbox"], queued["deliveries"], site.log()) == (2, ["succeeded"], ["2 ada"])

    drained = site.run("manage.py", "eventbus", "worker", "--once", delivery="worker")

    assert drained.strip() == "Delivered 1 messages (1 deliveries) and 0 retries in 1 batches."
    assert site.log() == ["2 ada", "3 ada"]

    stats = site.run("manage.py", "eventbus", "stats").splitlines()

    assert stats[0] == "Outbox backlog: 0 undispatched"
    assert stats[2].split() == [
        "HANDLER", "SUCCEEDED", "FAILED", "WAITING", "DEAD", "DISCARDED", "OLDEST", "FAILING",
    ]  # fmt: skip
    assert stats[3].split() == [tiny_project.HANDLER, "2", "0", "0", "0", "0", "-"]


def test_the_bus_admin_pages_render_from_the_wheels_templates(site: Site) -> None:
    pages = site.run("admin_pages.py").splitlines()

    assert pages == [
        "/admin/eventbus/outboxmessage/ 200 True",
        "/admin/eventbus/outboxmessage/catalogue/ 200 True",
        "/admin/eventbus/outboxmessage/trace/ 200 True",
    ]


def test_a_broker_action_without_kombu_says_which_extra_to_install(site: Site) -> None:
    output = site.run("manage.py", "eventbus", "consume", "--once", check=False)

    assert (
        "RabbitMQ (the broker side of the bus) needs kombu, which is not installed; install "
        "the bus with its 'amqp' extra: pip install 'django-eventbus-outbox[amqp]'."
    ) in output

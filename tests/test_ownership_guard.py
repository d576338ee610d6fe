"""The data-ownership guard (eventbus.ownership): module code querying another module's table
fails, naming the module, the table, the SQL and the line; shared tables and test code do not.

Crossing code is planted as a module of ``orders`` (``plant()``): nothing real crosses.
"""

import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.urls import path

from accounts.events import UserRegistered
from eventbus import ownership, publish, subscriber
from eventbus.conf import BusSettings, bus_settings
from eventbus.exceptions import OwnershipViolation
from eventbus.models import Delivery
from eventbus.ownership.checks import MIDDLEWARE, check_view_middleware
from eventbus.ownership.record import write_record
from eventbus.subscriptions import unsubscribe

ROOT = Path(__file__).resolve().parent.parent
COUNT_USERS = (
    f"SELECT COUNT(*) AS {connection.ops.quote_name('__count')} "
    f"FROM {connection.ops.quote_name('accounts_user')}"
)
#: What the subprocess suites (SQLite, whatever DATABASE_URL says) record.
SQLITE_COUNT_USERS = 'SELECT COUNT(*) AS "__count" FROM "accounts_user"'
ADVICE = (
    "\nA module reads another module's data only from its events, keeping a replica of what it "
    "needs in its own tables (see docs/ownership.md)."
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plant(monkeypatch):
    """plant("orders.leaky", source): a module made of ``source``, as if orders/leaky.py held
    it (imported under that name, so its code is orders' code)."""

    def _plant(name: str, source: str) -> types.ModuleType:
        module = types.ModuleType(name)
        module.__file__ = str(ROOT / (name.replace(".", "/") + ".py"))
        monkeypatch.setitem(sys.modules, name, module)
        exec(compile(textwrap.dedent(source), module.__file__, "exec"), module.__dict__)
        return module

    return _plant


@pytest.fixture
def crossings():
    """The violations the test provoked, with the guard raising whatever the session's mode
    (a run with --eventbus-ownership-record records none of these planted crossings: they are
    taken before the plugin sees them, and the session's mode is restored)."""
    previous = ownership.mode()
    ownership.install("raise")
    ownership.clear()
    yield ownership.violations
    ownership.clear()
    if previous == "off":
        ownership.uninstall()
    else:
        ownership.install(previous)


LEAKY = """\
from django.apps import apps


def count_users():
    return apps.get_model("accounts", "User").objects.count()


def create_user():
    return apps.get_model("accounts", "User").objects.create(username="mallory", email="mallory@example.com")
"""


def test_module_code_reading_another_modules_table_fails_naming_module_table_sql_and_line(
    plant, crossings
):
    leaky = plant("orders.leaky", LEAKY)

    with pytest.raises(OwnershipViolation) as raised:
        leaky.count_users()

    assert str(raised.value) == (
        f"orders queried accounts_user, a table of accounts, at orders/leaky.py:5: {COUNT_USERS}"
        + ADVICE
    )
    assert crossings() == [
        ownership.Violation("orders", "accounts_user", "accounts", COUNT_USERS, "orders/leaky.py:5")
    ]


def test_a_crossing_write_is_refused_before_it_runs(plant, crossings):
    leaky = plant("orders.leaky", LEAKY)

    with (
        pytest.raises(OwnershipViolation, match=r"^orders queried accounts_user, a table of"),
        transaction.atomic(),
    ):
        leaky.create_user()

    assert get_user_model().objects.count() == 0
    assert [(v.module, v.table, v.location) for v in crossings()] == [
        ("orders", "accounts_user", "orders/leaky.py:9")
    ]
    assert crossings()[0].sql.startswith(
        f"INSERT INTO {connection.ops.quote_name('accounts_user')}"
    )


def test_shared_tables_are_open_to_every_module(plant, crossings):
    """eventbus's tables, Django's own and third-party apps' belong to no module."""
    shared = plant(
        "orders.shared",
        """\
        from django.apps import apps


        def count_everything():
            return [
                apps.get_model(label, name).objects.count()
                for label, name in [
                    ("eventbus", "OutboxMessage"),
                    ("eventbus", "Delivery"),
                    ("contenttypes", "ContentType"),
                    ("auth", "Group"),
                    ("sessions", "Session"),
                    ("axes", "AccessAttempt"),
                    ("token_blacklist", "OutstandingToken"),
                    ("orders", "Order"),
                ]
            ]
        """,
    )

    counts = shared.count_everything()

    assert counts[0:2] == [0, 0] and counts[3:] == [0, 0, 0, 0, 0]
    assert crossings() == []


def test_test_code_is_no_module(plant, crossings):
    """A test body, or a helper in a module's tests package, may set up any module's data."""
    helper = plant("orders.tests.helpers_planted", LEAKY)

    helper.create_user()
    get_user_model().objects.create(username="bob", email="bob@example.com")

    assert get_user_model().objects.count() == 2
    assert crossings() == []


def test_a_handler_whose_crossing_the_engine_catches_still_shows(
    plant, crossings, django_capture_on_commit_callbacks
):
    """The engine records a handler's exception as a failed delivery; the guard keeps the
    violation, so the plugin would fail the test all the same."""
    handlers = plant(
        "orders.leaky_handlers",
        """\
        from django.apps import apps


        def on_registered(event):
            apps.get_model("accounts", "User").objects.filter(pk=event.user_id).exists()
        """,
    )
    subscriber(UserRegistered)(handlers.on_registered)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            publish(
                UserRegistered(
                    user_id=7, username="ada", email="ada@example.com", profile_version=1
                )
            )
    finally:
        unsubscribe("orders.leaky_handlers.on_registered")

    delivery = Delivery.objects.get(handler="orders.leaky_handlers.on_registered")
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_error.startswith(
        "OwnershipViolation: orders queried accounts_user, a table of accounts, at "
        "orders/leaky_handlers.py:5: "
    )
    assert [(v.module, v.table, v.location) for v in crossings()] == [
        ("orders", "accounts_user", "orders/leaky_handlers.py:5")
    ]


def test_a_command_of_a_module_is_that_module(plant, crossings):
    command = plant(
        "orders.management.commands.leaky_count",
        """\
        from django.apps import apps
        from django.core.management.base import BaseCommand


        class Command(BaseCommand):
            def handle(self, *args, **options):
                apps.get_model("accounts", "User").objects.count()
        """,
    )

    with pytest.raises(OwnershipViolation, match=r"^orders queried accounts_user, a table of"):
        call_command(command.Command())

    assert [(v.module, v.table, v.location) for v in crossings()] == [
        ("orders", "accounts_user", "orders/management/commands/leaky_count.py:7")
    ]


def test_a_view_of_a_module_is_that_module_while_it_serves_the_request(plant, crossings, api):
    """A DRF view that only declares its queryset has no frame when DRF runs the query: the
    request's view names the module, and the location is the view's class."""
    views = plant(
        "orders.leaky_views",
        """\
        from django.apps import apps
        from rest_framework import serializers
        from rest_framework.generics import ListAPIView
        from rest_framework.permissions import AllowAny


        class UserNames(serializers.Serializer):
            username = serializers.CharField()


        class LeakyUserList(ListAPIView):
            authentication_classes = []
            permission_classes = [AllowAny]
            serializer_class = UserNames
            queryset = apps.get_model("accounts", "User").objects.order_by("pk")
        """,
    )
    urls = types.ModuleType("tests.leaky_urls")
    urls.urlpatterns = [path("leaky/", views.LeakyUserList.as_view())]  # type: ignore[attr-defined]
    sys.modules["tests.leaky_urls"] = urls
    try:
        with (
            override_settings(ROOT_URLCONF="tests.leaky_urls"),
            pytest.raises(OwnershipViolation) as raised,
        ):
            api.get("/leaky/")
    finally:
        del sys.modules["tests.leaky_urls"]

    assert str(raised.value).startswith(
        "orders queried accounts_user, a table of accounts, at orders/leaky_views.py:11: SELECT"
    )
    assert {(v.module, v.table, v.location) for v in crossings()} == {
        ("orders", "accounts_user", "orders/leaky_views.py:11")
    }


def test_the_real_flows_cross_nothing(signed_up, crossings):
    """Registration, login, ordering and the profile run with the guard on: nothing crossed."""
    bob = signed_up("bob")

    assert bob.get("/api/orders/").status_code in (200, 409)
    assert bob.get("/api/accounts/me/").status_code == 200
    assert crossings() == []


def test_record_mode_keeps_running_and_writes_the_json(plant, crossings, tmp_path):
    leaky = plant("orders.leaky", LEAKY)
    ownership.install("record")
    try:
        assert leaky.count_users() == 0
        assert leaky.count_users() == 0  # the same place twice: one entry
        leaky.create_user()
    finally:
        ownership.install("raise")

    assert get_user_model().objects.count() == 1
    write_record(tmp_path / "ownership.json", crossings())
    document = json.loads((tmp_path / "ownership.json").read_text())
    insert = crossings()[2].sql
    assert document == {
        "version": 1,
        "queries": [
            {
                "module": "orders",
                "table": "accounts_user",
                "owner": "accounts",
                "sql": COUNT_USERS,
                "location": "orders/leaky.py:5",
            },
            {
                "module": "orders",
                "table": "accounts_user",
                "owner": "accounts",
                "sql": insert,
                "location": "orders/leaky.py:9",
            },
        ],
    }


def _environment(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    return {**env, **extra}


PLANTED_TEST = """\
import sys
import types

import pytest


@pytest.mark.django_db
def test_crosses():
    module = types.ModuleType("orders.planted")
    module.__file__ = "orders/planted.py"
    sys.modules["orders.planted"] = module
    exec(compile(
        "from django.apps import apps\\n"
        "def count():\\n"
        "    return apps.get_model('accounts', 'User').objects.count()\\n",
        module.__file__, "exec"), module.__dict__)
    assert module.count() == 0
"""


def test_the_record_option_writes_the_json_and_fails_no_test(tmp_path):
    (tmp_path / "test_planted.py").write_text(PLANTED_TEST)
    record = tmp_path / "out" / "ownership.json"

    run = [sys.executable, "-m", "pytest", "-q", "-p", "eventbus.testing", "-p", "no:cacheprovider"]
    run.append("--no-migrations")  # the tables straight from the models: seconds faster
    env = _environment(DJANGO_SETTINGS_MODULE="config.settings.test")
    recorded = subprocess.run(
        [*run, f"--eventbus-ownership-record={record}", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    failing = subprocess.run(
        [*run, str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert json.loads(record.read_text()) == {
        "version": 1,
        "queries": [
            {
                "module": "orders",
                "table": "accounts_user",
                "owner": "accounts",
                "sql": SQLITE_COUNT_USERS,
                "location": "orders/planted.py:3",
            }
        ],
    }
    assert failing.returncode == 1
    assert (
        "OwnershipViolation: orders queried accounts_user, a table of accounts, at "
        "orders/planted.py:3" in failing.stdout
    )


CHECK_MODE = (
    "import django; django.setup(); from eventbus import ownership; print(ownership.mode())"
)


@pytest.mark.parametrize(
    ("settings", "flag", "mode"),
    [
        ("config.settings.dev", None, "raise"),
        ("config.settings.dev", "false", "off"),
    ],
)
def test_the_setting_turns_the_guard_on_in_development(settings, flag, mode):
    """config.settings.dev sets EVENTBUS['OWNERSHIP_GUARD'] (EVENTBUS_OWNERSHIP_GUARD=false
    turns it off); the bus installs the guard at start-up."""
    extra = {"DJANGO_SETTINGS_MODULE": settings}
    if flag is not None:
        extra["EVENTBUS_OWNERSHIP_GUARD"] = flag
    result = subprocess.run(
        [sys.executable, "-c", CHECK_MODE],
        cwd=ROOT,
        env=_environment(**extra),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (result.returncode, result.stdout) == (0, f"{mode}\n"), result.stderr


def test_the_setting_is_off_unless_asked_for():
    assert BusSettings().OWNERSHIP_GUARD is False
    with override_settings(EVENTBUS={"OWNERSHIP_GUARD": True}):
        assert bus_settings.OWNERSHIP_GUARD is True


def test_the_modules_and_the_tables_they_own():
    owners = ownership.current_owners()

    assert owners.modules == {"accounts", "orders"}
    assert {table for table, owner in owners.tables.items() if owner == "accounts"} == {
        "accounts_user",
        "accounts_user_groups",
        "accounts_user_user_permissions",
        "accounts_orderrecord",
    }
    assert "eventbus_delivery" not in owners.tables
    assert "django_session" not in owners.tables


def test_the_setting_without_the_middleware_is_a_warning():
    without = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    assert MIDDLEWARE in settings.MIDDLEWARE  # the project has it

    with override_settings(EVENTBUS={"OWNERSHIP_GUARD": True}, MIDDLEWARE=without):
        (warning,) = check_view_middleware()
    with override_settings(EVENTBUS={"OWNERSHIP_GUARD": False}, MIDDLEWARE=without):
        assert check_view_middleware() == []
    with override_settings(EVENTBUS={"OWNERSHIP_GUARD": True}):
        assert check_view_middleware() == []

    assert (warning.id, warning.hint) == (
        "eventbus.W001",
        "Add 'eventbus.ownership.middleware.ViewModuleMiddleware' last in MIDDLEWARE.",
    )

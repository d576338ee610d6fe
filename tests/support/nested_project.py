"""A project laid out as one top-level package holding its apps (``project/users``,
``project/emails``, ``project/orders``, ``project/billing``), as many Django projects are:
written into a directory by ``write(root)`` and run in a subprocess with this checkout's
eventbus on the path.

``EVENTBUS["MODULES"]`` groups ``project.orders`` and ``billing`` (by label) into the module
``shop``. users publishes ``users.user_registered``, which emails handles; billing publishes
``shop.invoice_issued``, which users handles, and ``billing.invoice_paid`` (a name that
disagrees with its module, shop), which nobody handles. ``probe.py`` migrates, runs module
code under the ownership guard and prints, as JSON, what the guard and the catalogue said.
"""

from pathlib import Path

FILES = {
    "project/__init__.py": "",
    "project/settings.py": """\
import json
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "a-project-whose-apps-live-in-one-package"
USE_TZ = True
ROOT_URLCONF = "project.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "eventbus",
    "project.users",
    "project.emails",
    "project.orders",
    "project.billing",
]
# NESTED_MODULES replaces the group (a test runs the project without it too).
GROUPS = os.environ.get("NESTED_MODULES", '{"shop": ["project.orders", "billing"]}')
EVENTBUS = {"MODULES": json.loads(GROUPS)}
# NESTED_PROJECT_APP=1 makes the project's package an app too, which holds the others.
if os.environ.get("NESTED_PROJECT_APP"):
    INSTALLED_APPS.append("project")
""",
    "project/urls.py": "urlpatterns = []\n",
    "manage.py": """\
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
from django.core.management import execute_from_command_line

execute_from_command_line(sys.argv)
""",
    # users: accounts of its own, publishes a registration, handles issued invoices
    "project/users/__init__.py": "",
    "project/users/apps.py": """\
from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "project.users"

    def ready(self) -> None:
        from project.users import handlers  # noqa: F401
""",
    "project/users/models.py": """\
from django.db import models


class Member(models.Model):
    name = models.CharField(max_length=50)
""",
    "project/users/events.py": """\
from eventbus import Event


class UserRegistered(Event):
    event_name = "users.user_registered"
    event_version = 1

    member_id: int
""",
    "project/users/handlers.py": """\
from eventbus import subscriber
from project.billing.events import InvoiceIssued


@subscriber(InvoiceIssued)
def note_invoice(event: InvoiceIssued) -> None:
    pass
""",
    "project/users/services.py": """\
from project.users.models import Member


def member_count() -> int:
    return Member.objects.count()
""",
    # emails: handles registrations; its planted read of users' table crosses
    "project/emails/__init__.py": "",
    "project/emails/apps.py": """\
from django.apps import AppConfig


class EmailsConfig(AppConfig):
    name = "project.emails"

    def ready(self) -> None:
        from project.emails import handlers  # noqa: F401
""",
    "project/emails/models.py": """\
from django.db import models


class Email(models.Model):
    to_member = models.BigIntegerField()
""",
    "project/emails/handlers.py": """\
from eventbus import subscriber
from project.users.events import UserRegistered


@subscriber(UserRegistered)
def send_welcome(event: UserRegistered) -> None:
    pass
""",
    "project/emails/services.py": """\
from project.users.models import Member


def members_to_greet() -> list[str]:
    return list(Member.objects.values_list("name", flat=True))
""",
    # shop = orders + billing: orders reads billing's table, within one module
    "project/orders/__init__.py": "",
    "project/orders/apps.py": """\
from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "project.orders"
""",
    "project/orders/models.py": """\
from django.db import models


class Order(models.Model):
    total = models.IntegerField()
""",
    "project/orders/services.py": """\
from project.billing.models import Invoice


def invoiced_total() -> int:
    return sum(Invoice.objects.values_list("amount", flat=True))
""",
    "project/billing/__init__.py": "",
    "project/billing/apps.py": """\
from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "project.billing"
""",
    "project/billing/models.py": """\
from django.db import models


class Invoice(models.Model):
    amount = models.IntegerField()
""",
    "project/billing/events.py": """\
from eventbus import Event


class InvoiceIssued(Event):
    event_name = "shop.invoice_issued"
    event_version = 1

    invoice_id: int


class InvoicePaid(Event):
    event_name = "billing.invoice_paid"
    event_version = 1

    invoice_id: int
""",
    "probe.py": """\
import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
import django

django.setup()

from django.core.management import call_command

from eventbus.boundaries.modules import module_names
from eventbus.contracts import catalog
from eventbus.contracts.mermaid import render_mermaid
from eventbus.exceptions import OwnershipViolation
from eventbus.ownership import install
from project.emails.services import members_to_greet
from project.orders.services import invoiced_total
from project.users.services import member_count

call_command("migrate", run_syncdb=True, verbosity=0)  # apps without migrations
install("raise")


def attempt(call):
    try:
        return {"returned": call()}
    except OwnershipViolation as violation:
        return {"raised": str(violation)}


entries = catalog.build()
print(json.dumps({
    "modules": module_names(),
    "within users": attempt(member_count),
    "within shop, across its apps": attempt(invoiced_total),
    "emails reads users": attempt(members_to_greet),
    "catalogue": [
        {"event": e.name, "producer": e.producer, "consumers": e.subscriber_modules}
        for e in entries
    ],
    "mermaid": render_mermaid(entries),
}))
""",
}


def write(root: Path) -> None:
    """Write the project's files under ``root``."""
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

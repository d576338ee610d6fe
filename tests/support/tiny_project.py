"""A tiny Django project that uses eventbus as any other project would: written into a
directory by ``write(site)``, run with the Python of a virtualenv that has the wheel installed.

One app, ``greetings``, defines one event (``greetings.greeting_sent``) and one subscriber
that appends ``<greeting_id> <to>`` to ``greetings.log`` beside manage.py. The delivery mode
is read from ``EVENTBUS_DELIVERY`` (inline unless set). ``publish.py ID [--rollback]``
publishes one greeting inside ``transaction.atomic()`` and prints, as JSON, where eventbus
was imported from and what the bus recorded. ``admin_pages.py`` prints, for each of the
bus's admin pages, its status for a superuser and whether it shows what the bus's templates
put there.
"""

from pathlib import Path

#: The handler's id, as `eventbus stats` names it.
HANDLER = "greetings.handlers.note_greeting"
#: The file the handler appends to, relative to the site.
LOG = "greetings.log"

FILES = {
    "manage.py": """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
""",
    "site_config/__init__.py": "",
    "site_config/settings.py": """\
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "tiny-project-for-the-clean-room-test"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True
ROOT_URLCONF = "site_config.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "eventbus",
    "greetings",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "eventbus.middleware.CorrelationIdMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
EVENTBUS = {"DELIVERY": os.environ.get("EVENTBUS_DELIVERY", "inline"), "MAX_ATTEMPTS": 3}
GREETINGS_LOG = BASE_DIR / "greetings.log"
""",
    "site_config/urls.py": """\
from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
""",
    "greetings/__init__.py": "",
    "greetings/apps.py": """\
from django.apps import AppConfig


class GreetingsConfig(AppConfig):
    name = "greetings"

    def ready(self) -> None:
        from greetings import handlers  # noqa: F401  (connects the subscriber)
""",
    "greetings/events.py": """\
from eventbus import Event


class GreetingSent(Event):
    event_name = "greetings.greeting_sent"
    event_version = 1

    greeting_id: int
    to: str
""",
    "greetings/handlers.py": """\
from django.conf import settings

from eventbus import subscriber
from greetings.events import GreetingSent


@subscriber(GreetingSent)
def note_greeting(event: GreetingSent) -> None:
    with open(settings.GREETINGS_LOG, "a") as log:
        log.write(f"{event.greeting_id} {event.to}\\n")
""",
    "publish.py": """\
import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings")
import django

django.setup()

from django.db import transaction

import eventbus
from eventbus import publish
from eventbus.models import Delivery, OutboxMessage
from greetings.events import GreetingSent


class RolledBack(Exception):
    pass


greeting_id = int(sys.argv[1])
try:
    with transaction.atomic():
        publish(GreetingSent(greeting_id=greeting_id, to="ada"))
        if "--rollback" in sys.argv:
            raise RolledBack
except RolledBack:
    pass
print(
    json.dumps(
        {
            "eventbus": eventbus.__file__,
            "version": eventbus.__version__,
            "outbox": OutboxMessage.objects.count(),
            "deliveries": sorted(Delivery.objects.values_list("status", flat=True)),
        }
    )
)
""",
    "admin_pages.py": """\
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings")
import django

django.setup()

from django.contrib.auth.models import User
from django.test import Client

staff, _ = User.objects.get_or_create(username="staff", is_staff=True, is_superuser=True)
client = Client()
client.force_login(staff)
# Each page, and a text that only the bus's own templates put there.
for url, text in [
    ("/admin/eventbus/outboxmessage/", "Trace a correlation id"),
    ("/admin/eventbus/outboxmessage/catalogue/", "greetings.greeting_sent"),
    ("/admin/eventbus/outboxmessage/trace/", 'name="correlation_id"'),
]:
    page = client.get(url)
    print(url, page.status_code, text in page.content.decode())
""",
}


def write(site: Path) -> None:
    """The project's files under ``site`` (created if missing)."""
    for name, text in FILES.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

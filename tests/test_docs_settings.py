"""The EVENTBUS keys and EVENTBUS_* environment variables the docs name are the ones the bus
and this project's settings read, so the two cannot drift apart again."""

import re
from dataclasses import fields

from django.core.checks import Warning

from eventbus.checks import check_environment
from eventbus.conf import BusSettings
from tools.split import ROOT

PAGES = [ROOT / "README.md", ROOT / "packages/eventbus/README.md", *(ROOT / "docs").glob("*.md")]
#: The pages about the bus itself, for any project: an environment variable they name is
#: labelled as this repository's settings' (config/settings/) in the same paragraph.
LIBRARY_PAGES = {"eventbus.md", "installing-eventbus.md", "contracts.md", "django-tasks.md"}
KEY_READ = re.compile(r"""EVENTBUS\[["']([A-Z_]+)["']\]""")
SETTING_BLOCK = re.compile(r"EVENTBUS = \{(.*?)^\}", re.DOTALL | re.MULTILINE)
BLOCK_KEY = re.compile(r"""^\s*["']([A-Z_]+)["']\s*:""", re.MULTILINE)
ENV_VAR = re.compile(r"\bEVENTBUS_[A-Z_]+[A-Z]\b")
BUS_KEYS = {f.name for f in fields(BusSettings)}


def named_keys() -> dict[str, set[str]]:
    """Each EVENTBUS key the pages name -> the pages naming it."""
    found: dict[str, set[str]] = {}
    for page in PAGES:
        text = page.read_text()
        keys = set(KEY_READ.findall(text))
        for block in SETTING_BLOCK.findall(text):
            keys |= set(BLOCK_KEY.findall(block))
        for key in keys:
            found.setdefault(key, set()).add(page.name)
    return found


def project_settings_source() -> str:
    return "\n".join(
        p.read_text() for p in [*(ROOT / "config/settings").glob("*.py"), ROOT / "tools/split.py"]
    )


def test_every_eventbus_key_the_docs_name_is_one_the_bus_reads():
    unknown = {key: pages for key, pages in named_keys().items() if key not in BUS_KEYS}

    assert unknown == {}


def test_the_installing_page_documents_every_key_the_bus_reads():
    documented = {key for key, pages in named_keys().items() if "installing-eventbus.md" in pages}

    assert BUS_KEYS - documented == set()


def test_every_environment_variable_the_docs_name_is_read_by_this_projects_settings():
    source = project_settings_source()
    named = {var for page in PAGES for var in ENV_VAR.findall(page.read_text())}
    # EVENTBUS_BROKER_PASSWORD_<MODULE> is spelt per module.
    unread = {
        var
        for var in named
        if var not in source and not var.startswith("EVENTBUS_BROKER_PASSWORD_")
    }

    assert named  # the pattern finds them
    assert unread == set()


def test_the_library_pages_label_environment_variables_as_this_projects():
    unlabelled = [
        (page.name, paragraph.strip()[:80])
        for page in PAGES
        if page.name in LIBRARY_PAGES or page.parent.name == "eventbus"
        for paragraph in page.read_text().split("\n\n")
        if ENV_VAR.search(paragraph) and "config/settings" not in paragraph
    ]

    assert unlabelled == []


def test_an_environment_variable_the_settings_do_not_read_is_a_warning(settings, monkeypatch):
    monkeypatch.setenv("EVENTBUS_DELIVERY", "worker")
    monkeypatch.setenv("EVENTBUS_MAX_ATTEMPTS", "8")  # agrees with the setting: no warning
    settings.EVENTBUS = {"DELIVERY": "inline", "MAX_ATTEMPTS": 8}

    assert check_environment() == [
        Warning(
            "The environment sets EVENTBUS_DELIVERY='worker' but EVENTBUS['DELIVERY'] is "
            "'inline': the bus reads the EVENTBUS setting, not the environment, so the variable "
            "changes nothing.",
            hint="Read it in your settings: EVENTBUS = {'DELIVERY': "
            "os.environ.get('EVENTBUS_DELIVERY', ...)}, or unset it.",
            id="eventbus.W003",
        )
    ]


def test_an_environment_variable_the_settings_read_is_no_warning(settings, monkeypatch):
    monkeypatch.setenv("EVENTBUS_DELIVERY", "worker")
    monkeypatch.setenv("EVENTBUS_METRICS", "false")
    settings.EVENTBUS = {"DELIVERY": "worker", "METRICS": False}

    assert check_environment() == []

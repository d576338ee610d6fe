"""Every module of the installed bus imports on this cell's Python and Django: a name of a
newer standard library or Django fails here, not in a user's project."""

import importlib
import pkgutil

import eventbus
from eventbus.tasks import SUPPORTED

#: The modules built on django.tasks (Django 6.0+); eventbus.tasks itself imports everywhere.
ON_DJANGO_TASKS = {
    "eventbus.tasks.backend",
    "eventbus.tasks.loading",
    "eventbus.tasks.results",
    "eventbus.tasks.runner",
    "eventbus.tasks.signals",
}


def every_module() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(eventbus.__path__, prefix="eventbus.")
        if ".migrations." not in info.name
    )


def test_every_module_of_the_bus_imports():
    modules = every_module()
    expected_to_fail = set() if SUPPORTED else ON_DJANGO_TASKS

    failed = {}
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            failed[name] = str(exc)

    assert len(modules) > 100
    assert set(modules) >= ON_DJANGO_TASKS
    assert set(failed) == expected_to_fail, failed
    assert all("django.tasks" in why for why in failed.values()), failed

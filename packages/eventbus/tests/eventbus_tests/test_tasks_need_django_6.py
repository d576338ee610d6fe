"""OutboxTaskBackend on each Django: refused with a check error that says why before 6.0
(never an ImportError), accepted from 6.0 on."""

import django
import pytest
from django.core.checks import Error, run_checks
from django.test import override_settings

import eventbus.tasks
from eventbus.tasks import SUPPORTED, TasksNeedDjango6

OUTBOX = {"default": {"BACKEND": "eventbus.tasks.OutboxTaskBackend"}}


def test_supported_is_whether_this_django_has_django_tasks():
    assert SUPPORTED is (django.VERSION >= (6, 0))


def outbox_errors() -> list:
    with override_settings(TASKS=OUTBOX):
        return [e for e in run_checks(tags=["eventbus"]) if e.id == "eventbus.E020"]


def test_the_backend_is_refused_before_django_6_by_the_checks_and_on_import_else_accepted():
    if SUPPORTED:
        from eventbus.tasks.backend import OutboxTaskBackend

        assert outbox_errors() == []
        assert eventbus.tasks.OutboxTaskBackend is OutboxTaskBackend
        return
    errors = outbox_errors()
    assert errors == [
        Error(
            f"TASKS['default']: {TasksNeedDjango6()}",
            hint="Upgrade Django to 6.0 or later, or remove it from TASKS on Django 5.2.",
            id="eventbus.E020",
        )
    ]
    assert "which Django added in 6.0; this is Django 5.2" in errors[0].msg
    with pytest.raises(TasksNeedDjango6) as refused:
        _ = eventbus.tasks.OutboxTaskBackend
    assert str(refused.value) == str(TasksNeedDjango6())
    assert eventbus.tasks.configured() is False
    assert eventbus.tasks.known_queues() == set()

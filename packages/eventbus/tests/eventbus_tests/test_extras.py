"""The optional dependencies: a feature whose package is missing names the extra to install,
and the progress bars are simply left out without tqdm."""

import importlib
import io
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from eventbus.cli import output
from eventbus.extras import missing_extra


def test_the_error_names_the_package_the_extra_and_the_command_to_install_it():
    error = missing_extra("kombu", needed_for="The amqp transport")

    assert isinstance(error, ImproperlyConfigured)
    assert str(error) == (
        "The amqp transport needs kombu, which is not installed; install the bus with its "
        "'amqp' extra: pip install 'django-eventbus-outbox[amqp]'."
    )


def test_the_broker_module_without_kombu_says_which_extra_to_install(monkeypatch):
    # given kombu cannot be imported, and the broker module is not loaded yet
    monkeypatch.setitem(sys.modules, "kombu", None)
    monkeypatch.delitem(sys.modules, "eventbus.broker.amqp", raising=False)

    with pytest.raises(ImproperlyConfigured) as raised:
        importlib.import_module("eventbus.broker.amqp")

    assert "pip install 'django-eventbus-outbox[amqp]'" in str(raised.value)
    assert "eventbus.broker.amqp" not in sys.modules


def test_consume_without_kombu_ends_with_the_message_not_a_traceback(monkeypatch):
    monkeypatch.setitem(sys.modules, "kombu", None)
    for name in ("eventbus.broker.amqp", "eventbus.broker.consumer"):
        monkeypatch.delitem(sys.modules, name, raising=False)

    with pytest.raises(CommandError) as raised:
        call_command("eventbus", "consume", "--once")

    assert str(raised.value) == str(
        missing_extra("kombu", needed_for="RabbitMQ (the broker side of the bus)")
    )


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.django_db
def test_without_tqdm_a_long_run_on_a_terminal_shows_no_bar_and_still_runs(monkeypatch):
    monkeypatch.setattr(output, "tqdm", None)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    out = io.StringIO()

    call_command("eventbus", "purge", "--older-than", "1d", stdout=out)

    assert terminal.getvalue() == ""
    assert out.getvalue().startswith("Deleted 0 outbox messages")


def test_without_tqdm_progress_takes_the_counts_and_does_nothing(monkeypatch):
    monkeypatch.setattr(output, "tqdm", None)

    with output.progress(total=2, desc="replaying", unit="event") as advance:
        assert advance(2) is None

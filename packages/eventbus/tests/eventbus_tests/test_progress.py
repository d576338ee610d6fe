"""Long `eventbus` runs show a progress bar on stderr when it is a terminal, else nothing."""

import io
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from eventbus import DoNotRetry, publish
from eventbus.models import Delivery, OutboxMessage
from eventbus_tests.sample import ThingHappened

pytestmark = pytest.mark.django_db(transaction=True)

HERE = "eventbus_tests.test_progress"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def noted(event: ThingHappened) -> None:
    pass


def refused(event: ThingHappened) -> None:
    raise DoNotRetry("no")


@pytest.fixture
def two_events(subscribe) -> None:
    subscribe(ThingHappened, noted)
    subscribe(ThingHappened, refused)
    for thing_id in (1, 2):
        with transaction.atomic():
            publish(ThingHappened(thing_id=thing_id))
    OutboxMessage.objects.update(dispatched_at=timezone.now() - timedelta(days=60))


def stderr_as(monkeypatch: pytest.MonkeyPatch, stream: io.StringIO) -> io.StringIO:
    """Make ``stream`` the process's stderr for the test: a pipe, or a Terminal."""
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("eventbus", *args, stdout=out)
    return out.getvalue()


REPLAY = ("replay", "--event", "samples.thing_happened", "--handler", f"{HERE}.noted", "--again")


def test_replay_shows_progress_on_a_terminal_only(two_events, monkeypatch):
    pipe = stderr_as(monkeypatch, io.StringIO())
    run(*REPLAY)
    assert pipe.getvalue() == ""

    terminal = stderr_as(monkeypatch, Terminal())
    out = run(*REPLAY)

    assert "replaying:   0%|" in terminal.getvalue()
    assert "replaying" not in out


def test_purge_shows_progress_on_a_terminal_only(two_events, monkeypatch):
    Delivery.objects.filter(status="dead").update(status="discarded")
    pipe = stderr_as(monkeypatch, io.StringIO())
    run("purge", "--older-than", "90d")
    assert pipe.getvalue() == ""

    terminal = stderr_as(monkeypatch, Terminal())
    out = run("purge", "--older-than", "1d")

    assert "purging: 0 messages [" in terminal.getvalue()
    assert out.startswith("Deleted 2 outbox messages")


def test_retrying_dead_letters_shows_progress_on_a_terminal_only(two_events, monkeypatch):
    pipe = stderr_as(monkeypatch, io.StringIO())
    with pytest.raises(CommandError, match="2 still dead"):
        run("dead-letters", "retry", "--all")
    assert pipe.getvalue() == ""

    terminal = stderr_as(monkeypatch, Terminal())
    with pytest.raises(CommandError, match="2 still dead"):
        run("dead-letters", "retry", "--all")

    assert "retrying:   0%|" in terminal.getvalue()

"""`eventbus purge`: only settled, dispatched, old outbox rows go, in chunks."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from eventbus.conf import bus_settings
from eventbus.models import Delivery, DeliveryAttempt, OutboxMessage
from eventbus.operations import purge as retention

pytestmark = pytest.mark.django_db


def message(label: str, *, dispatched_days_ago: float | None, **statuses: str) -> OutboxMessage:
    """An outbox row dispatched that many days ago (None: never), with one delivery per
    handler=status given; failed and dead deliveries get one failed attempt each."""
    now = timezone.now()
    dispatched = None if dispatched_days_ago is None else now - timedelta(days=dispatched_days_ago)
    row = OutboxMessage.objects.create(
        name="samples.thing_happened",
        version=1,
        occurred_at=dispatched or now - timedelta(days=60),
        producer="samples",
        correlation_id=label,
        payload={"thing_id": 1},
        dispatched_at=dispatched,
    )
    for handler, status in statuses.items():
        delivery = Delivery.objects.create(
            message=row,
            handler=handler,
            status=status,
            attempts=1,
            next_attempt_at=now if status in ("failed", "waiting") else None,
            created_at=now,
            updated_at=now,
        )
        if status in ("failed", "dead", "discarded"):
            DeliveryAttempt.objects.create(delivery=delivery, number=1, error="x", failed_at=now)
    return row


@pytest.fixture
def outbox() -> dict[str, OutboxMessage]:
    return {
        "settled": message("settled", dispatched_days_ago=40, a="succeeded", b="succeeded"),
        "discarded": message("discarded", dispatched_days_ago=31, a="succeeded", b="discarded"),
        "no handlers": message("no handlers", dispatched_days_ago=45),
        "recent": message("recent", dispatched_days_ago=10, a="succeeded"),
        "failed": message("failed", dispatched_days_ago=40, a="succeeded", b="failed"),
        "waiting": message("waiting", dispatched_days_ago=40, a="waiting"),
        "dead": message("dead", dispatched_days_ago=40, a="dead"),
        "undispatched": message("undispatched", dispatched_days_ago=None),
    }


def left() -> set[str]:
    return set(OutboxMessage.objects.values_list("correlation_id", flat=True))


def run(*args: str) -> str:
    out = StringIO()
    call_command("eventbus", "purge", *args, stdout=out)
    return out.getvalue()


def test_purges_only_old_dispatched_rows_whose_deliveries_are_all_settled(outbox):
    out = run()

    assert out == (
        "Deleted 3 outbox messages dispatched over 30d ago, "
        "with 4 deliveries and 1 failed attempts.\n"
    )
    assert left() == {"recent", "failed", "waiting", "dead", "undispatched"}
    assert Delivery.objects.count() == 5
    assert DeliveryAttempt.objects.count() == 2  # of "failed" and "dead"


def test_older_than_sets_the_cutoff(outbox):
    assert run("--older-than", "9d").startswith("Deleted 4 outbox messages dispatched over 9d ago")
    assert left() == {"failed", "waiting", "dead", "undispatched"}


def test_the_default_comes_from_the_retention_setting(outbox):
    with override_settings(EVENTBUS={"RETENTION_DAYS": 35}):
        out = run()

    assert out.startswith("Deleted 2 outbox messages dispatched over 35d ago")
    assert left() == {"discarded", "recent", "failed", "waiting", "dead", "undispatched"}


def test_dry_run_counts_and_deletes_nothing(outbox):
    out = run("--dry-run", "--older-than", "720h")

    assert out == (
        "Would delete 3 outbox messages dispatched over 30d ago, "
        "with 4 deliveries and 1 failed attempts.\n"
    )
    assert len(left()) == 8 and Delivery.objects.count() == 9


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("30", "'30' is not a duration; write a number and a unit, d, h, m or s"),
        ("thirty days", "'thirty days' is not a duration"),
        ("3w", "'3w' is not a duration"),
        ("0d", "'0d' is zero; give a duration of more than zero."),
    ],
)
def test_a_bad_duration_is_refused_and_nothing_is_deleted(outbox, value, message):
    with pytest.raises(CommandError, match=f"argument --older-than: {message}"):
        run("--older-than", value)

    assert len(left()) == 8


def test_durations_in_minutes_and_hours(outbox):
    OutboxMessage.objects.filter(correlation_id="recent").update(
        dispatched_at=timezone.now() - timedelta(minutes=100)
    )
    assert run("--older-than", "2h", "--dry-run").startswith("Would delete 3 ")
    assert run("--older-than", "90m", "--dry-run").startswith("Would delete 4 ")
    assert run("--older-than", "1h30m", "--dry-run").startswith("Would delete 4 ")


def test_deletes_in_chunks_reporting_each(outbox):
    progress: list[int] = []

    result = retention.purge(
        older_than=timedelta(days=1), chunk_size=2, on_progress=progress.append
    )

    assert result == retention.PurgeResult(messages=4, deliveries=5, attempts=1, dry_run=False)
    assert progress == [2, 2]


def test_a_row_whose_delivery_failed_since_it_was_chosen_is_kept(outbox):
    candidates = retention.purgeable(older_than=timedelta(days=30))
    ids = sorted(candidates.values_list("pk", flat=True))
    settled = outbox["settled"]
    Delivery.objects.filter(message=settled, handler="b").update(
        status="failed", next_attempt_at=timezone.now()
    )

    deleted = retention._delete_chunk(candidates, ids, using="default")

    assert deleted["eventbus.OutboxMessage"] == 2
    assert "settled" in left()


def test_retention_must_be_at_least_a_day():
    with (
        override_settings(EVENTBUS={"RETENTION_DAYS": 0}),
        pytest.raises(ImproperlyConfigured, match=r"RETENTION_DAYS'\] must be at least 1"),
    ):
        bus_settings.RETENTION_DAYS  # noqa: B018


def test_a_row_the_relay_has_not_sent_yet_is_kept(outbox):
    unsent = message("unsent", dispatched_days_ago=40)
    OutboxMessage.objects.filter(pk=unsent.pk).update(broker="pending")
    sent = message("sent", dispatched_days_ago=40)
    OutboxMessage.objects.filter(pk=sent.pk).update(broker="sent")

    run()

    assert "unsent" in left()
    assert "sent" not in left()

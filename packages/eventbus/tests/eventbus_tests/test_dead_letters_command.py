"""`eventbus dead-letters list|retry|discard`: filters, formats, --all, unknown ids."""

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from eventbus import DoNotRetry, publish
from eventbus.models import Delivery, DeliveryAttempt, OutboxMessage
from eventbus_tests.sample import OtherThingHappened, ThingHappened

pytestmark = pytest.mark.django_db(transaction=True)

HERE = "eventbus_tests.test_dead_letters_command"
UPDATED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
broken_now = {"broken": True}


def broken(event: ThingHappened) -> None:
    if broken_now["broken"]:
        raise DoNotRetry(f"thing {event.thing_id} is bad\nsecond line")


def also_broken(event: OtherThingHappened) -> None:
    if broken_now["broken"]:
        raise DoNotRetry("other is bad")


def fine(event: ThingHappened) -> None:
    pass


@pytest.fixture
def dead(subscribe):
    """Dead letters: two of `broken` (ThingHappened 1, 2), one of `also_broken`; `fine`
    succeeded on both ThingHappened. Returns their delivery ids in that order."""
    broken_now["broken"] = True
    subscribe(ThingHappened, broken)
    subscribe(ThingHappened, fine)
    subscribe(OtherThingHappened, also_broken)
    for publishing in (ThingHappened(thing_id=1), ThingHappened(thing_id=2)):
        with transaction.atomic():
            publish(publishing)
    with transaction.atomic():
        publish(OtherThingHappened(thing_id=3))
    Delivery.objects.update(updated_at=UPDATED)
    return list(Delivery.objects.filter(status="dead").order_by("pk").values_list("pk", flat=True))


def run(*args: str) -> str:
    out = StringIO()
    call_command("eventbus", "dead-letters", *args, stdout=out)
    return out.getvalue()


def statuses() -> dict[int, str]:
    return dict(Delivery.objects.values_list("pk", "status"))


def test_list_prints_one_line_per_dead_letter_oldest_first(dead):
    first, second, other = dead
    m1, m2, m3 = (Delivery.objects.get(pk=pk).message_id for pk in dead)

    lines = run("list").splitlines()

    assert lines[0].split() == [
        "ID", "EVENT", "EVENT", "ID", "HANDLER", "ATTEMPTS", "LAST", "ERROR", "UPDATED"
    ]  # fmt: skip
    assert [line.split() for line in lines[1:]] == [
        [str(first), "samples.thing_happened", str(m1), f"{HERE}.broken", "1",
         "DoNotRetry:", "thing", "1", "is", "bad", "2026-03-01", "12:00:00+00:00"],
        [str(second), "samples.thing_happened", str(m2), f"{HERE}.broken", "1",
         "DoNotRetry:", "thing", "2", "is", "bad", "2026-03-01", "12:00:00+00:00"],
        [str(other), "samples.other_thing_happened", str(m3), f"{HERE}.also_broken", "1",
         "DoNotRetry:", "other", "is", "bad", "2026-03-01", "12:00:00+00:00"],
    ]  # fmt: skip


def test_list_filters_by_handler_prefix_exact_handler_and_event(dead):
    first, second, other = dead

    def ids(*args: str) -> list[int]:
        return [int(line.split()[0]) for line in run("list", *args).splitlines()[1:]]

    assert ids("--handler", f"{HERE}.also") == [other]
    assert ids("--handler", f"{HERE}.broken") == [first, second]
    assert ids("--handler", "eventbus_tests") == [first, second, other]
    assert ids("--event", "samples.other_thing_happened") == [other]
    assert ids("--event", "samples.thing_happened", "--handler", f"{HERE}.also_broken") == []


def test_list_limit_says_how_many_more_there_are(dead):
    lines = run("list", "--limit", "2").splitlines()

    assert [int(line.split()[0]) for line in lines[1:-1]] == dead[:2]
    assert lines[-1] == "Showing 2 of 3 dead letters (--limit 2)."


def test_list_as_json_keeps_the_whole_error(dead):
    first = Delivery.objects.get(pk=dead[0])

    rows = json.loads(run("list", "--format", "json", "--limit", "1"))

    assert rows == [
        {
            "id": first.pk,
            "event": "samples.thing_happened",
            "event_id": str(first.message_id),
            "handler": f"{HERE}.broken",
            "attempts": 1,
            "last_error": "DoNotRetry: thing 1 is bad\nsecond line",
            "updated_at": "2026-03-01T12:00:00+00:00",
        }
    ]


def test_list_with_nothing_dead(db):
    assert run("list") == "No dead letters.\n"
    assert run("list", "--format", "json") == "[]\n"


@pytest.mark.parametrize("limit", ["0", "-1", "many"])
def test_list_refuses_a_bad_limit(dead, limit):
    with pytest.raises(CommandError, match="argument --limit"):
        run("list", "--limit", limit)


def test_retry_by_id_runs_them_again_and_reports_each(dead):
    first, second, other = dead
    broken_now["broken"] = False

    out = run("retry", str(second), str(other))

    assert out.splitlines() == [
        f"succeeded  {second:>6}  {HERE}.broken",
        f"succeeded  {other:>6}  {HERE}.also_broken",
        "Retried 2 dead letters: 2 succeeded.",
    ]
    assert Delivery.objects.get(pk=first).status == "dead"
    assert [(d.status, d.attempts) for d in Delivery.objects.filter(pk__in=[second, other])] == [
        ("succeeded", 2),
        ("succeeded", 2),
    ]


def test_retry_fails_when_any_is_still_dead(dead):
    first, second, _ = dead

    with pytest.raises(CommandError, match=f"2 still dead: {first}, {second};"):
        call_command("eventbus", "dead-letters", "retry", "--all", "--handler", f"{HERE}.broken")

    retried = Delivery.objects.filter(pk__in=[first, second])
    assert [(d.status, d.attempts) for d in retried] == [("dead", 2), ("dead", 2)]
    assert DeliveryAttempt.objects.filter(delivery_id=first).count() == 2


def test_retry_all_with_event_filter_leaves_the_others(dead, capsys):
    first, second, other = dead
    broken_now["broken"] = False

    call_command("eventbus", "dead-letters", "retry", "--all", "--event", "samples.thing_happened")

    assert capsys.readouterr().out.splitlines()[-1] == "Retried 2 dead letters: 2 succeeded."
    assert statuses()[first] == statuses()[second] == "succeeded"
    assert statuses()[other] == "dead"


def test_retry_all_with_nothing_matching(dead):
    assert run("retry", "--all", "--handler", "nobody") == "No dead letters to retry.\n"


@pytest.mark.parametrize("verb", ["retry", "discard"])
def test_bulk_without_ids_needs_all(dead, verb):
    before = statuses()

    with pytest.raises(CommandError, match=f"Give the ids of the dead letters to {verb}, or --all"):
        run(verb)
    with pytest.raises(CommandError, match=f"Give the ids of the dead letters to {verb}, or --all"):
        run(verb, "--handler", f"{HERE}.broken")

    assert statuses() == before


@pytest.mark.parametrize("verb", ["retry", "discard"])
def test_unknown_ids_are_named_and_nothing_changes(dead, verb):
    broken_now["broken"] = False
    succeeded = Delivery.objects.get(handler=f"{HERE}.fine", message__payload__thing_id=1).pk
    before = statuses()

    with pytest.raises(CommandError) as raised:
        run(verb, str(dead[0]), "999999", str(succeeded))

    assert str(raised.value) == (
        f"No dead letter with id {succeeded}, 999999 (see `eventbus dead-letters list`); "
        f"nothing was {'retried' if verb == 'retry' else 'discarded'}."
    )
    assert statuses() == before


@pytest.mark.parametrize("verb", ["retry", "discard"])
def test_ids_and_all_together_are_refused(dead, verb):
    before = statuses()

    with pytest.raises(CommandError, match="Give dead letter ids or --all, not both"):
        run(verb, str(dead[0]), "--all")
    with pytest.raises(CommandError, match="--handler and --event narrow --all"):
        run(verb, str(dead[0]), "--handler", HERE)

    assert statuses() == before


def test_discard_by_id_keeps_them_on_record(dead):
    first, second, other = dead

    assert run("discard", str(first), str(other)) == "Discarded 2 dead letters.\n"

    assert statuses()[first] == statuses()[other] == "discarded"
    assert statuses()[second] == "dead"
    assert OutboxMessage.objects.count() == 3


def test_discard_all_with_filters(dead):
    first, second, other = dead

    assert run("discard", "--all", "--handler", f"{HERE}.broken") == "Discarded 2 dead letters.\n"
    assert (statuses()[first], statuses()[second], statuses()[other]) == (
        "discarded",
        "discarded",
        "dead",
    )
    assert run("discard", "--all") == "Discarded 1 dead letters.\n"
    assert run("list") == "No dead letters.\n"

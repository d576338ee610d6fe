"""The recipe for an idempotent handler (docs/eventbus.md, "Idempotent handlers"): a row keyed
by ``current_event_id()`` with a unique constraint, written with get_or_create, is applied
once under the redelivery drill; the same handler writing with create() is applied twice, so
the drill is what catches the difference."""

from collections.abc import Iterator

import pytest
from django.db import connection, models, transaction

from eventbus import NotInHandlerError, current_event_id, publish
from eventbus.delivery.redelivery import redelivering
from eventbus.models import OutboxMessage
from eventbus_tests.sample import ThingHappened


class ThingNoted(models.Model):
    event_id = models.UUIDField(unique=True)
    thing_id = models.IntegerField()
    # Declared: the stubs add no manager to a model whose app is not installed.
    objects: "models.Manager[ThingNoted]" = models.Manager()

    class Meta:
        app_label = "eventbus_idempotency_tests"

    def __str__(self) -> str:
        return f"thing {self.thing_id} noted"


class ThingCounted(models.Model):
    thing_id = models.IntegerField()
    objects: "models.Manager[ThingCounted]" = models.Manager()

    class Meta:
        app_label = "eventbus_idempotency_tests"

    def __str__(self) -> str:
        return f"thing {self.thing_id} counted"


@pytest.fixture
def tables() -> Iterator[None]:
    with connection.schema_editor() as editor:
        editor.create_model(ThingNoted)
        editor.create_model(ThingCounted)
    yield
    with connection.schema_editor() as editor:
        editor.delete_model(ThingNoted)
        editor.delete_model(ThingCounted)


def note_thing(event: ThingHappened) -> None:
    ThingNoted.objects.get_or_create(
        event_id=current_event_id(), defaults={"thing_id": event.thing_id}
    )


def count_thing(event: ThingHappened) -> None:
    ThingCounted.objects.create(thing_id=event.thing_id)


@pytest.mark.django_db(transaction=True)
def test_a_row_keyed_by_the_event_id_is_written_once_under_the_drill(tables, subscribe):
    subscribe(ThingHappened, note_thing)

    with redelivering(), transaction.atomic():
        publish(ThingHappened(thing_id=5))

    (message,) = OutboxMessage.objects.all()
    assert list(ThingNoted.objects.values_list("event_id", "thing_id")) == [(message.id, 5)]


@pytest.mark.eventbus_redeliver(False)  # the negative control: it runs the drill itself
@pytest.mark.django_db(transaction=True)
def test_a_row_created_without_a_key_is_written_twice_under_the_drill(tables, subscribe):
    subscribe(ThingHappened, count_thing)

    with transaction.atomic():
        publish(ThingHappened(thing_id=5))
    with redelivering(), transaction.atomic():
        publish(ThingHappened(thing_id=6))

    assert sorted(ThingCounted.objects.values_list("thing_id", flat=True)) == [5, 6, 6]


def test_the_event_id_outside_a_handler_is_an_error_saying_so():
    with pytest.raises(NotInHandlerError) as raised:
        current_event_id()

    assert str(raised.value) == (
        "current_event_id() is called outside a handler: it names the event being delivered. "
        "Call the handler through the bus (publish() in a test), or give the service it calls "
        "an id of your own."
    )

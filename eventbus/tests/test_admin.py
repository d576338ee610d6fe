"""The bus in the admin: outbox and deliveries searchable by ids, dead letters retried."""

import pytest
from django.db import transaction
from django.test import override_settings

from eventbus import correlation_scope, publish
from eventbus.models import Delivery, OutboxMessage
from eventbus.tests.sample import OtherThingHappened, ThingHappened

pytestmark = pytest.mark.django_db(transaction=True)


def publish_under(correlation_id: str, thing_id: int) -> OutboxMessage:
    with correlation_scope(correlation_id), transaction.atomic():
        envelope = publish(ThingHappened(thing_id=thing_id))
    return OutboxMessage.objects.get(pk=envelope.event_id)


def test_outbox_is_searchable_by_event_id_and_correlation_id(admin_client):
    first = publish_under("corr-aaa", 1)
    second = publish_under("corr-bbb", 2)

    by_id = admin_client.get("/admin/eventbus/outboxmessage/", {"q": str(first.id)})
    by_correlation = admin_client.get("/admin/eventbus/outboxmessage/", {"q": "corr-bbb"})

    assert by_id.status_code == 200
    assert [m.pk for m in by_id.context["cl"].result_list] == [first.pk]
    assert [m.pk for m in by_correlation.context["cl"].result_list] == [second.pk]


def test_outbox_detail_shows_payload_and_deliveries(admin_client, subscribe):
    subscribe(ThingHappened, lambda event: None)
    message = publish_under("corr-detail", 5)

    page = admin_client.get(f"/admin/eventbus/outboxmessage/{message.pk}/change/")

    assert page.status_code == 200
    body = page.content.decode()
    assert "&quot;thing_id&quot;: 5" in body
    assert "succeeded" in body


def test_deliveries_are_searchable_by_correlation_id(admin_client, subscribe):
    subscribe(ThingHappened, lambda event: None)
    publish_under("corr-one", 1)
    publish_under("corr-two", 2)

    page = admin_client.get("/admin/eventbus/delivery/", {"q": "corr-two"})

    assert [d.message.correlation_id for d in page.context["cl"].result_list] == ["corr-two"]


@override_settings(EVENTBUS={"MAX_ATTEMPTS": 1, "RETRY_JITTER": 0})
def test_dead_letters_are_listed_and_retried_from_the_admin(admin_client, subscribe):
    fail = {"now": True}

    def fragile(event: ThingHappened) -> None:
        if fail["now"]:
            raise RuntimeError("downstream is down")
        with transaction.atomic():
            publish(OtherThingHappened(thing_id=event.thing_id))

    subscribe(ThingHappened, fragile)
    publish_under("corr-dead", 1)
    dead = Delivery.objects.get()
    assert dead.status == "dead"

    listing = admin_client.get("/admin/eventbus/deadletter/")
    assert [d.pk for d in listing.context["cl"].result_list] == [dead.pk]
    detail = admin_client.get(f"/admin/eventbus/deadletter/{dead.pk}/change/").content.decode()
    assert "RuntimeError: downstream is down" in detail
    assert "Traceback (most recent call last)" in detail

    fail["now"] = False
    response = admin_client.post(
        "/admin/eventbus/deadletter/",
        {"action": "retry_now", "_selected_action": [dead.pk]},
        follow=True,
    )

    assert "Retried 1: 1 succeeded, 0 failed." in response.content.decode()
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == ("succeeded", 2)
    assert OutboxMessage.objects.filter(name="samples.other_thing_happened").count() == 1


@override_settings(EVENTBUS={"MAX_ATTEMPTS": 1})
def test_dead_letters_can_be_discarded_and_stay_on_record(admin_client, subscribe):
    def broken(event: ThingHappened) -> None:
        raise RuntimeError("bad")

    subscribe(ThingHappened, broken)
    publish_under("corr-discard", 1)
    dead = Delivery.objects.get()

    admin_client.post(
        "/admin/eventbus/deadletter/",
        {"action": "discard", "_selected_action": [dead.pk]},
        follow=True,
    )

    dead.refresh_from_db()
    assert dead.status == "discarded"
    assert admin_client.get("/admin/eventbus/deadletter/").context["cl"].result_count == 0

"""The staff pages: the event catalogue and the trace of one correlation id."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction

from eventbus import correlation_scope, publish
from eventbus.models import Delivery, OutboxMessage
from eventbus_tests.sample import OtherThingHappened, ThingHappened

pytestmark = pytest.mark.django_db(transaction=True)

CATALOGUE = "/admin/eventbus/outboxmessage/catalogue/"
TRACE = "/admin/eventbus/outboxmessage/trace/"


def on_thing(event: ThingHappened) -> None:
    pass


def test_catalogue_lists_events_with_producer_flag_and_subscribers(admin_client, subscribe):
    subscribe(ThingHappened, on_thing)
    page = admin_client.get(CATALOGUE)

    assert page.status_code == 200
    entry = next(e for e in page.context["entries"] if e.name == "samples.thing_happened")
    assert (entry.version, entry.producer, entry.externalised) == (1, "samples", False)
    body = page.content.decode()
    assert (
        "<strong>eventbus_tests</strong>: <code>eventbus_tests.test_admin_views.on_thing</code>"
        in body
    )
    assert 'action="/admin/eventbus/outboxmessage/trace/"' in body


# Out of the redelivery drill: its probe publishes a follow-up on every call (no dedup); the trace asserts exactly one.
@pytest.mark.eventbus_redeliver(False)
def test_trace_follows_a_correlation_id_through_events_and_deliveries(admin_client, subscribe):
    def reacts(event: ThingHappened) -> None:
        publish(OtherThingHappened(thing_id=event.thing_id))

    def fails(event: OtherThingHappened) -> None:
        raise RuntimeError("not today")

    subscribe(ThingHappened, reacts)
    subscribe(OtherThingHappened, fails)
    with correlation_scope("trace-me"), transaction.atomic():
        publish(ThingHappened(thing_id=1))
    with correlation_scope("someone-else"), transaction.atomic():
        publish(ThingHappened(thing_id=2))
    root = OutboxMessage.objects.get(correlation_id="trace-me", name="samples.thing_happened")
    # Make the timings exact: the child 30 ms after the root, each delivery 5 ms after its event.
    child = OutboxMessage.objects.get(correlation_id="trace-me", causation_id=root.pk)
    OutboxMessage.objects.filter(pk=child.pk).update(
        occurred_at=root.occurred_at + timedelta(milliseconds=30)
    )
    for message, occurred in (
        (root, root.occurred_at),
        (child, root.occurred_at + timedelta(milliseconds=30)),
    ):
        Delivery.objects.filter(message=message).update(
            updated_at=occurred + timedelta(milliseconds=5)
        )

    page = admin_client.get(TRACE, {"correlation_id": "trace-me"})

    assert page.status_code == 200
    events = page.context["events"]
    assert [(e.message.name, e.depth, e.offset_ms) for e in events] == [
        ("samples.thing_happened", 0, 0),
        ("samples.other_thing_happened", 1, 30),
    ]
    assert [
        [(d.handler.rsplit(".", 1)[-1], d.status, d.attempts, d.after_ms) for d in e.deliveries]
        for e in events
    ] == [[("reacts", "succeeded", 1, 5)], [("fails", "failed", 1, 5)]]
    assert events[1].deliveries[0].last_error == "RuntimeError: not today"
    body = page.content.decode()
    assert body.index("samples.thing_happened") < body.index("samples.other_thing_happened")
    assert 'class="depth-1"' in body


def test_trace_of_an_unknown_correlation_id_says_so(admin_client):
    page = admin_client.get(TRACE, {"correlation_id": "nobody-sent-this"})

    assert page.status_code == 200
    assert page.context["events"] == []
    assert (
        "No event carries the correlation id <code>nobody-sent-this</code>."
        in page.content.decode()
    )


@pytest.mark.parametrize("url", [CATALOGUE, TRACE])
def test_non_staff_users_are_sent_to_the_admin_login(client, url):
    user = get_user_model().objects.create_user("carol", password="carol-pass-1234")
    client.force_login(user)

    page = client.get(url, {"correlation_id": "x"})

    assert page.status_code == 302
    assert page["Location"].startswith("/admin/login/?next=")


@pytest.mark.parametrize("url", [CATALOGUE, TRACE])
def test_staff_without_the_outbox_view_permission_get_403(client, url):
    user = get_user_model().objects.create_user("sam", password="sam-pass-1234", is_staff=True)
    client.force_login(user)

    assert client.get(url).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    assert client.get(url).status_code == 200


def test_the_outbox_list_links_to_the_pages(admin_client):
    body = admin_client.get("/admin/eventbus/outboxmessage/").content.decode()

    assert f'<a href="{CATALOGUE}">Event catalogue</a>' in body
    assert f'<a href="{TRACE}">Trace a correlation id</a>' in body

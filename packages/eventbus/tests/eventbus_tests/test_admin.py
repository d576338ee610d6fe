"""The bus in the admin: outbox and deliveries searchable by ids, dead letters retried,
failed attempts shown, waiting deliveries filtered."""

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from eventbus import correlation_scope, publish
from eventbus.delivery.batch import redeliver
from eventbus.models import Delivery, DeliveryAttempt, OutboxMessage
from eventbus_tests.sample import OtherThingHappened, ThingHappened

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


# Out of the redelivery drill: its probe publishes a follow-up on every call (no dedup), and this counts the follow-ups.
@pytest.mark.eventbus_redeliver(False)
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


def failing_twice(subscribe) -> Delivery:
    """A delivery that failed on its first attempt and on a retry: two attempt rows."""
    tries = {"n": 0}

    def flaky(event: ThingHappened) -> None:
        tries["n"] += 1
        raise RuntimeError(f"try {tries['n']} <broke>")

    subscribe(ThingHappened, flaky)
    publish_under("corr-flaky", 1)
    delivery = Delivery.objects.get()
    redeliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    return delivery


def attempt_rows(page) -> list[tuple[int, str]]:
    formset = next(
        f for f in page.context["inline_admin_formsets"] if f.opts.model is DeliveryAttempt
    )
    return [(form.original.number, form.original.error) for form in formset]


@pytest.mark.parametrize("page", ["delivery", "deadletter"])
def test_every_failed_attempt_is_shown_with_its_traceback(admin_client, subscribe, page):
    delivery = failing_twice(subscribe)
    if page == "deadletter":
        Delivery.objects.filter(pk=delivery.pk).update(status="dead", next_attempt_at=None)

    response = admin_client.get(f"/admin/eventbus/{page}/{delivery.pk}/change/")

    assert response.status_code == 200
    assert attempt_rows(response) == [
        (1, "RuntimeError: try 1 <broke>"),
        (2, "RuntimeError: try 2 <broke>"),
    ]
    body = response.content.decode()
    assert "Failed attempts" in body
    # the delivery's last traceback, then one per attempt
    assert body.count("<pre>Traceback (most recent call last):") == 3
    assert "RuntimeError: try 2 &lt;broke&gt;\n</pre>" in body
    assert 'name="failures-0-error"' not in body  # read-only: no form fields


def test_waiting_deliveries_have_their_own_filter_and_say_what_they_wait_for(
    admin_client, subscribe
):
    subscribe(ThingHappened, lambda event: None)
    waiting_message = publish_under("corr-wait", 1)
    publish_under("corr-done", 2)
    Delivery.objects.filter(message=waiting_message).update(
        status="waiting",
        last_error="waits for earlier event 0192 of aggregate '1'",
        next_attempt_at=timezone.now(),
    )

    page = admin_client.get("/admin/eventbus/delivery/", {"status__exact": "waiting"})

    assert [d.message_id for d in page.context["cl"].result_list] == [waiting_message.pk]
    body = page.content.decode()
    assert "waiting for an earlier event of its aggregate" in body  # the filter's choice
    assert "waits for earlier event 0192 of aggregate &#x27;1&#x27;" in body


def staff_client(client, django_user_model, *codenames: str):
    """The test client logged in as a staff member holding only the given eventbus rights."""
    staff = django_user_model.objects.create_user(
        username="viewer", email="viewer@example.com", password="a-long-pass-2026", is_staff=True
    )
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="eventbus", codename__in=codenames)
    )
    client.force_login(staff)
    return client


def delivery_rows() -> list[tuple[object, ...]]:
    return list(
        Delivery.objects.order_by("pk").values_list("pk", "status", "attempts", "updated_at")
    )


@pytest.mark.parametrize(
    ("page", "action"),
    [("deadletter", "retry_now"), ("deadletter", "discard"), ("delivery", "retry_now")],
)
@override_settings(EVENTBUS={"MAX_ATTEMPTS": 1})
def test_view_only_staff_cannot_retry_or_discard(
    client, django_user_model, subscribe, page: str, action: str
):
    # given a dead letter whose handler would now succeed, and a view-only staff member
    calls = []
    fail = {"now": True}

    def fragile(event: ThingHappened) -> None:
        calls.append(event.thing_id)
        if fail["now"]:
            raise RuntimeError("down")
        with transaction.atomic():
            publish(OtherThingHappened(thing_id=event.thing_id))

    subscribe(ThingHappened, fragile)
    publish_under("corr-view-only", 1)
    fail["now"] = False
    viewer = staff_client(client, django_user_model, "view_delivery", "view_deadletter")
    before, messages_before = delivery_rows(), OutboxMessage.objects.count()

    # when they open the list and post the action anyway
    listing = viewer.get(f"/admin/eventbus/{page}/")
    response = viewer.post(
        f"/admin/eventbus/{page}/",
        {"action": action, "_selected_action": [before[0][0]]},
        follow=True,
    )

    # then the action is not offered and nothing ran or was written
    assert listing.status_code == 200
    assert f'value="{action}"' not in listing.content.decode()
    assert response.status_code == 200
    assert "Retried 1" not in response.content.decode()
    assert "Discarded 1" not in response.content.decode()
    assert calls == [1]  # only the first, failed attempt
    assert delivery_rows() == before
    assert OutboxMessage.objects.count() == messages_before


@override_settings(EVENTBUS={"MAX_ATTEMPTS": 1})
def test_staff_with_the_change_permission_may_discard(client, django_user_model, subscribe):
    def broken(event: ThingHappened) -> None:
        raise RuntimeError("bad")

    subscribe(ThingHappened, broken)
    publish_under("corr-operator", 1)
    dead = Delivery.objects.get()
    operator = staff_client(client, django_user_model, "view_deadletter", "change_deadletter")

    response = operator.post(
        "/admin/eventbus/deadletter/",
        {"action": "discard", "_selected_action": [dead.pk]},
        follow=True,
    )

    assert "Discarded 1 dead letter(s)." in response.content.decode()
    dead.refresh_from_db()
    assert dead.status == "discarded"

"""The dashboard page in the admin: its permission, what it draws, and its group actions
(permissioned, CSRF-checked, writing nothing when refused)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client, override_settings
from django.utils.html import escape

from eventbus import publish
from eventbus.models import Delivery, DeliveryAttempt
from eventbus_tests.sample import ThingHappened

pytestmark = pytest.mark.django_db(transaction=True)

DASHBOARD = "/admin/eventbus/dashboard/"
ACTION = "/admin/eventbus/dashboard/failures/"


def staff(client: Client, *codenames: str) -> Client:
    user = get_user_model().objects.create_user("sam", password="sam-pass-1234", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


@pytest.fixture
def dead_letters(subscribe):
    """Two dead letters of one handler (RuntimeError), whose handler now succeeds; returns
    (handler id, their ids)."""
    fail = {"now": True}

    def fragile(event: ThingHappened) -> None:
        if fail["now"]:
            raise RuntimeError("downstream is down")

    subscribe(ThingHappened, fragile)
    with override_settings(EVENTBUS={"MAX_ATTEMPTS": 1, "RETRY_JITTER": 0}):
        for thing_id in (1, 2):
            with transaction.atomic():
                publish(ThingHappened(thing_id=thing_id))
    fail["now"] = False
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
    assert list(Delivery.objects.values_list("status", flat=True)) == ["dead", "dead"]
    return f"{fragile.__module__}.{fragile.__qualname__}", ids


def group(handler: str, action: str, status: str = "dead") -> dict[str, str]:
    return {"handler": handler, "error_type": "RuntimeError", "status": status, "action": action}


def unchanged(ids: list[int]) -> bool:
    """Still dead, with one failed attempt each: nothing ran, nothing was written."""
    rows = list(Delivery.objects.filter(pk__in=ids).values_list("status", "attempts"))
    return rows == [("dead", 1)] * len(ids) and DeliveryAttempt.objects.count() == len(ids)


def test_the_admin_index_and_the_catalogue_link_to_the_dashboard(admin_client):
    index = admin_client.get("/admin/").content.decode()
    catalogue = admin_client.get("/admin/eventbus/outboxmessage/catalogue/").content.decode()

    assert f'<a href="{DASHBOARD}"' in index
    assert f'<a href="{DASHBOARD}">' in catalogue


def test_non_staff_users_are_sent_to_the_admin_login(client):
    user = get_user_model().objects.create_user("carol", password="carol-pass-1234")
    client.force_login(user)

    page = client.get(DASHBOARD)

    assert page.status_code == 302
    assert page["Location"].startswith("/admin/login/?next=")


def test_staff_need_the_dashboard_permission(client):
    staff(client, "view_outboxmessage", "view_delivery")

    assert client.get(DASHBOARD).status_code == 403
    assert f'href="{DASHBOARD}"' not in client.get("/admin/").content.decode()

    get_user_model().objects.get(username="sam").user_permissions.add(
        Permission.objects.get(codename="view_dashboard")
    )
    assert client.get(DASHBOARD).status_code == 200


def test_an_empty_hour_renders_empty_states(admin_client):
    page = admin_client.get(DASHBOARD)

    assert page.status_code == 200
    body = page.content.decode()
    for section in ("backlog", "failures", "processes", "module-map"):
        assert f'<section id="{section}">' in body
    for kind in ("backlog", "deliveries", "latency"):
        assert f'<svg class="eventbus-chart" data-chart="{kind}" data-empty="true"' in body
    assert "<polyline" not in body
    assert "Nothing was published, dispatched or delivered in the last hour." in body
    assert "Nothing published in the last hour, and no backlog." in body
    assert "No delivery in the last hour." in body
    assert "No failed delivery and no dead letter." in body
    assert "No worker or consumer is registered." in body


def test_the_page_draws_the_hour_failures_and_module_map(admin_client, dead_letters):
    handler, _ = dead_letters

    body = admin_client.get(DASHBOARD).content.decode()

    for kind in ("backlog", "deliveries", "latency"):
        assert f'<svg class="eventbus-chart" data-chart="{kind}" viewBox' in body
    assert body.count('<polyline class="published"') == 1
    summary = "In the last hour: 2 published, 2 dispatched, 2 deliveries (2 not succeeded)"
    assert summary in body
    assert body.count('<polyline class="deliveries"') == 1
    assert body.count('<polyline class="p95"') == 1
    assert f"<td><code>{escape(handler)}</code></td>" in body
    assert "<td><code>RuntimeError</code></td>" in body
    assert "RuntimeError: downstream is down" in body
    assert 'value="retry">Retry group</button>' in body
    assert 'value="discard">Discard group</button>' in body
    # the test project's events: samples' thing_happened, handled by these tests' module
    assert 'data-from="samples" data-to="eventbus_tests"' in body
    assert '<g class="module" data-module="samples">' in body


def test_a_viewer_is_not_offered_the_actions_and_a_forged_post_runs_nothing(client, dead_letters):
    handler, ids = dead_letters
    staff(client, "view_dashboard", "view_deadletter", "view_delivery")

    body = client.get(DASHBOARD).content.decode()
    retried = client.post(ACTION, group(handler, "retry"))
    discarded = client.post(ACTION, group(handler, "discard"))

    assert "Retry group" not in body and "Discard group" not in body
    assert (retried.status_code, discarded.status_code) == (403, 403)
    assert unchanged(ids)


def test_retrying_failed_deliveries_does_not_grant_dead_letters(client, dead_letters):
    handler, ids = dead_letters
    staff(client, "view_dashboard", "change_delivery")

    assert "Retry group" not in client.get(DASHBOARD).content.decode()  # the group is dead
    assert client.post(ACTION, group(handler, "discard")).status_code == 403
    assert unchanged(ids)


def test_retrying_a_dead_group_delivers_it(client, dead_letters):
    handler, _ = dead_letters
    staff(client, "view_dashboard", "change_deadletter")

    page = client.post(ACTION, group(handler, "retry"), follow=True)

    assert page.redirect_chain == [(f"{DASHBOARD}#failures", 302)]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert f"Retried 2 of {escape(handler)}: 2 succeeded, 0 failed." in page.content.decode()


def test_discarding_a_dead_group(admin_client, dead_letters):
    handler, _ = dead_letters

    page = admin_client.post(ACTION, group(handler, "discard"), follow=True)

    assert set(Delivery.objects.values_list("status", flat=True)) == {"discarded"}
    assert f"Discarded 2 dead letter(s) of {escape(handler)}." in page.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {},
        group("x", "retry", status="succeeded"),
        group("x", "explode"),
        group("x", "discard", status="failed"),
        {**group("x", "retry"), "handler": ""},
    ],
)
def test_a_bad_action_is_a_400_and_runs_nothing(admin_client, dead_letters, data):
    _, ids = dead_letters
    if data.get("handler") == "x":
        data["handler"] = dead_letters[0]

    page = admin_client.post(ACTION, data)

    assert page.status_code == 400
    assert unchanged(ids)


def test_an_action_needs_post_and_the_csrf_token(dead_letters):
    handler, ids = dead_letters
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.create_superuser("root", password="root-1234"))

    assert client.get(ACTION, group(handler, "retry")).status_code == 405
    assert client.post(ACTION, group(handler, "retry")).status_code == 403
    assert unchanged(ids)


def test_the_page_s_queries_are_pinned(admin_client, dead_letters, django_assert_num_queries):
    # session, user; gauges (2); workers, consumers; the hour (3); failure groups and samples
    with django_assert_num_queries(11):
        assert admin_client.get(DASHBOARD).status_code == 200


def test_an_empty_page_s_queries_are_pinned(admin_client, django_assert_num_queries):
    # session, user; gauges (2); workers, consumers; the hour (2: nothing was dispatched, so
    # no deliveries to count); failure groups (none, so no samples)
    with django_assert_num_queries(9):
        assert admin_client.get(DASHBOARD).status_code == 200

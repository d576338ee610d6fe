"""accounts admin: the user list, the deactivate action, the read-only order records."""

import pytest
from django.test import Client

from accounts.events import UserDeactivated, UserRegistered
from accounts.models import User
from accounts.services import user_register
from accounts.tests.conftest import PASSWORD
from eventbus.testing import PublishedEvents

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db: None) -> Client:
    root = User.objects.create_superuser(
        username="root", email="root@example.com", password=PASSWORD
    )
    client = Client()
    client.force_login(root)  # django-axes needs a request, which Client.login() doesn't pass
    return client


def test_user_list_and_order_records_pages_render(staff_client: Client, alice: User) -> None:
    # when
    users = staff_client.get("/admin/accounts/user/?q=alice")
    records = staff_client.get("/admin/accounts/orderrecord/")
    change = staff_client.get(f"/admin/accounts/user/{alice.pk}/change/")

    # then
    assert users.status_code == 200
    assert b"alice@example.com" in users.content
    assert records.status_code == 200
    assert change.status_code == 200


def test_deactivate_action_calls_the_service_with_reason_staff(
    staff_client: Client, alice: User, published_events: PublishedEvents
) -> None:
    # given
    bob = user_register(username="bob", email="bob@example.com", password=PASSWORD)
    published_events.clear()

    # when
    response = staff_client.post(
        "/admin/accounts/user/",
        {"action": "deactivate_selected", "_selected_action": [alice.pk, bob.pk]},
        follow=True,
    )

    # then
    assert response.status_code == 200
    assert b"Deactivated 2 user(s)." in response.content
    assert list(User.objects.filter(is_active=False).order_by("pk")) == [alice, bob]
    assert published_events.events == [
        UserDeactivated(user_id=alice.pk, reason="staff"),
        UserDeactivated(user_id=bob.pk, reason="staff"),
    ]


def test_adding_a_user_in_the_admin_registers_it(
    staff_client: Client, published_events: PublishedEvents
) -> None:
    # when
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "dora",
            "email": "dora@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    # then
    dora = User.objects.get(username="dora")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/accounts/user/{dora.pk}/change/"
    assert dora.check_password(PASSWORD)
    assert published_events.events == [
        UserRegistered(
            user_id=dora.pk, username="dora", email="dora@example.com", profile_version=1
        )
    ]


def test_adding_a_user_with_a_taken_email_in_the_admin_shows_the_error(
    staff_client: Client, alice: User
) -> None:
    # when
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "dora",
            "email": "ALICE@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    # then
    assert response.status_code == 200
    assert b"A user with that email already exists." in response.content
    assert not User.objects.filter(username="dora").exists()

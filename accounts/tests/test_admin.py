"""accounts admin: the user list, the deactivate action, the read-only order records."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client

from accounts.events import UserDeactivated, UserRegistered
from accounts.models import User
from accounts.services import user_register
from accounts.tests.conftest import PASSWORD
from eventbus.models import OutboxMessage
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


def staff_with(*codenames: str, superuser: bool = False) -> Client:
    """A logged-in staff member holding only the given accounts permissions."""
    staff = User.objects.create_user(
        username="staffer", email="staffer@example.com", password=PASSWORD, is_staff=True
    )
    staff.is_superuser = superuser
    staff.save(update_fields=["is_superuser"])
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
    )
    client = Client()
    client.force_login(staff)
    return client


def deactivate(client: Client, *users: User) -> list[tuple[str, str]]:
    response = client.post(
        "/admin/accounts/user/",
        {"action": "deactivate_selected", "_selected_action": [u.pk for u in users]},
        follow=True,
    )
    assert response.status_code == 200
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_view_only_staff_cannot_deactivate_users(
    alice: User, published_events: PublishedEvents
) -> None:
    # given a staff member who may only view users, and a superuser
    viewer = staff_with("view_user")
    root = User.objects.create_superuser(username="root", email="r@example.com", password=PASSWORD)
    published_events.clear()

    # when the action is offered and then posted anyway
    listing = viewer.get("/admin/accounts/user/")
    result = deactivate(viewer, alice, root)

    # then it is not offered, is refused, and nothing is written or published
    assert listing.status_code == 200
    assert b"deactivate_selected" not in listing.content
    assert result == []  # no action to run: the list is shown again
    assert list(User.objects.filter(is_active=False)) == []
    assert len(published_events) == 0
    assert OutboxMessage.objects.filter(name="accounts.user_deactivated").count() == 0


def test_staff_who_may_change_users_cannot_deactivate_a_superuser(
    alice: User, published_events: PublishedEvents
) -> None:
    # given a staff member who may change users (not a superuser), and a superuser
    changer = staff_with("view_user", "change_user")
    root = User.objects.create_superuser(username="root", email="r@example.com", password=PASSWORD)
    published_events.clear()

    # when they deactivate alice and the superuser together
    result = deactivate(changer, alice, root)

    # then alice is deactivated; the superuser is refused with a reason and stays active
    assert result == [
        (
            "error",
            "Only a superuser can deactivate the superuser 'root'; ask a superuser to do it.",
        ),
        ("success", "Deactivated 1 user(s)."),
    ]
    assert list(User.objects.filter(is_active=False)) == [alice]
    assert published_events.events == [UserDeactivated(user_id=alice.pk, reason="staff")]


def test_a_superuser_can_deactivate_a_superuser(published_events: PublishedEvents) -> None:
    # given two superusers
    boss = staff_with(superuser=True)
    root = User.objects.create_superuser(username="root", email="r@example.com", password=PASSWORD)
    published_events.clear()

    # when one deactivates the other
    result = deactivate(boss, root)

    # then
    assert result == [("success", "Deactivated 1 user(s).")]
    assert published_events.events == [UserDeactivated(user_id=root.pk, reason="staff")]


def test_staff_who_may_change_users_cannot_edit_a_superuser_or_grant_rights(alice: User) -> None:
    # given a staff member who may change users, and a superuser
    changer = staff_with("view_user", "change_user")
    root = User.objects.create_superuser(username="root", email="r@example.com", password=PASSWORD)

    # when they try to change the superuser's password and to make alice a superuser
    password = changer.post(
        f"/admin/accounts/user/{root.pk}/password/",
        {"password1": "a-new-long-pass-2026", "password2": "a-new-long-pass-2026"},
    )
    changer.post(
        f"/admin/accounts/user/{alice.pk}/change/",
        {"is_staff": "on", "is_superuser": "on", "password": alice.password},
    )

    # then neither happened
    root.refresh_from_db()
    alice.refresh_from_db()
    assert password.status_code == 403
    assert root.check_password(PASSWORD)
    assert (alice.is_staff, alice.is_superuser) == (False, False)

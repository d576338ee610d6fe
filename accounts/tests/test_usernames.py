"""Usernames compare one way everywhere: NFKC, casefolded, at registration, login and in the
unique constraint."""

import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.conftest import PASSWORD
from accounts.usernames import username_key

pytestmark = pytest.mark.django_db

DOTLESS = "\u0131van"  # dotless i: its own letter, in any case
FULLWIDTH = "\uff29\uff36\uff21\uff2e"  # "IVAN" in fullwidth letters, NFKC makes it IVAN
DOTTED_CAPITAL = "\u0130VAN"  # capital I with a dot: casefolds to i and a combining dot
TAKEN = {"username": ["A user with that username already exists."]}


def register(username: str, email: str) -> Any:
    return APIClient().post(
        "/api/accounts/register/",
        {"username": username, "email": email, "password": PASSWORD},
        format="json",
    )


def login(username: str) -> Any:
    return APIClient().post(
        "/api/accounts/login/", {"username": username, "password": PASSWORD}, format="json"
    )


@pytest.mark.parametrize(
    ("username", "key"),
    [
        ("IVAN", "ivan"),
        (FULLWIDTH, "ivan"),
        ("Stra\u00dfe", "strasse"),
        (DOTLESS, DOTLESS),
        ("\ufb01n", "fin"),
    ],
)
def test_the_key_is_nfkc_and_casefolded(username: str, key: str) -> None:
    assert username_key(username) == key


def test_dotless_i_is_a_distinct_name_and_each_logs_in_only_as_itself() -> None:
    # given
    assert register("ivan", "ivan@example.com").status_code == 201

    # when
    dotless = register(DOTLESS, "dotless@example.com")
    upper = register("IVAN", "upper@example.com")
    fullwidth = register(FULLWIDTH, "wide@example.com")

    # then: the dotless name is its own; IVAN and its fullwidth form are ivan's, refused
    assert dotless.status_code == 201
    assert (upper.status_code, upper.json()) == (400, TAKEN)
    assert (fullwidth.status_code, fullwidth.json()) == (400, TAKEN)
    assert User.objects.count() == 2
    ivan_id = User.objects.get(username="ivan").pk
    dotless_id = User.objects.get(username=DOTLESS).pk
    assert login("ivan").json()["user"]["id"] == ivan_id
    assert login("IVAN").json()["user"]["id"] == ivan_id
    assert login(DOTLESS).json()["user"]["id"] == dotless_id
    assert login(DOTTED_CAPITAL).status_code == 401


def test_names_equal_only_once_casefolded_are_refused() -> None:
    # given
    assert register("strasse", "a@example.com").status_code == 201

    # when
    response = register("Stra\u00dfe", "b@example.com")

    # then
    assert (response.status_code, response.json()) == (400, TAKEN)
    assert User.objects.count() == 1


def test_a_username_too_long_once_normalised_is_refused_with_a_reason() -> None:
    # when: 150 characters, each casefolded to two ("ß" is "ss")
    response = register("\u00df" * 150, "long@example.com")

    # then
    assert response.status_code == 400
    assert "at most 150 characters once normalised" in response.json()["username"][0]
    assert not User.objects.exists()


def test_the_database_refuses_a_second_user_with_the_same_key() -> None:
    # given
    User.objects.create_user(username="ivan", email="ivan@example.com", password=PASSWORD)

    # when / then: even bypassing the services
    with pytest.raises(IntegrityError):
        User.objects.create_user(username="IVAN", email="other@example.com", password=PASSWORD)


def test_the_migration_fills_the_key_of_existing_users() -> None:
    # given: a user stored before the key existed
    user = User.objects.create_user(username="Ivan", email="ivan@example.com", password=PASSWORD)
    User.objects.filter(pk=user.pk).update(username_key="")
    migration = importlib.import_module("accounts.migrations.0002_username_key")

    # when
    migration.fill_username_keys(django_apps, None)

    # then
    assert User.objects.get(pk=user.pk).username_key == "ivan"


def test_a_clashing_username_entered_in_the_admin_is_a_form_error_not_a_500() -> None:
    # given: "strasse" exists, and a superuser in the admin
    User.objects.create_user(username="strasse", email="a@example.com", password=PASSWORD)
    root = User.objects.create_superuser(
        username="root", email="root@example.com", password=PASSWORD
    )
    client = Client()
    client.force_login(root)

    # when: "Straße" is added, which compares equal
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "Stra\u00dfe",
            "email": "b@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    # then: the form again, with the reason on the username
    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()
    assert User.objects.count() == 2


def test_full_clean_reports_a_key_clash_on_the_username() -> None:
    # given
    User.objects.create_user(username="strasse", email="a@example.com", password=PASSWORD)

    # when / then
    with pytest.raises(ValidationError) as raised:
        User(username="Stra\u00dfe", email="b@example.com", password="x").full_clean(
            exclude=["username_key"]
        )
    assert raised.value.message_dict["username"] == ["A user with that username already exists."]

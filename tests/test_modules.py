"""Which module an app, a path and an event of this project belong to, and the checks of
EVENTBUS["MODULES"] on its apps."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from eventbus.boundaries.checks import check_modules_setting
from eventbus.boundaries.modules import code_owner, module_names, module_of, producer_of
from eventbus.conf import bus_settings
from eventbus.contracts import catalog
from orders.events import OrderPlaced


def test_this_projects_modules_are_its_apps_by_label():
    assert module_names() == ["accounts", "orders"]
    assert [module_of(p) for p in ("orders.services", "accounts", "config.urls", "eventbus")] == [
        "orders",
        "accounts",
        "",
        "",
    ]


def test_code_in_no_module_is_named_by_its_app_or_package():
    assert code_owner("eventbus.tests.test_catalog.on_thing") == "eventbus"
    assert code_owner("django.contrib.auth.models.User") == "auth"
    assert code_owner("bench.handlers.on_x") == "bench"


@override_settings(EVENTBUS={"MODULES": {"shop": ["accounts", "orders"]}})
def test_a_group_makes_its_apps_one_module_everywhere():
    entries = {e.name: e for e in catalog.build()}

    assert module_names() == ["shop"]
    assert (module_of("accounts.handlers"), module_of("orders.api.views")) == ("shop", "shop")
    assert producer_of(OrderPlaced) == "shop"
    assert entries["orders.order_placed"].producer == "shop"
    assert entries["orders.order_placed"].subscriber_modules == ["shop"]
    assert check_modules_setting() == []


def test_the_setting_must_be_a_dict():
    with (
        override_settings(EVENTBUS={"MODULES": ["accounts"]}),
        pytest.raises(ImproperlyConfigured) as raised,
    ):
        _ = bus_settings.MODULES

    assert str(raised.value) == ("EVENTBUS['MODULES'] is ['accounts'] (list); it must be a dict.")


@pytest.mark.parametrize(
    ("modules", "error_id", "message"),
    [
        (
            {"Shop": ["orders"]},
            "eventbus.E011",
            "EVENTBUS['MODULES'] has the module name 'Shop'; a module's name is lower-case "
            "letters, digits and underscores, starting with a letter (it begins its events' "
            "names).",
        ),
        (
            {"shop": "orders"},
            "eventbus.E012",
            "EVENTBUS['MODULES']['shop'] is 'orders'; it must be a non-empty list of the apps "
            "that make up the module.",
        ),
        (
            {"shop": []},
            "eventbus.E012",
            "EVENTBUS['MODULES']['shop'] is []; it must be a non-empty list of the apps that "
            "make up the module.",
        ),
        (
            {"shop": ["orders", "billing"]},
            "eventbus.E013",
            "EVENTBUS['MODULES']['shop'] names 'billing', which is not an installed app.",
        ),
        (
            {"shop": ["orders"], "crm": ["accounts", "orders"]},
            "eventbus.E014",
            "EVENTBUS['MODULES']['crm'] names the app 'orders', which the module 'shop' already "
            "holds: an app is in one module.",
        ),
        (
            {"orders": ["accounts"]},
            "eventbus.E015",
            "EVENTBUS['MODULES'] names a module 'orders' that does not hold the app 'orders', "
            "which is a module of that name by its label.",
        ),
    ],
)
def test_a_wrong_group_is_an_error_naming_it(modules, error_id, message):
    with override_settings(EVENTBUS={"MODULES": modules}):
        errors = check_modules_setting()

    assert [(e.id, e.msg) for e in errors] == [(error_id, message)]

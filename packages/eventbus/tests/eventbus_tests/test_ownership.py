"""The guard's parts that know no project: finding owned tables in SQL, telling module code."""

import pytest

from eventbus.boundaries.modules import ModuleMap
from eventbus.ownership.caller import module_of
from eventbus.ownership.owners import Owners, build_owners

#: shop is a top-level app; crm is two apps inside one project package, grouped
MODULES = ModuleMap({"shop": ("shop",), "crm": ("project.contacts", "project.contacts.notes")})
OWNERS = Owners.of(
    frozenset({"shop", "crm"}),
    {"shop_order": "shop", "shop_orderline": "shop", "crm_Contact": "crm"},
    MODULES.prefixes,
)


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ('SELECT "shop_order"."id" FROM "shop_order"', {"shop_order"}),
        (
            'SELECT * FROM "shop_orderline" JOIN "crm_contact" ON 1',
            {"shop_orderline", "crm_contact"},
        ),
        ("select * from SHOP_ORDER where id = 1", {"shop_order"}),  # bare, any case
        ("SELECT * FROM public.shop_order", {"shop_order"}),
        ("SELECT * FROM `crm_contact`", {"crm_contact"}),
        ('SELECT * FROM "shop_orders", "xshop_order", "shop_order2"', set()),  # not whole words
        ('SELECT * FROM "eventbus_delivery"', set()),
        ("SELECT 'shop_order'", {"shop_order"}),  # a literal counts: errs on the side of a check
    ],
)
def test_the_owned_tables_a_statement_names(sql, tables):
    assert OWNERS.tables_in(sql) == tables


def test_no_owned_table_no_match():
    assert Owners.of(frozenset(), {}).tables_in('SELECT * FROM "shop_order"') == set()


@pytest.mark.parametrize(
    ("dotted", "module"),
    [
        ("shop", "shop"),
        ("shop.services", "shop"),
        ("shop.api.views", "shop"),
        ("shop.handlers", "shop"),
        ("shop.tests.test_api", ""),
        ("shop.tests", ""),
        ("shop.api.test_views", ""),
        ("shop.conftest", ""),
        ("shop.migrations.0001_initial", ""),
        ("shop.models", ""),  # a model's methods act for their caller
        ("shopping.services", ""),
        ("eventbus.delivery.engine", ""),
        ("project.contacts.services", "crm"),
        ("project.contacts.notes.handlers", "crm"),
        ("project.contacts.tests.test_api", ""),
        ("project.settings", ""),  # the project's package is no module
        ("project", ""),
        ("", ""),
    ],
)
def test_which_code_is_a_modules(dotted, module):
    assert module_of(dotted, OWNERS.prefixes) == module


def test_the_longest_app_name_decides():
    nested = ModuleMap({"outer": ("project.outer",), "inner": ("project.outer.inner",)})

    assert [nested.of_path(p) for p in ("project.outer.x", "project.outer.inner.x")] == [
        "outer",
        "inner",
    ]


def test_modules_without_an_installed_app_own_nothing():
    owners = build_owners(ModuleMap({"samples": ("nowhere",), "other": ("nowhere.else",)}))

    assert (owners.modules, owners.tables, owners.pattern) == (frozenset(), {}, None)

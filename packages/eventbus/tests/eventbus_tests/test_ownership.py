"""The guard's parts that know no project: finding owned tables in SQL, telling module code."""

import pytest

from eventbus.ownership.caller import module_of
from eventbus.ownership.owners import Owners, build_owners

OWNERS = Owners.of(
    frozenset({"shop", "crm"}),
    {"shop_order": "shop", "shop_orderline": "shop", "crm_Contact": "crm"},
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
        ("", ""),
    ],
)
def test_which_code_is_a_modules(dotted, module):
    assert module_of(dotted, OWNERS.modules) == module


def test_the_bus_and_modules_without_an_app_own_nothing():
    owners = build_owners({"eventbus", "samples", "nowhere"})

    assert (owners.modules, owners.tables, owners.pattern) == (frozenset(), {}, None)

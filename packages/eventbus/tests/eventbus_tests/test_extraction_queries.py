"""The query record of the data-ownership guard, as the extraction report reads it."""

import json

import pytest

from eventbus.exceptions import QueryRecordError
from eventbus.operations.extraction.queries import QueryCoupling, crossing, load


def query(module: str, owner: str, location: str = "a/b.py:1") -> dict[str, str]:
    return {
        "module": module,
        "table": f"{owner}_thing",
        "owner": owner,
        "sql": f'SELECT 1 FROM "{owner}_thing"',
        "location": location,
    }


def test_a_record_is_read_and_only_the_module_s_crossing_queries_are_kept(tmp_path):
    path = tmp_path / "record.json"
    crossing_in = query("billing", "shop")
    crossing_out = query("shop", "billing", "shop/x.py:9")
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "queries": [
                    crossing_out,
                    query("shop", "shop"),  # its own table
                    query("billing", "crm"),  # neither side is shop
                    crossing_in,
                    crossing_in,  # the same query twice is one coupling
                ],
            }
        )
    )

    assert crossing("shop", load(path)) == [
        QueryCoupling(**crossing_in),
        QueryCoupling(**crossing_out),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"queries": []}', "is not a version 1 record"),
        ("[]", "is not a version 1 record"),
        ('{"version": 1}', 'has no "queries" list'),
        (
            '{"version": 1, "queries": [{"module": "shop", "table": "t", "owner": "crm"}]}',
            "Query 0 of the record .* is not an object with the strings module, table, "
            "owner, sql, location",
        ),
        (
            json.dumps({"version": 1, "queries": [{**query("a", "b"), "sql": 42}]}),
            "Query 0 of the record",
        ),
    ],
)
def test_a_malformed_record_is_refused_naming_the_file(tmp_path, text, message):
    path = tmp_path / "record.json"
    path.write_text(text)

    with pytest.raises(QueryRecordError, match=message) as raised:
        load(path)

    assert str(path) in str(raised.value)


def test_a_missing_record_is_refused(tmp_path):
    path = tmp_path / "nowhere.json"

    with pytest.raises(QueryRecordError) as raised:
        load(path)

    assert str(raised.value) == f"Cannot read the query record {path}: No such file or directory."

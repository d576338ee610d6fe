"""Breaking-change detection between two JSON Schemas of one event version."""

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from eventbus.contracts.schema_diff import Change, breaking_changes


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def diff(old: type[BaseModel], new: type[BaseModel]) -> list[str]:
    return [str(c) for c in breaking_changes(old.model_json_schema(), new.model_json_schema())]


class Base(Strict):
    order_id: int
    label: str
    note: str | None = None


def test_the_same_schema_has_no_breaking_change():
    assert diff(Base, Base) == []


def test_adding_an_optional_field_is_compatible():
    class New(Base):
        channel: str = "web"

    assert diff(Base, New) == []


def test_adding_a_required_field_is_breaking():
    class New(Base):
        channel: str

    assert breaking_changes(Base.model_json_schema(), New.model_json_schema()) == [
        Change("channel", "required field added")
    ]


def test_removing_or_renaming_a_field_is_breaking():
    class Renamed(Strict):
        order_id: int
        title: str
        note: str | None = None

    assert diff(Base, Renamed) == [
        "label: field removed (or renamed)",
        "title: required field added",
    ]


def test_making_an_optional_field_required_is_breaking():
    class New(Strict):
        order_id: int
        label: str
        note: str | None

    assert diff(Base, New) == ["note: optional field made required"]


@pytest.mark.parametrize(
    ("old_type", "new_type", "expected"),
    [
        (str, int, ["value: type changed from string to integer"]),
        (int | None, int, ["value: type narrowed from integer | null to integer"]),
        (Decimal, str, ["value: type narrowed from number | string to string"]),
        (Decimal, float, ["value: type narrowed from number | string to number"]),
        (datetime, date, ["value: format changed from 'date-time' to 'date'"]),
        (int, int | None, []),
        (int, float, []),
        (float, int, ["value: type narrowed from number to integer"]),
        (Literal["a", "b"], Literal["a"], ["value: enum value(s) removed: ['b']"]),
        (Literal["a"], Literal["a", "b"], []),
        (str, Literal["a", "b"], ["value: narrowed to the values ['a', 'b']"]),
        (list[int], list[str], ["value[]: type changed from integer to string"]),
        (dict[str, int], dict[str, int | None], []),
        (
            dict[str, int | None],
            dict[str, int],
            ["value{}: type narrowed from integer | null to integer"],
        ),
    ],
)
def test_type_changes(old_type, new_type, expected):
    old = type("Old", (Strict,), {"__annotations__": {"value": old_type}})
    new = type("New", (Strict,), {"__annotations__": {"value": new_type}})

    assert diff(old, new) == expected


def test_tightening_a_constraint_is_breaking_and_loosening_it_is_not():
    class Short(Strict):
        code: str = Field(max_length=5)

    class Shorter(Strict):
        code: str = Field(max_length=3)

    class Free(Strict):
        code: str

    assert diff(Free, Short) == ["code: maxLength changed from absent to 5"]
    assert diff(Short, Shorter) == ["code: maxLength changed from 5 to 3"]
    assert diff(Shorter, Short) == []
    assert diff(Short, Free) == []


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class FewerColours(Enum):
    RED = "red"


def test_an_enum_value_removed_from_a_referenced_enum_is_breaking():
    class Old(Strict):
        colour: Colour

    class New(Strict):
        colour: FewerColours

    assert diff(Old, New) == ["colour: enum value(s) removed: ['blue']"]


class Line(Strict):
    sku: str
    quantity: int
    unit_price: Decimal


class LineV2(Strict):
    code: str
    quantity: int | None = None
    unit_price: str


def test_nested_models_in_lists_are_compared_field_by_field():
    class Old(Strict):
        lines: list[Line]

    class New(Strict):
        lines: list[LineV2]

    assert diff(Old, New) == [
        "lines[].code: required field added",
        "lines[].sku: field removed (or renamed)",
        "lines[].unit_price: type narrowed from number | string to string",
    ]


def test_an_optional_nested_model_is_compared_through_the_union():
    class Old(Strict):
        line: Line | None = None

    class New(Strict):
        line: LineV2 | None = None

    assert diff(Old, New)[0] == "line.code: required field added"


class Node(Strict):
    name: str
    children: list["Node"] = []


def test_recursive_models_terminate():
    assert diff(Node, Node) == []

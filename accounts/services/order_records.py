"""accounts' read model of orders: one record per order, kept from orders' events.

The records feed the profile's ``orders_count`` and ``total_spent`` (accounts.selectors).
Applying an event is idempotent and order-independent, so a redelivered or early event
gives the same record.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, Literal
from weakref import WeakKeyDictionary

from django.core.exceptions import ValidationError
from django.db import connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Col
from django.utils import timezone

from accounts.models import OrderRecord, User


def order_record_apply_placed(
    *, order_id: int, user_id: int, total: Decimal, currency: str, placed_at: datetime
) -> OrderRecord:
    """Record that an order was placed. Idempotent, and order-independent: a record that a
    cancellation created first stays cancelled.

    Raises User.DoesNotExist for an unknown user and ValidationError for a negative total or
    a currency that is not three letters. One statement, the record row locked by it.
    """
    return _order_record_mark(
        order_id=order_id, user_id=user_id, total=total, currency=currency,
        flag="placed", at=placed_at,
    )  # fmt: skip


def order_record_apply_cancelled(
    *, order_id: int, user_id: int, total: Decimal, currency: str, cancelled_at: datetime
) -> OrderRecord:
    """Record that an order was cancelled. Idempotent, and valid before its placement.

    Raises as order_record_apply_placed. One statement, the record row locked by it.
    """
    return _order_record_mark(
        order_id=order_id, user_id=user_id, total=total, currency=currency,
        flag="cancelled", at=cancelled_at,
    )  # fmt: skip


def _order_record_mark(
    *,
    order_id: int,
    user_id: int,
    total: Decimal,
    currency: str,
    flag: Literal["placed", "cancelled"],
    at: datetime,
) -> OrderRecord:
    """Set ``flag`` (and its ``<flag>_at``) on the order's record, creating it if needed.
    A flag only ever goes from false to true, so any order of events gives one answer.

    One statement, atomic on its own: an insert of the user's record guarded by the user's
    existence, which on a taken order id sets the flag instead (and keeps ``<flag>_at`` and
    ``updated_at`` when it was already set). It returns no row only when the user does not
    exist. No savepoint, no read before the write; concurrent handlers of one order meet
    on the unique order id and both end with one row.
    """
    _order_record_check(total=total, currency=currency)
    params = _upsert_params(
        order_id=order_id, user_id=user_id, total=total, currency=currency, flag=flag, at=at
    )
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(flag, connection.vendor), params)
        row = cursor.fetchone()
    if row is None:
        raise User.DoesNotExist(f"No user with id {user_id} exists in accounts.")
    return _record_from_row(row)


def _record_from_row(row: Sequence[Any]) -> OrderRecord:
    """The OrderRecord of a row the upsert returned (its concrete fields, in order), the
    values converted as the ORM would (SQLite hands back floats and naive times). A
    plain cursor and no RawQuerySet: a third of the handler's Python went to the latter."""
    real = connections[connection.alias]
    converters = _converters.get(real)
    if converters is None:
        converters = _converters[real] = _converters_of(real)
    values = list(row)
    for index, column, chain in converters:
        for converter in chain:
            values[index] = converter(values[index], column, real)
    return OrderRecord.from_db(real.alias, [field.attname for field in _returned()], values)


Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]
#: Per connection (one per thread and alias): the fields of a returned row that need a
#: conversion, and their converters, found once as the ORM's compiler finds them.
_converters: WeakKeyDictionary[BaseDatabaseWrapper, list[tuple[int, Col, list[Converter]]]] = (
    WeakKeyDictionary()
)


def _converters_of(real: BaseDatabaseWrapper) -> list[tuple[int, Col, list[Converter]]]:
    found = []
    for index, field in enumerate(_returned()):
        column = field.get_col(OrderRecord._meta.db_table)
        chain = real.ops.get_db_converters(column) + column.get_db_converters(real)
        if chain:
            found.append((index, column, chain))
    return found


def _order_record_check(*, total: Decimal, currency: str) -> None:
    errors: dict[str, list[str]] = {}
    if total < 0:
        errors["total"] = [f"The total must not be negative; got {total}."]
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = [
            f"The currency must be a three-letter ISO 4217 code; got {currency!r}."
        ]
    if errors:
        raise ValidationError(errors)


_INSERTED = (
    "order_id", "user_id", "total", "currency", "placed", "cancelled", "placed_at",
    "cancelled_at", "updated_at",
)  # fmt: skip


def _field(model: type[models.Model], name: str) -> "models.Field[object, object]":
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{model.__name__}.{name} is not a column"
    return field


def _column(model: type[models.Model], name: str) -> str:
    column = _field(model, name).column
    assert column is not None, f"{model.__name__}.{name} has no column"
    return connection.ops.quote_name(column)


@cache
def _upsert_sql(flag: Literal["placed", "cancelled"], vendor: str) -> str:
    """The upsert of one flag, built once per flag and database vendor: PostgreSQL's and
    SQLite's ``ON CONFLICT``, or MariaDB's ``ON DUPLICATE KEY UPDATE`` (whose assignments
    see the ones before them, so the flag is set last)."""
    meta = OrderRecord._meta
    table = connection.ops.quote_name(meta.db_table)

    def column(name: str) -> str:
        return _column(OrderRecord, name)

    flag_col, at_col, updated_col = column(flag), column(f"{flag}_at"), column("updated_at")
    returned = ", ".join(column(f.name) for f in meta.concrete_fields)
    user_table = connection.ops.quote_name(User._meta.db_table)
    user_pk = _column(User, "id")
    insert = (
        f"INSERT INTO {table} ({', '.join(column(name) for name in _INSERTED)}) "
        f"SELECT {', '.join(['%s'] * len(_INSERTED))} "
        f"{'FROM DUAL ' if vendor == 'mysql' else ''}"
        f"WHERE EXISTS (SELECT 1 FROM {user_table} WHERE {user_pk} = %s) "
    )
    if vendor == "mysql":
        return (
            f"{insert}ON DUPLICATE KEY UPDATE "
            f"{at_col} = CASE WHEN {table}.{flag_col} THEN {table}.{at_col} "
            f"ELSE VALUES({at_col}) END, "
            f"{updated_col} = CASE WHEN {table}.{flag_col} THEN {table}.{updated_col} "
            f"ELSE VALUES({updated_col}) END, "
            f"{flag_col} = %s "
            f"RETURNING {returned}"
        )
    return (
        f"{insert}ON CONFLICT ({column('order_id')}) DO UPDATE SET {flag_col} = %s, "
        f"{at_col} = CASE WHEN {table}.{flag_col} THEN {table}.{at_col} "
        f"ELSE EXCLUDED.{at_col} END, "
        f"{updated_col} = CASE WHEN {table}.{flag_col} THEN {table}.{updated_col} "
        f"ELSE EXCLUDED.{updated_col} END "
        f"RETURNING {returned}"
    )


def _upsert_params(
    *,
    order_id: int,
    user_id: int,
    total: Decimal,
    currency: str,
    flag: Literal["placed", "cancelled"],
    at: datetime,
) -> list[Any]:
    values: dict[str, object] = {
        "order_id": order_id,
        "user_id": user_id,
        "total": total,
        "currency": currency.upper(),
        "placed": flag == "placed",
        "cancelled": flag == "cancelled",
        "placed_at": at if flag == "placed" else None,
        "cancelled_at": at if flag == "cancelled" else None,
        "updated_at": timezone.now(),
    }
    params = [
        values[name] if field is None else field.get_db_prep_save(values[name], connection)
        for name, field in zip(_INSERTED, _preparers(), strict=True)
    ]
    return [*params, user_id, True]


#: Values the database driver takes as they are on every backend: their fields' preparation
#: is the identity (the money and the times are prepared by their fields).
_PLAIN = ("BigIntegerField", "ForeignKey", "CharField", "BooleanField")


@cache
def _preparers() -> tuple["models.Field[object, object] | None", ...]:
    """Per inserted column, the field that prepares its value, or None for a plain one."""
    fields = [_field(OrderRecord, name) for name in _INSERTED]
    return tuple(None if f.get_internal_type() in _PLAIN else f for f in fields)


@cache
def _returned() -> tuple["models.Field[object, object]", ...]:
    """The record's concrete fields, in the order the upsert returns them."""
    return tuple(_field(OrderRecord, field.name) for field in OrderRecord._meta.concrete_fields)

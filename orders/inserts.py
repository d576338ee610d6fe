"""Writing a new order and its lines: one statement on PostgreSQL, the ORM elsewhere.

The caller's transaction makes the order and its lines one change; this only saves round
trips. Field values go through each field's ``pre_save`` and ``get_db_prep_save``, as the
ORM's own insert does, so defaults and ``auto_now`` fields come out the same.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from orders.models import Order, OrderLine


def order_insert_with_lines(order: Order, lines: list[OrderLine]) -> None:
    """INSERT ``order`` and ``lines`` (at least one, SKUs distinct), each line's ``order``
    set to it; every instance gets its primary key, as ``create``/``bulk_create`` give.

    Raises what the ORM raises (IntegrityError for a broken constraint); call it inside
    ``transaction.atomic()``.
    """
    if connection.vendor != "postgresql":
        order.save(force_insert=True)
        for line in lines:
            line.order = order
        OrderLine.objects.bulk_create(lines)
        return
    sql, order_fields, line_fields = _statement(connection.vendor)
    params = _values(order, order_fields) + [
        list(column) for column in zip(*(_values(line, line_fields) for line in lines), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    order.pk = rows[0][0]
    line_ids = {sku: line_id for _, line_id, sku in rows}
    for instance in (order, *lines):
        instance._state.adding = False
        instance._state.db = connection.alias
    for line in lines:
        line.order = order
        line.pk = line_ids[line.sku]


@cache
def _statement(vendor: str) -> tuple[str, list[Field[Any, Any]], list[Field[Any, Any]]]:
    """The statement and the fields it writes: built once, not on every order (the vendor is
    the cache key; only PostgreSQL comes here)."""
    order_fields = _insert_fields(Order)
    line_fields = [f for f in _insert_fields(OrderLine) if f.name != "order"]
    qn = connection.ops.quote_name
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in line_fields)
    sql = (
        f"WITH o AS (INSERT INTO {qn(Order._meta.db_table)} ({_columns(order_fields)}) "
        f"VALUES ({', '.join(['%s'] * len(order_fields))}) RETURNING id), "
        f"l AS (INSERT INTO {qn(OrderLine._meta.db_table)} "
        f"({qn('order_id')}, {_columns(line_fields)}) "
        f"SELECT o.id, u.* FROM o, unnest({arrays}) AS u RETURNING id, sku) "
        "SELECT o.id, l.id, l.sku FROM o, l"
    )
    return sql, order_fields, line_fields


def _insert_fields(model: type[Model]) -> list[Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _columns(fields: list[Field[Any, Any]]) -> str:
    return ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)


def _values(instance: Model, fields: list[Field[Any, Any]]) -> list[Any]:
    return [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]

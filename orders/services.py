"""Writes of the orders module: catalogue, customer replica and the order life cycle.

Every function is keyword-only, runs in its own ``transaction.atomic()`` (a savepoint when
the caller already has one), locks the rows it changes with ``select_for_update`` and
publishes its events inside that transaction, so the change and its events commit together
or not at all. Business rule violations raise subclasses of ``orders.exceptions.OrdersError``
and write nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from eventbus import publish, write_together
from orders.events import OrderCancelled, OrderLinePayload, OrderPlaced, OrderStatusChanged
from orders.exceptions import (
    CustomerInactive,
    CustomerNotReplicated,
    InvalidOrderTransition,
    OrderInvalid,
    OrderNotFound,
)
from orders.inserts import order_insert_with_lines
from orders.models import (
    MAX_LINES_PER_ORDER,
    MAX_QUANTITY,
    MIN_QUANTITY,
    CancelReason,
    Customer,
    Order,
    OrderLine,
    OrderStatus,
    Product,
)
from orders.tasks import send_order_confirmation

CENT = Decimal("0.01")

MSG_NO_LINES = "An order needs at least one line."
MSG_TOO_MANY_LINES = f"An order can have at most {MAX_LINES_PER_ORDER} lines."
MSG_QUANTITY = f"Quantity must be a whole number between {MIN_QUANTITY} and {MAX_QUANTITY}."
MSG_SKU_REQUIRED = "Give the SKU of a product."
MSG_UNKNOWN_SKU = "Unknown or inactive product '{sku}'."
MSG_DUPLICATE_SKU = "Product '{sku}' appears more than once; put its whole quantity on one line."
MSG_MIXED_CURRENCIES = (
    "All products of one order must have the same currency; these lines mix {currencies}. "
    "Place one order per currency."
)

CANCELLABLE = [OrderStatus.PLACED, OrderStatus.PAID]


@dataclass(frozen=True)
class OrderLineIn:
    """One requested line of a new order: which product and how many."""

    sku: str
    quantity: int


# --- catalogue ---------------------------------------------------------------------------


def product_create(
    *, sku: str, name: str, price: Decimal, currency: str = "EUR", active: bool = True
) -> Product:
    """Add a product to the catalogue.

    Raises django.core.exceptions.ValidationError (per-field messages) for a taken SKU, a
    negative price or a currency that is not three capital letters; writes nothing then.
    """
    product = Product(sku=sku, name=name, price=price, currency=currency, active=active)
    product.full_clean()
    with transaction.atomic():
        product.save(force_insert=True)
    return product


def product_upsert(
    *, sku: str, name: str, price: Decimal, currency: str = "EUR", active: bool = True
) -> Product:
    """Create the product with this SKU, or update the existing one (idempotent).

    Meant for seeding a catalogue. Raises django.core.exceptions.ValidationError for
    invalid values; orders already placed keep their price and name snapshots.
    """
    with transaction.atomic():
        product = Product.objects.select_for_update().filter(sku=sku).first() or Product(sku=sku)
        product.name, product.price, product.currency, product.active = (
            name,
            price,
            currency,
            active,
        )
        product.full_clean()
        product.save()
    return product


# --- customer replica --------------------------------------------------------------------


def customer_replica_upsert(
    *, customer_id: int, username: str, email: str, profile_version: int
) -> None:
    """Create or update the replica of a customer from an account event (idempotent).

    The profile is applied only when ``profile_version`` is newer than the stored one: a
    redelivered or late older event changes nothing. ``is_active`` is never changed here
    (a deactivation is final), and a new replica is active. One statement
    (``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` on PostgreSQL and SQLite, ``INSERT ... ON
    DUPLICATE KEY UPDATE`` on MariaDB), so it
    is safe under concurrency: two first events for one customer do not both insert, and
    the newer profile wins whichever commits first.
    """
    updated_at = _CUSTOMER_UPDATED_AT.get_db_prep_value(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            _customer_upsert_sql(connection.vendor),
            [customer_id, username, email, True, profile_version, updated_at],
        )


@cache
def _customer_upsert_sql(vendor: str) -> str:
    """The upsert, with the replica's table and column names quoted (built once per vendor)."""
    quote = connection.ops.quote_name
    table = quote(Customer._meta.db_table)
    column = {f.name: quote(f.column) for f in Customer._meta.concrete_fields if f.column}
    pk, username, email, active, version, updated = (
        column[name]
        for name in (
            "customer_id",
            "username",
            "email",
            "is_active",
            "profile_version",
            "updated_at",
        )
    )
    insert = (
        f"INSERT INTO {table} ({pk}, {username}, {email}, {active}, {version}, {updated}) "
        "VALUES (%s, %s, %s, %s, %s, %s) "
    )
    if vendor == "mysql":
        # MariaDB has no conditional upsert: each assignment keeps the stored value unless
        # the event is newer, and the version, which the others compare, is assigned last
        # (an assignment sees the ones before it).
        newer = f"{table}.{version} < VALUES({version})"
        keep_or_take = ", ".join(
            f"{c} = IF({newer}, VALUES({c}), {table}.{c})"
            for c in (username, email, updated, version)
        )
        return f"{insert}ON DUPLICATE KEY UPDATE {keep_or_take}"
    return (
        f"{insert}ON CONFLICT ({pk}) DO UPDATE SET {username} = excluded.{username}, "
        f"{email} = excluded.{email}, {version} = excluded.{version}, "
        f"{updated} = excluded.{updated} "
        f"WHERE {table}.{version} < excluded.{version}"
    )


_CUSTOMER_UPDATED_AT = Customer._meta.get_field("updated_at")


def customer_deactivate(*, customer_id: int) -> list[Order]:
    """Mark the customer's replica inactive and cancel all of its open orders.

    Creates an inactive replica (profile version 0) when the deactivation overtook the
    registration. Each open (placed or paid) order is cancelled through ``order_cancel``
    with reason ``customer_deactivated``, publishing one OrderCancelled each; shipped
    orders stay as they are. Returns the orders it cancelled, oldest first. Idempotent: a
    second call cancels nothing. The replica row is locked first, so an order being placed
    concurrently is either refused or cancelled here.
    """
    with transaction.atomic():
        customer = _customer_locked(customer_id)
        if customer is None:
            try:
                with transaction.atomic():
                    customer = Customer.objects.create(customer_id=customer_id, is_active=False)
            except IntegrityError:
                customer = Customer.objects.select_for_update().get(pk=customer_id)
        if customer.is_active:
            customer.is_active = False
            customer.save(update_fields=["is_active", "updated_at"])
        open_ids = list(
            Order.objects.filter(customer_id=customer_id, status__in=CANCELLABLE)
            .order_by("id")
            .values_list("id", flat=True)
        )
        return [
            order_cancel(order_id=order_id, reason=CancelReason.CUSTOMER_DEACTIVATED)
            for order_id in open_ids
        ]


def _customer_locked(customer_id: int) -> Customer | None:
    return Customer.objects.select_for_update().filter(pk=customer_id).first()


# --- orders ------------------------------------------------------------------------------


def order_place(*, customer_id: int, lines: Sequence[OrderLineIn]) -> Order:
    """Place an order at today's catalogue prices and publish OrderPlaced.

    Checks, in this order: the lines themselves (1 to 100 lines, quantity 1 to 1000,
    no SKU twice), the customer (raises CustomerNotReplicated when orders has no replica
    yet: retry later; CustomerInactive when deactivated), then the catalogue (every SKU
    an active product, one currency). Any failure raises and writes nothing; OrderInvalid
    carries per-field messages keyed like the request. Prices are the products' current
    prices; ``line_total = unit_price * quantity`` and ``total`` their sum, exact Decimals.
    The returned order carries its lines: ``order.lines.all()`` costs no query. The
    customer's confirmation is enqueued as a task (orders.tasks) in the same transaction.
    """
    _check_lines(lines)
    with transaction.atomic():
        # Locking the replica serialises this with customer_deactivate().
        is_active, products = _customer_and_products_locked(
            customer_id, [line.sku for line in lines]
        )
        if is_active is None:
            raise CustomerNotReplicated(customer_id)
        if not is_active:
            raise CustomerInactive(customer_id)
        _check_catalogue(lines, products)

        # The lines and the total are computed first, so the order is written once.
        order_lines = []
        for line in lines:
            product = products[line.sku]
            unit_price = product.price.quantize(CENT)
            order_lines.append(
                OrderLine(
                    sku=product.sku,
                    product_name=product.name,
                    quantity=line.quantity,
                    unit_price=unit_price,
                    line_total=(unit_price * line.quantity).quantize(CENT),
                )
            )
        order = Order(
            customer_id=customer_id,
            status=OrderStatus.PLACED,
            total=sum((ol.line_total for ol in order_lines), Decimal("0.00")),
            currency=products[lines[0].sku].currency,
        )
        order_insert_with_lines(order, order_lines)
        _attach_lines(order, order_lines)
        # The event and the confirmation task (sent only for an order that commits), written
        # to the outbox in one statement.
        with write_together():
            publish(
                OrderPlaced(
                    order_id=order.pk,
                    customer_id=customer_id,
                    total=order.total,
                    currency=order.currency,
                    lines=[
                        OrderLinePayload(sku=ol.sku, quantity=ol.quantity, unit_price=ol.unit_price)
                        for ol in order_lines
                    ],
                )
            )
            send_order_confirmation.enqueue(order_id=order.pk)
    return order


def _attach_lines(order: Order, order_lines: list[OrderLine]) -> None:
    """Make ``order.lines.all()`` answer the lines just inserted, without a query (as
    ``prefetch_related("lines")`` would have), so the response is built from them."""
    lines_queryset = order.lines.all()
    lines_queryset._result_cache = order_lines
    # Django's own prefetch cache (what prefetch_one_level fills); the stubs do not declare it.
    lines_queryset._prefetch_done = True  # type: ignore[attr-defined]
    order._prefetched_objects_cache = {"lines": lines_queryset}  # type: ignore[attr-defined]


def _check_lines(lines: Sequence[OrderLineIn]) -> None:
    if not lines:
        raise OrderInvalid({"lines": [MSG_NO_LINES]})
    if len(lines) > MAX_LINES_PER_ORDER:
        raise OrderInvalid({"lines": [MSG_TOO_MANY_LINES]})
    errors: dict[str, dict[str, list[str]]] = {}
    seen: set[str] = set()
    for index, line in enumerate(lines):
        line_errors: dict[str, list[str]] = {}
        if not isinstance(line.sku, str) or not line.sku:
            line_errors["sku"] = [MSG_SKU_REQUIRED]
        elif line.sku in seen:
            line_errors["sku"] = [MSG_DUPLICATE_SKU.format(sku=line.sku)]
        else:
            seen.add(line.sku)
        quantity = line.quantity
        if (
            not isinstance(quantity, int)
            or isinstance(quantity, bool)
            or not MIN_QUANTITY <= quantity <= MAX_QUANTITY
        ):
            line_errors["quantity"] = [MSG_QUANTITY]
        if line_errors:
            errors[str(index)] = line_errors
    if errors:
        raise OrderInvalid({"lines": errors})


class _CatalogueEntry(NamedTuple):
    """What an order copies from a product: its SKU, name, price and currency."""

    sku: str
    name: str
    price: Decimal
    currency: str


def _customer_and_products_locked(
    customer_id: int, skus: list[str]
) -> tuple[bool | None, dict[str, _CatalogueEntry]]:
    """Whether the customer's replica is active (None when orders has none yet) and the
    active products among ``skus`` by SKU, in one statement (one round trip, not two).

    The replica's row is locked ``FOR UPDATE`` as ``_customer_locked`` locks it (on MariaDB
    shared, products too), so this serialises with customer_deactivate(); the products are
    read, not locked. (SQLite locks the whole database for the transaction.) A LEFT JOIN
    from the replica, so a customer with none of the products still comes back (one row
    of NULL product columns); no row at all means no replica.
    """
    lock = " FOR UPDATE OF c" if connection.features.has_select_for_update_of else ""
    if connection.vendor == "mysql":
        # MariaDB has no FOR UPDATE OF, and FOR UPDATE would lock the products as well,
        # serialising every order of a product. A shared lock on both rows is enough: it
        # conflicts with customer_deactivate()'s FOR UPDATE (and with a product's update),
        # not with other orders, and this transaction never writes these rows after it.
        lock = " LOCK IN SHARE MODE"
    sql = (
        "SELECT c.is_active, p.sku, p.name, p.price, p.currency "
        f"FROM {Customer._meta.db_table} c LEFT JOIN {Product._meta.db_table} p "
        f"ON p.active AND p.sku IN ({', '.join(['%s'] * len(skus))}) "
        f"WHERE c.customer_id = %s{lock}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*skus, customer_id])
        rows = cursor.fetchall()
    if not rows:
        return None, {}
    to_decimal = Product._meta.get_field("price").to_python  # SQLite gives a float
    products = {
        sku: _CatalogueEntry(sku, name, to_decimal(price), currency)
        for _, sku, name, price, currency in rows
        if sku is not None
    }
    return bool(rows[0][0]), products


def _check_catalogue(lines: Sequence[OrderLineIn], products: dict[str, _CatalogueEntry]) -> None:
    """Raise OrderInvalid when a line's SKU is no active product or the products mix
    currencies."""
    unknown = {
        str(index): {"sku": [MSG_UNKNOWN_SKU.format(sku=line.sku)]}
        for index, line in enumerate(lines)
        if line.sku not in products
    }
    if unknown:
        raise OrderInvalid({"lines": unknown})
    currencies = sorted({p.currency for p in products.values()})
    if len(currencies) > 1:
        raise OrderInvalid(
            {"lines": [MSG_MIXED_CURRENCIES.format(currencies=", ".join(currencies))]}
        )


def order_cancel(*, order_id: int, reason: str, customer_id: int | None = None) -> Order:
    """Cancel a placed or paid order and publish OrderCancelled with ``reason``.

    ``reason`` is a CancelReason value (``customer_request``, ``customer_deactivated``,
    ``staff``); anything else raises ValueError. With ``customer_id`` only that customer's
    order is found. Raises OrderNotFound, or InvalidOrderTransition when the order is
    shipped or already cancelled. The order row is locked, so a concurrent pay/ship/cancel
    waits and then sees the new status.
    """
    if reason not in CancelReason.values:
        raise ValueError(f"Unknown cancel reason {reason!r}; use one of {CancelReason.values}.")
    with transaction.atomic():
        order = _order_locked(order_id, customer_id=customer_id)
        _require_status(order, allowed=CANCELLABLE, action="cancelled")
        order.status = OrderStatus.CANCELLED
        order.cancel_reason = reason
        order.save(update_fields=["status", "cancel_reason", "updated_at"])
        publish(
            OrderCancelled(
                order_id=order.pk,
                customer_id=order.customer_id,
                total=order.total,
                currency=order.currency,
                reason=reason,
            )
        )
    return order


def order_mark_paid(*, order_id: int) -> Order:
    """Move a placed order to paid and publish OrderStatusChanged.

    Raises OrderNotFound, or InvalidOrderTransition unless the order is placed. Locks it.
    """
    return _order_advance(order_id, from_status=OrderStatus.PLACED, to_status=OrderStatus.PAID)


def order_mark_shipped(*, order_id: int) -> Order:
    """Move a paid order to shipped and publish OrderStatusChanged.

    Raises OrderNotFound, or InvalidOrderTransition unless the order is paid. Locks it.
    """
    return _order_advance(order_id, from_status=OrderStatus.PAID, to_status=OrderStatus.SHIPPED)


def _order_advance(order_id: int, *, from_status: OrderStatus, to_status: OrderStatus) -> Order:
    with transaction.atomic():
        order = _order_locked(order_id)
        _require_status(order, allowed=[from_status], action=f"marked {to_status.value}")
        order.status = to_status
        order.save(update_fields=["status", "updated_at"])
        publish(
            OrderStatusChanged(
                order_id=order.pk,
                customer_id=order.customer_id,
                from_status=from_status.value,
                to_status=to_status.value,
            )
        )
    return order


def _order_locked(order_id: int, *, customer_id: int | None = None) -> Order:
    orders = Order.objects.select_for_update().filter(pk=order_id)
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    order = orders.first()
    if order is None:
        raise OrderNotFound(order_id)
    return order


def _require_status(order: Order, *, allowed: list[OrderStatus], action: str) -> None:
    if order.status not in allowed:
        raise InvalidOrderTransition(
            order_id=order.pk,
            status=order.status,
            action=action,
            allowed=[s.value for s in allowed],
        )

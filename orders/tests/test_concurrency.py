"""Concurrent writers on one order: the row lock lets exactly one transition win.

PostgreSQL and MariaDB (markers ``postgres`` and ``mariadb``; run with DATABASE_URL=postgres://...
or mysql://...): the SQLite
test database is a shared-cache in-memory one, where concurrent writers fail with "table
is locked" instead of queueing, so there the tests are skipped, with the reason shown.
"""

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from eventbus.models import OutboxMessage
from orders.exceptions import InvalidOrderTransition
from orders.models import Customer, Order, Product
from orders.services import OrderLineIn, order_cancel, order_mark_paid, order_place
from orders.tests.helpers import CUSTOMER_ID

pytestmark = [pytest.mark.postgres, pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]

WORKERS = 4


def race(action: Callable[[], object]) -> list[str]:
    """Run ``action`` in WORKERS threads at once; each reports "ok" or "refused"."""
    barrier = threading.Barrier(WORKERS)
    results: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            action()
            outcome = "ok"
        except InvalidOrderTransition:
            outcome = "refused"
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(results)


@pytest.fixture(autouse=True)
def _on_a_server(db: None) -> None:
    if connection.vendor not in ("postgresql", "mysql"):
        pytest.skip(
            "needs row locks: run with DATABASE_URL=postgres://... (make test-postgres) or "
            "mysql://... (make test-mariadb)"
        )


@pytest.fixture
def order(customer: Customer, products: dict[str, Product]) -> Order:
    return order_place(customer_id=CUSTOMER_ID, lines=[OrderLineIn(sku="PEN-1", quantity=1)])


def test_concurrent_cancels_cancel_once_and_publish_once(order: Order):
    # given a placed order
    # when several staff members cancel it at the same moment
    results = race(lambda: order_cancel(order_id=order.pk, reason="staff"))

    # then one wins, the others are refused, and one OrderCancelled is in the outbox
    assert results == ["ok"] + ["refused"] * (WORKERS - 1)
    assert OutboxMessage.objects.filter(name="orders.order_cancelled").count() == 1


def test_concurrent_payments_pay_once_and_publish_once(order: Order):
    # given a placed order
    # when it is marked paid several times at once
    results = race(lambda: order_mark_paid(order_id=order.pk))

    # then one wins and one OrderStatusChanged is in the outbox
    assert results == ["ok"] + ["refused"] * (WORKERS - 1)
    assert OutboxMessage.objects.filter(name="orders.order_status_changed").count() == 1
    order.refresh_from_db()
    assert order.status == "paid"

"""`load_demo_data` in each delivery mode: alice and her order, whoever delivers the events."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from accounts.models import User
from config.management.commands import load_demo_data
from eventbus.models import OutboxMessage
from orders.models import Customer, Order

pytestmark = pytest.mark.django_db(transaction=True)


def load() -> str:
    out = StringIO()
    call_command("load_demo_data", stdout=out)
    return out.getvalue()


def alices_orders() -> list[list[tuple[str, int]]]:
    alice = User.objects.get(username="alice")
    return [
        sorted((line.sku, line.quantity) for line in order.lines.all())
        for order in Order.objects.filter(customer_id=alice.pk)
    ]


@pytest.mark.parametrize("delivery", ["inline", "worker"])
def test_demo_data_loads_with_alices_order_in_each_delivery_mode(delivery):
    with override_settings(EVENTBUS={"DELIVERY": delivery}):
        output = load()

    assert "Demo data is loaded." in output
    assert "left out" not in output
    assert alices_orders() == [[("BOOK-001", 1), ("MUG-001", 2)]]
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()


def test_demo_data_in_worker_mode_is_idempotent():
    with override_settings(EVENTBUS={"DELIVERY": "worker"}):
        load()
        load()

    assert User.objects.filter(username__in=["admin", "alice"]).count() == 2
    assert len(alices_orders()) == 1


def test_without_the_replica_the_order_is_left_for_a_second_run(monkeypatch):
    monkeypatch.setattr(load_demo_data, "deliver_due", lambda **kwargs: None)  # nobody delivers

    with override_settings(EVENTBUS={"DELIVERY": "worker"}):
        first = load()
        assert "alice's demo order is left out: orders has no replica of her account" in first
        assert alices_orders() == []
        assert not Customer.objects.exists()

        monkeypatch.undo()  # the worker has caught up
        second = load()

    assert "left out" not in second
    assert alices_orders() == [[("BOOK-001", 1), ("MUG-001", 2)]]

"""accounts' and orders' handlers under the redelivery drill: each event crashed once after the
handler's effects and then delivered twice, and the journey's results are still exact.

The whole suite also runs under the drill in CI (`make test-redeliver`); this test shows the
drill does reach the real handlers, by counting their calls to the services they wrap.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import accounts.handlers
import orders.services
from accounts.selectors import user_order_stats
from eventbus.models import Delivery, OutboxMessage
from orders.models import Customer, Order
from orders.services import product_upsert

pytestmark = pytest.mark.django_db(transaction=True)


def spy(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[dict[str, Any]]:
    """Record every call of ``module.name`` (its keyword arguments) and let it run."""
    calls: list[dict[str, Any]] = []
    real: Callable[..., Any] = getattr(module, name)

    def recorded(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(module, name, recorded)
    return calls


@pytest.mark.eventbus_redeliver
def test_the_journey_holds_when_every_event_is_crashed_once_and_delivered_twice(
    signed_up, monkeypatch
):
    product_upsert(sku="MUG-001", name="Coffee mug", price=Decimal("12.50"))
    product_upsert(sku="TEE-001", name="T-shirt", price=Decimal("19.90"))
    placed = spy(monkeypatch, accounts.handlers, "order_record_apply_placed")
    replicated = spy(monkeypatch, orders.services, "customer_replica_upsert")
    deactivated = spy(monkeypatch, orders.services, "customer_deactivate")

    bob = signed_up("bob")
    for sku in ("MUG-001", "TEE-001"):
        response = bob.post("/api/orders/", {"lines": [{"sku": sku, "quantity": 1}]}, format="json")
        assert response.status_code == 201, response.content
    me = bob.get("/api/accounts/me/").json()
    assert (me["orders_count"], me["total_spent"]) == (2, {"EUR": "32.40"})

    assert bob.post("/api/accounts/me/deactivate/").status_code == 200

    # Each handler ran three times per event: a crashed run, the delivery, the redelivery.
    assert len(replicated) == 3
    assert len(placed) == 2 * 3
    assert len(deactivated) == 3
    # And the effects are those of one delivery each.
    assert Customer.objects.get(customer_id=bob.user_id).is_active is False
    assert sorted(Order.objects.values_list("status", flat=True)) == ["cancelled", "cancelled"]
    assert OutboxMessage.objects.filter(name="orders.order_cancelled").count() == 2
    stats = user_order_stats(user_id=bob.user_id)
    assert (stats.orders_count, stats.total_spent) == (0, {})
    events = Delivery.objects.exclude(message__name="eventbus.task_enqueued")
    assert set(events.values_list("status", "attempts")) == {("succeeded", 1)}
    # (the orders' confirmation tasks wait for a worker, which this test does not run)
    tasks = Delivery.objects.filter(message__name="eventbus.task_enqueued")
    assert list(tasks.values_list("status", "attempts")) == [("waiting", 0)] * 2
    assert events.count() == 1 + 2 + 1 + 2  # registered, placed, deactivated, cancelled

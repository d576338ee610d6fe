"""orders' confirmation task: enqueued with the order, sent by `eventbus worker`."""

import logging

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus

from eventbus.models import Delivery, OutboxMessage
from orders.exceptions import OrderInvalid, OrderNotFound
from orders.models import Customer, Product
from orders.services import OrderLineIn, order_place
from orders.tasks import send_order_confirmation
from orders.tests.helpers import CUSTOMER_ID

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Out of the redelivery drill: the confirmation's log line is counted exactly (a task
    # is run at least once; the drill runs it three times).
    pytest.mark.eventbus_redeliver(False),
]

TASK = "eventbus.task_enqueued"


def test_placing_an_order_enqueues_its_confirmation_which_the_worker_sends(
    customer: Customer, products: dict[str, Product], caplog: pytest.LogCaptureFixture
) -> None:
    order = order_place(customer_id=CUSTOMER_ID, lines=[OrderLineIn(sku="MUG-1", quantity=2)])

    message = OutboxMessage.objects.get(name=TASK)
    assert message.payload["task"] == "orders.tasks.send_order_confirmation"
    assert message.payload["kwargs"] == {"order_id": order.pk}
    assert message.payload["queue_name"] == "emails"
    result = send_order_confirmation.get_result(str(message.pk))
    assert result.status == TaskResultStatus.READY  # not sent in the request

    with caplog.at_level(logging.INFO, logger="orders.tasks"):
        call_command("eventbus", "worker", "--once", "--queue", "emails")

    sent = f"to ada@example.com: order {order.pk} placed, 14.70 EUR"
    assert [r.getMessage() for r in caplog.records if r.name == "orders.tasks"] == [
        f"order confirmation: {sent}"
    ]
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == sent
    assert Delivery.objects.get(message=message).status == "succeeded"


def test_an_order_that_is_refused_enqueues_no_confirmation(
    customer: Customer, products: dict[str, Product]
) -> None:
    with pytest.raises(OrderInvalid):
        order_place(customer_id=CUSTOMER_ID, lines=[OrderLineIn(sku="NOPE-1", quantity=1)])

    assert not OutboxMessage.objects.filter(name=TASK).exists()


def test_the_confirmation_of_an_order_that_does_not_exist_raises(db: None) -> None:
    with pytest.raises(OrderNotFound):
        send_order_confirmation.call(order_id=999_999)

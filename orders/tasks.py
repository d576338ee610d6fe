"""Background work of orders, as Django tasks: enqueued in the placing transaction, run by
`manage.py eventbus worker` (settings.TASKS: eventbus.tasks.OutboxTaskBackend)."""

import logging

from django.tasks import task

from orders.selectors import order_confirmation_of

logger = logging.getLogger("orders.tasks")


@task(queue_name="emails")
def send_order_confirmation(order_id: int) -> str:
    """Send the confirmation of a placed order to its customer and return what was sent.

    "Sent" is a log line on ``orders.tasks`` for now: a mailer would go here. Runs after
    the order committed (a rolled-back order enqueues nothing); a failure is retried by
    the worker and, after the last attempt, is a dead letter. Raises OrderNotFound for an
    order that does not exist.
    """
    confirmation = order_confirmation_of(order_id=order_id)
    logger.info("order confirmation: %s", confirmation)
    return confirmation

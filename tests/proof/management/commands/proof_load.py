"""proof_load: register users and place orders through the real services, rolling some back.

Writes a JSON report of what committed and what was rolled back (with the ids of the events
published in the rolled-back transactions) for the crash proof to check against.
"""

import json
import random
import time
import uuid
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.services import user_register
from eventbus.envelope import Envelope
from eventbus.events import Event
from eventbus.publishing import add_publish_observer
from orders.exceptions import CustomerNotReplicated
from orders.services import OrderLineIn, order_cancel, order_place, product_upsert

PRODUCTS = {
    "PROOF-MUG": Decimal("12.50"),
    "PROOF-TEE": Decimal("19.90"),
    "PROOF-PEN": Decimal("1.15"),
}


class _RollBack(Exception):
    """Raised inside the transaction to roll it back on purpose."""


class Command(BaseCommand):
    help = "Register --users users, then place --orders orders; roll back every --rollback-every."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=5)
        parser.add_argument("--orders", type=int, required=True)
        parser.add_argument("--rollback-every", type=int, default=4)
        parser.add_argument("--cancel-every", type=int, default=5)
        parser.add_argument("--pause-ms", type=float, default=0.0)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--report", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        rng = random.Random(options["seed"])
        published: list[uuid.UUID] = []

        def observe(envelope: Envelope, event: Event) -> None:
            published.append(envelope.event_id)

        add_publish_observer(observe)
        for sku, price in PRODUCTS.items():
            product_upsert(sku=sku, name=sku.title(), price=price)
        user_ids = []
        for i in range(options["users"]):
            user = user_register(
                username=f"proof{i}", email=f"proof{i}@example.com", password=f"Proof-pass-{i}-2026"
            )
            user_ids.append(user.pk)

        committed: list[dict[str, Any]] = []
        rolled_back_events: list[str] = []
        replica_waits = 0
        for i in range(options["orders"]):
            customer_id = user_ids[i % len(user_ids)]
            skus = rng.sample(sorted(PRODUCTS), rng.randint(1, len(PRODUCTS)))
            lines = [OrderLineIn(sku=sku, quantity=rng.randint(1, 5)) for sku in skus]
            roll_back = (i + 1) % options["rollback_every"] == 0
            while True:
                published.clear()
                try:
                    with transaction.atomic():
                        order = order_place(customer_id=customer_id, lines=lines)
                        if roll_back:
                            raise _RollBack
                except CustomerNotReplicated:  # the worker has not delivered the registration
                    replica_waits += 1
                    time.sleep(0.05)
                    continue
                except _RollBack:
                    rolled_back_events.extend(str(e) for e in published)
                    break
                cancel = (len(committed) + 1) % options["cancel_every"] == 0
                if cancel:  # a second transaction of its own, committed
                    order_cancel(order_id=order.pk, reason="customer_request")
                committed.append(
                    {
                        "order_id": order.pk,
                        "customer_id": customer_id,
                        "total": str(order.total),
                        "cancelled": cancel,
                        "events": [str(e) for e in published],
                    }
                )
                break
            if options["pause_ms"]:
                time.sleep(options["pause_ms"] / 1000)

        report = {
            "user_ids": user_ids,
            "committed": committed,
            "rolled_back_events": rolled_back_events,
            "replica_waits": replica_waits,
        }
        with open(options["report"], "w") as out:
            json.dump(report, out)
        self.stdout.write(
            f"Committed {len(committed)} orders, rolled back {len(rolled_back_events)} events."
        )

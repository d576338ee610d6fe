"""`manage.py load_demo_data`: a staff user, a small catalogue and a customer with an order.

Goes through each module's services, so the customer reaches orders the way every user
does: accounts publishes user_registered and orders builds its replica from it. With
``EVENTBUS['DELIVERY'] = "worker"`` nothing delivers in this process, so the command runs
the due deliveries once itself (what a worker would do) before placing the order. Should
the replica still be missing (its event is on its way through a broker), the order is
left out and the output says so; running the command again places it. Safe to run again:
what exists already is left as it is. Its passwords are public, so it refuses
to run unless the settings allow demo data (``DEMO_DATA_ALLOWED``: dev and test only).
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import services as accounts_services
from accounts.models import User
from eventbus.conf import bus_settings
from eventbus.delivery.due import deliver_due
from orders import selectors as orders_selectors
from orders import services as orders_services
from orders.catalogue import catalogue_load_demo

STAFF = ("admin", "admin@example.com", "demo-admin-pass-2026")
CUSTOMER = ("alice", "alice@example.com", "demo-alice-pass-2026")


class Command(BaseCommand):
    help = "Load demo data (staff user, products, a customer with an order); idempotent."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet", action="store_true", help="print nothing on success")

    def handle(self, *args: Any, quiet: bool = False, **options: Any) -> None:
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "load_demo_data creates users with published passwords, so it refuses to run "
                "under these settings (DEMO_DATA_ALLOWED is off, as in production). "
                "Use config.settings.dev for a demo."
            )
        catalogue_load_demo()

        username, email, password = STAFF
        if not User.objects.filter(username__iexact=username).exists():
            staff = accounts_services.user_register(
                username=username, email=email, password=password
            )
            accounts_services.user_grant_staff(user=staff)

        username, email, password = CUSTOMER
        alice = User.objects.filter(username__iexact=username).first()
        if alice is None:
            alice = accounts_services.user_register(
                username=username, email=email, password=password
            )
        self._deliver_in_worker_mode()
        has_order = orders_selectors.order_list_for_customer(customer_id=alice.pk).exists()
        if not has_order and orders_selectors.customer_get(customer_id=alice.pk) is None:
            self.stdout.write(
                f"{username}'s demo order is left out: orders has no replica of her account "
                "yet (her user_registered event has not been delivered). Run load_demo_data "
                "again once the worker or consumer has delivered it."
            )
        elif not has_order:
            orders_services.order_place(
                customer_id=alice.pk,
                lines=[
                    orders_services.OrderLineIn(sku="MUG-001", quantity=2),
                    orders_services.OrderLineIn(sku="BOOK-001", quantity=1),
                ],
            )
            self._deliver_in_worker_mode()
        if not quiet:
            self.stdout.write(self._banner())

    def _deliver_in_worker_mode(self) -> None:
        """Worker mode delivers nothing after commit: deliver what is due, as a worker would,
        so orders has alice's replica and accounts her order record before a worker runs."""
        if bus_settings.DELIVERY == "worker":
            deliver_due(grace=None)

    def _banner(self) -> str:
        base = "http://127.0.0.1:8000"
        return "\n".join(
            [
                "",
                "Demo data is loaded. Open:",
                f"  {base}/api/            browsable API (log in at {base}/api/auth/login/)",
                f"  {base}/api/docs/       Swagger UI        {base}/api/schema/  OpenAPI",
                f"  {base}/admin/          admin: users, products, orders, outbox, deliveries",
                "Demo credentials:",
                f"  staff     {STAFF[0]} / {STAFF[2]}",
                f"  customer  {CUSTOMER[0]} / {CUSTOMER[2]}",
                "",
            ]
        )

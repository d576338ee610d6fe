"""`manage.py load_demo_data`: a staff user, a small catalogue and a customer with an order.

Goes through each module's services, so the customer reaches orders the way every user
does: accounts publishes user_registered and orders builds its replica from it. Safe to
run again: what exists already is left as it is. Its passwords are public, so it refuses
to run unless the settings allow demo data (``DEMO_DATA_ALLOWED``: dev and test only).
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import services as accounts_services
from accounts.models import User
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
        if not User.objects.filter(username__iexact=username).exists():
            alice = accounts_services.user_register(
                username=username, email=email, password=password
            )
            # Inline delivery has already built alice's replica in orders (after the commit).
            orders_services.order_place(
                customer_id=alice.pk,
                lines=[
                    orders_services.OrderLineIn(sku="MUG-001", quantity=2),
                    orders_services.OrderLineIn(sku="BOOK-001", quantity=1),
                ],
            )
        if not quiet:
            self.stdout.write(self._banner())

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

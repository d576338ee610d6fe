"""`manage.py load_catalogue`: the demo products, for the monolith or the orders service."""

from typing import Any

from django.core.management.base import BaseCommand

from orders.catalogue import catalogue_load_demo


class Command(BaseCommand):
    help = "Create or update the demo products (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = catalogue_load_demo()
        self.stdout.write(f"{count} demo products are in the catalogue.")

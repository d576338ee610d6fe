"""`manage.py eventbus <action>`: operate the bus (catalog, retry)."""

import json
from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from eventbus import catalog, operations
from eventbus.context import correlation_scope
from eventbus.models import Delivery


class Command(BaseCommand):
    help = "Operate the event bus: `catalog` lists events and subscribers, `retry` delivers what is due."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        cat = actions.add_parser(
            "catalog", help="every event with its version, producer and subscribers"
        )
        cat.add_argument("--format", choices=["table", "json"], default="table")
        retry = actions.add_parser(
            "retry", help="deliver failed deliveries that are due and stranded outbox rows"
        )
        retry.add_argument(
            "--grace",
            type=float,
            default=operations.UNDISPATCHED_GRACE.total_seconds(),
            metavar="SECONDS",
            help="treat outbox rows undispatched for this long as stranded (default %(default)s)",
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        with correlation_scope():
            getattr(self, f"handle_{action}")(**options)

    def handle_catalog(self, *, format: str, **options: Any) -> None:
        entries = catalog.build()
        if format == "json":
            self.stdout.write(json.dumps([e.as_dict() for e in entries], indent=2))
            return
        self.stdout.write(catalog.render_table(entries))

    def handle_retry(self, *, grace: float, **options: Any) -> None:
        if grace < 0:
            raise CommandError("--grace must be zero or more seconds.")
        outcomes = operations.retry_due(grace=timedelta(seconds=grace))
        if not outcomes:
            self.stdout.write("Nothing is due.")
            return
        for outcome in outcomes:
            line = f"{outcome.status:<10} {outcome.handler_id}"
            if outcome.error:
                line += f"  ({outcome.error})"
            self.stdout.write(line)
        counts = {s: sum(1 for o in outcomes if o.status == s) for s in Delivery.Status.values}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        self.stdout.write(self.style.SUCCESS(f"Retried {len(outcomes)} deliveries: {summary}."))
        if counts.get(Delivery.Status.DEAD):
            raise CommandError(
                "Some deliveries are now dead letters; see the admin's Dead letters."
            )

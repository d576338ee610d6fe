"""`eventbus retry`: deliver what is due: failed and waiting deliveries, and stranded outbox rows."""

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from eventbus.delivery.due import UNDISPATCHED_GRACE, deliver_due
from eventbus.models import Delivery

help = "deliver failed and waiting deliveries that are due, and stranded outbox rows"


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--grace",
        type=float,
        default=UNDISPATCHED_GRACE.total_seconds(),
        metavar="SECONDS",
        help="treat outbox rows undispatched for this long as stranded (default %(default)s)",
    )


def run(command: BaseCommand, *, grace: float, **options: Any) -> None:
    if grace < 0:
        raise CommandError("--grace must be zero or more seconds.")
    outcomes = deliver_due(grace=timedelta(seconds=grace)).outcomes
    if not outcomes:
        command.stdout.write("Nothing is due.")
        return
    for outcome in outcomes:
        line = f"{outcome.status:<10} {outcome.handler_id}"
        if outcome.error:
            line += f"  ({outcome.error})"
        command.stdout.write(line)
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in Delivery.Status.values}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    command.stdout.write(command.style.SUCCESS(f"Retried {len(outcomes)} deliveries: {summary}."))
    if counts.get(Delivery.Status.DEAD):
        raise CommandError("Some deliveries are now dead letters; see the admin's Dead letters.")

"""`eventbus purge`: delete delivered outbox rows older than the retention period."""

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand

from eventbus.cli.arguments import duration
from eventbus.cli.output import age, progress
from eventbus.operations import purge as retention

help = "delete delivered outbox rows (and their deliveries) older than a duration"


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--older-than",
        type=duration,
        metavar="DURATION",
        help="dispatched longer ago than this: 30d, 12h, 90m (default EVENTBUS['RETENTION_DAYS'])",
    )
    parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")


def run(
    command: BaseCommand, *, older_than: timedelta | None, dry_run: bool, **options: Any
) -> None:
    older_than = older_than or retention.default_retention()
    with progress(total=None, desc="purging", unit=" messages") as advance:
        result = retention.purge(older_than=older_than, dry_run=dry_run, on_progress=advance)
    verb = "Would delete" if dry_run else "Deleted"
    command.stdout.write(
        f"{verb} {result.messages} outbox messages dispatched over {age(older_than)} ago, "
        f"with {result.deliveries} deliveries and {result.attempts} failed attempts."
    )

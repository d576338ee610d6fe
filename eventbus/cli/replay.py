"""`eventbus replay`: deliver stored events of one name again to one handler."""

from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from eventbus.cli.arguments import moment
from eventbus.cli.output import progress
from eventbus.models import Delivery
from eventbus.operations import replay as replaying

help = "deliver stored events of one name to one handler, oldest first (new or rebuilt reads)"


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--event", required=True, metavar="NAME", help="the event name")
    parser.add_argument("--handler", required=True, metavar="H", help="the handler id")
    parser.add_argument(
        "--since", type=moment, metavar="ISO", help="events at or after (date or datetime; UTC)"
    )
    parser.add_argument(
        "--until", type=moment, metavar="ISO", help="events before (date or datetime; UTC)"
    )
    parser.add_argument(
        "--again",
        action="store_true",
        help="run even events the handler already has (rebuild); default: only the missing",
    )
    parser.add_argument("--dry-run", action="store_true", help="count, deliver nothing")


def run(
    command: BaseCommand,
    *,
    event: str,
    handler: str,
    since: datetime | None,
    until: datetime | None,
    again: bool,
    dry_run: bool,
    **options: Any,
) -> None:
    if since is not None and until is not None and since >= until:
        raise CommandError("--since must be before --until.")
    try:
        replaying.replay_subscription(event, handler)
    except replaying.ReplayError as exc:
        raise CommandError(str(exc)) from exc
    total = replaying.replay_window(event, since=since, until=until).count()
    with progress(total=total, desc="replaying", unit="event") as advance:
        result = replaying.replay(
            event=event,
            handler=handler,
            since=since,
            until=until,
            again=again,
            dry_run=dry_run,
            on_progress=advance,
        )
    summary = ", ".join(f"{n} {status}" for status, n in sorted(result.counts.items()))
    verb = "Would replay" if dry_run else "Replayed"
    command.stdout.write(
        f"{verb} {result.total} {event} events to {handler}" + (f": {summary}." if summary else ".")
    )
    if result.counts.get(Delivery.Status.DEAD):
        raise CommandError(
            f"{result.counts[Delivery.Status.DEAD]} ended as dead letters; see "
            f"`eventbus dead-letters list --handler {handler}`."
        )

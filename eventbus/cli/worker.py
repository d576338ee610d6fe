"""`eventbus worker`: deliver from the outbox until SIGTERM/SIGINT (or, with --once, drained)."""

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from eventbus.delivery.due import UNDISPATCHED_GRACE
from eventbus.delivery.worker import Worker, WorkerAlreadyRunning
from eventbus.tasks import known_queues

help = "deliver outbox rows and due retries in batches; --once drains and exits"


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="drain what is due, then exit")
    parser.add_argument("--batch-size", type=int, default=100, metavar="N")
    parser.add_argument(
        "--poll",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="look for work at least this often (PostgreSQL also wakes on NOTIFY)",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=UNDISPATCHED_GRACE.total_seconds(),
        metavar="SECONDS",
        help="inline mode: take over rows undispatched for this long (default %(default)s)",
    )
    parser.add_argument("--database", default="default")
    parser.add_argument(
        "--queue",
        action="append",
        dest="queues",
        metavar="NAME",
        help="run only the Django tasks of this queue (repeatable; default: every queue); "
        "events' deliveries are run whatever the queues",
    )


def run(
    command: BaseCommand,
    *,
    once: bool,
    batch_size: int,
    poll: float,
    grace: float,
    database: str,
    queues: list[str] | None = None,
    **options: Any,
) -> None:
    if batch_size < 1:
        raise CommandError("--batch-size must be at least 1.")
    if poll <= 0 or grace < 0:
        raise CommandError("--poll must be above 0 and --grace at least 0 seconds.")
    known = known_queues()
    if queues is not None and known is not None:
        unknown = sorted(set(queues) - known)
        if unknown:
            raise CommandError(
                f"--queue {', '.join(unknown)}: no OutboxTaskBackend in settings.TASKS has "
                f"such a queue; its queues are {sorted(known)}."
            )
    worker = Worker(
        using=database,
        batch_size=batch_size,
        poll=poll,
        once=once,
        grace=timedelta(seconds=grace),
        queues=queues,
    )
    try:
        totals = worker.run()
    except WorkerAlreadyRunning as exc:
        raise CommandError(str(exc)) from exc
    command.stdout.write(
        f"Delivered {totals.messages} messages ({totals.deliveries} deliveries) and "
        f"{totals.retries} retries in {totals.batches} batches."
    )

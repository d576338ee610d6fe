"""`eventbus stats`: the outbox backlog, deliveries per handler and status, the workers and
the consumers."""

import json
from argparse import ArgumentParser
from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand

from eventbus.cli.output import age, table, when
from eventbus.operations.stats import BusStats, stats

help = "the undispatched backlog, deliveries per handler by status, the workers and consumers"


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--format", choices=["table", "json"], default="table")


def run(command: BaseCommand, *, format: str, **options: Any) -> None:
    snapshot = stats()
    if format == "json":
        command.stdout.write(json.dumps(as_json(snapshot), indent=2))
        return
    command.stdout.write(
        f"Outbox backlog: {snapshot.backlog} undispatched"
        + (
            f", oldest {age(snapshot.since(snapshot.oldest_pending_at))} old"
            if snapshot.backlog
            else ""
        )
    )
    command.stdout.write("")
    command.stdout.write(
        table(
            ("HANDLER", "SUCCEEDED", "FAILED", "WAITING", "DEAD", "DISCARDED", "OLDEST FAILING"),
            [
                (
                    h.handler + ("" if h.subscribed else " (not subscribed)"),
                    str(h.succeeded),
                    str(h.failed),
                    str(h.waiting),
                    str(h.dead),
                    str(h.discarded),
                    age(snapshot.since(h.oldest_unsettled_at)),
                )
                for h in snapshot.handlers
            ],
        )
        if snapshot.handlers
        else "No handlers."
    )
    command.stdout.write("")
    command.stdout.write(
        table(
            ("WORKER", "HOST", "PID", "STARTED", "LAST HEARTBEAT"),
            [
                (
                    w.name,
                    w.hostname,
                    str(w.pid),
                    when(w.started_at),
                    f"{age(snapshot.since(w.heartbeat_at))} ago",
                )
                for w in snapshot.workers
            ],
        )
        if snapshot.workers
        else "No workers registered."
    )
    command.stdout.write("")
    command.stdout.write(
        table(
            ("CONSUMER", "HOST", "PID", "QUEUES", "STARTED", "LAST HEARTBEAT"),
            [
                (
                    c.name,
                    c.hostname,
                    str(c.pid),
                    ", ".join(c.queues),
                    when(c.started_at),
                    f"{age(snapshot.since(c.heartbeat_at))} ago",
                )
                for c in snapshot.consumers
            ],
        )
        if snapshot.consumers
        else "No consumers registered."
    )


def as_json(snapshot: BusStats) -> dict[str, Any]:
    """The snapshot with datetimes in ISO 8601 and ages in seconds."""

    def seconds(moment: datetime | None) -> float | None:
        since = snapshot.since(moment)
        return None if since is None else round(since.total_seconds(), 3)

    def iso(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    return {
        "at": snapshot.at.isoformat(),
        "backlog": snapshot.backlog,
        "oldest_pending_at": iso(snapshot.oldest_pending_at),
        "oldest_pending_seconds": seconds(snapshot.oldest_pending_at),
        "handlers": [
            {k: iso(v) for k, v in asdict(h).items()}
            | {"oldest_unsettled_seconds": seconds(h.oldest_unsettled_at)}
            for h in snapshot.handlers
        ],
        "workers": [
            {k: iso(v) for k, v in asdict(w).items()}
            | {"heartbeat_seconds": seconds(w.heartbeat_at)}
            for w in snapshot.workers
        ],
        "consumers": [
            {k: iso(v) for k, v in asdict(c).items()}
            | {"heartbeat_seconds": seconds(c.heartbeat_at)}
            for c in snapshot.consumers
        ],
    }

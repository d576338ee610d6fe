"""`eventbus dead-letters list|retry|discard`: see dead letters, run them again, or drop them."""

import json
from argparse import ArgumentParser
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from eventbus.cli.arguments import positive_int
from eventbus.cli.output import one_line, progress, table, when
from eventbus.models import Delivery
from eventbus.operations import dead_letters as operations

help = "list dead letters, retry them now, or discard them (kept on record, never retried)"


def add_arguments(parser: ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    listing = verbs.add_parser("list", help="a table of dead letters, oldest first")
    _add_filters(listing)
    listing.add_argument("--limit", type=positive_int, default=50, metavar="N")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    for verb, what in (("retry", "run them again now"), ("discard", "mark them discarded")):
        sub = verbs.add_parser(verb, help=f"{what}: the given ids, or --all (with filters)")
        sub.add_argument("ids", nargs="*", type=int, metavar="ID", help="delivery ids")
        sub.add_argument(
            "--all", action="store_true", help="every dead letter matching the filters"
        )
        _add_filters(sub)


def _add_filters(parser: ArgumentParser) -> None:
    parser.add_argument("--handler", metavar="H", help="a handler id, or a prefix of one")
    parser.add_argument("--event", metavar="NAME", help="an event name")


def run(command: BaseCommand, *, verb: str, **options: Any) -> None:
    actions: dict[str, Callable[..., None]] = {"list": _list, "retry": _retry, "discard": _discard}
    actions[verb](command, **options)


def _list(
    command: BaseCommand,
    *,
    handler: str | None,
    event: str | None,
    limit: int,
    format: str,
    **options: Any,
) -> None:
    matching = operations.dead_letters(handler=handler, event=event)
    rows = list(matching[:limit])
    if format == "json":
        command.stdout.write(json.dumps([_as_dict(d) for d in rows], indent=2))
        return
    if not rows:
        command.stdout.write("No dead letters.")
        return
    command.stdout.write(
        table(
            ("ID", "EVENT", "EVENT ID", "HANDLER", "ATTEMPTS", "LAST ERROR", "UPDATED"),
            [
                (
                    str(d.pk),
                    d.message.name,
                    str(d.message_id),
                    d.handler,
                    str(d.attempts),
                    one_line(d.last_error, 60),
                    when(d.updated_at),
                )
                for d in rows
            ],
        )
    )
    total = matching.count() if len(rows) == limit else len(rows)
    if total > len(rows):
        command.stdout.write(f"Showing {len(rows)} of {total} dead letters (--limit {limit}).")


def _as_dict(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "event": delivery.message.name,
        "event_id": str(delivery.message_id),
        "handler": delivery.handler,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "updated_at": delivery.updated_at.isoformat(),
    }


_DONE = {"retry": "retried", "discard": "discarded"}


def _chosen(
    verb: str, ids: list[int], all: bool, handler: str | None, event: str | None
) -> list[int]:
    """The dead letters a retry or discard acts on; raises CommandError, changing nothing,
    when the choice is empty, ambiguous, or names ids that are no dead letters."""
    if ids and all:
        raise CommandError(f"Give dead letter ids or --all, not both: nothing to {verb}.")
    if ids:
        if handler or event:
            raise CommandError("--handler and --event narrow --all; leave them out with ids.")
        unknown = operations.not_dead_letters(ids)
        if unknown:
            listed = ", ".join(str(pk) for pk in unknown)
            raise CommandError(
                f"No dead letter with id {listed} (see `eventbus dead-letters list`); "
                f"nothing was {_DONE[verb]}."
            )
        return sorted(set(ids))
    if not all:
        raise CommandError(
            f"Give the ids of the dead letters to {verb}, or --all to {verb} every dead letter "
            "(narrowed by --handler and --event)."
        )
    return list(operations.dead_letters(handler=handler, event=event).values_list("pk", flat=True))


def _retry(
    command: BaseCommand,
    *,
    ids: list[int],
    all: bool,
    handler: str | None,
    event: str | None,
    **options: Any,
) -> None:
    chosen = _chosen("retry", ids, all, handler, event)
    if not chosen:
        command.stdout.write("No dead letters to retry.")
        return
    with progress(total=len(chosen), desc="retrying", unit="delivery") as advance:
        results = operations.retry_deliveries(chosen, on_progress=advance)
    for result in results:
        outcome = result.outcome
        line = f"{outcome.status:<10} {result.delivery_id:>6}  {outcome.handler_id}"
        command.stdout.write(line + (f"  ({one_line(outcome.error)})" if outcome.error else ""))
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome.status] = counts.get(result.outcome.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    command.stdout.write(f"Retried {len(results)} dead letters: {summary}.")
    dead = [r.delivery_id for r in results if r.outcome.status == Delivery.Status.DEAD]
    if dead:
        raise CommandError(
            f"{len(dead)} still dead: {', '.join(map(str, dead))}; "
            "see `eventbus dead-letters list` for their errors."
        )


def _discard(
    command: BaseCommand,
    *,
    ids: list[int],
    all: bool,
    handler: str | None,
    event: str | None,
    **options: Any,
) -> None:
    chosen = _chosen("discard", ids, all, handler, event)
    count = operations.discard_dead_letters(chosen) if chosen else 0
    command.stdout.write(f"Discarded {count} dead letters.")

"""`eventbus extraction-report MODULE`: what couples a module to the rest, and whether it can
be moved into a service of its own (exit status 1, with the list, when it cannot)."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from eventbus.cli.output import add_output_option
from eventbus.exceptions import ExtractionReportError
from eventbus.operations.extraction import render
from eventbus.operations.extraction.queries import load as load_queries
from eventbus.operations.extraction.report import build

help = "what couples MODULE to the rest (imports, relations, queries, events, URLs, settings)"


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("module", metavar="MODULE", help="the module to report, e.g. orders")
    parser.add_argument("--format", choices=["markdown", "json"], default="markdown")
    parser.add_argument(
        "--queries",
        type=Path,
        default=None,
        metavar="PATH",
        help="a test run's query record (pytest --eventbus-ownership-record=PATH)",
    )
    add_output_option(parser)


def run(
    command: BaseCommand,
    *,
    module: str,
    format: str,
    queries: Path | None,
    output: Path | None,
    **options: Any,
) -> None:
    """Print (or write) the report; raise CommandError, exit status 1, listing the blockers
    when there are any, or saying what is wrong with MODULE or the record (then nothing is
    printed or written)."""
    try:
        recorded = None if queries is None else load_queries(queries)
        report = build(module, recorded=recorded)
    except ExtractionReportError as exc:
        raise CommandError(str(exc)) from exc
    text = render.as_json(report) if format == "json" else render.as_markdown(report)
    if output is None:
        command.stdout.write(text, ending="" if text.endswith("\n") else "\n")
    else:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        command.stdout.write(f"Wrote the extraction report of {module} to {output}.")
    if not report.extractable:
        raise CommandError(
            f"{module} cannot be extracted; {len(report.blockers)} coupling(s) block it:\n"
            + "\n".join(f"  - {line}" for line in report.blockers)
        )

"""`eventbus catalog`: every event with its version, producer and subscribers, as a table,
JSON, a Mermaid diagram or an AsyncAPI 3.0 document."""

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from eventbus.cli.output import add_output_option
from eventbus.contracts import catalog
from eventbus.contracts.mermaid import render_mermaid

help = "every event with its version, producer and subscribers (table, json, mermaid, asyncapi)"

FORMATS = ["table", "json", "mermaid", "asyncapi"]


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="table")
    add_output_option(parser)


def run(command: BaseCommand, *, format: str, output: Path | None, **options: Any) -> None:
    entries = catalog.build()
    if format == "json":
        text = json.dumps([e.as_dict() for e in entries], indent=2)
    elif format == "mermaid":
        text = render_mermaid(entries)
    elif format == "asyncapi":
        from eventbus.contracts.asyncapi import render_asyncapi

        text = json.dumps(render_asyncapi(entries), indent=2, sort_keys=False)
    else:
        text = catalog.render_table(entries)
    if output is None:
        command.stdout.write(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    command.stdout.write(f"Wrote the {format} catalogue to {output}.")

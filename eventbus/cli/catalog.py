"""`eventbus catalog`: every event with its version, producer and subscribers."""

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from eventbus import catalog

help = "every event with its version, producer and subscribers"


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--format", choices=["table", "json"], default="table")


def run(command: BaseCommand, *, format: str, **options: Any) -> None:
    entries = catalog.build()
    if format == "json":
        command.stdout.write(json.dumps([e.as_dict() for e in entries], indent=2))
        return
    command.stdout.write(catalog.render_table(entries))

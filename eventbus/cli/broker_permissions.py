"""`eventbus broker-permissions`: what this service's own RabbitMQ user needs, as JSON."""

import json
from argparse import ArgumentParser
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand

from eventbus.broker.topology import service_permissions
from eventbus.conf import bus_settings

help = "print the RabbitMQ permissions this service's broker user needs (JSON regexes)"


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--exchange", default=None, help="default: EVENTBUS['EXCHANGE']")


def run(command: BaseCommand, *, exchange: str | None, **options: Any) -> None:
    permissions = service_permissions(exchange or bus_settings.EXCHANGE)
    command.stdout.write(json.dumps(asdict(permissions), indent=2, sort_keys=True))

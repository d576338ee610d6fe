"""`eventbus relay`: send outbox rows to the broker (the worker also does this)."""

import logging
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from eventbus.process import stop_on_signals
from eventbus.transports import transport

logger = logging.getLogger("eventbus.relay")

help = "relay outbox rows to RabbitMQ with publisher confirms; --once drains and exits"


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="drain what is pending, then exit")
    parser.add_argument("--batch-size", type=int, default=500, metavar="N")
    parser.add_argument("--poll", type=float, default=0.5, metavar="SECONDS")
    parser.add_argument("--database", default="default")


def run(
    command: BaseCommand, *, once: bool, batch_size: int, poll: float, database: str, **options: Any
) -> None:
    if not transport().relaying():
        raise CommandError(
            "Nothing to relay: EVENTBUS['TRANSPORT'] is 'local' and no event is externalised."
        )
    from eventbus.broker.relay import Relayer  # here: it needs kombu (the `amqp` extra)

    relayer = Relayer(using=database, batch_size=batch_size)
    stopping = False

    def request_stop() -> None:
        nonlocal stopping
        stopping = True

    try:
        with stop_on_signals("relay", request_stop, logger):
            while not stopping:
                if relayer.tick():
                    continue
                if once:
                    if relayer.backoff:
                        raise CommandError("The broker is unreachable; nothing more was relayed.")
                    break
                time.sleep(poll if relayer.backoff == 0 else 0.1)
    finally:
        relayer.close()
    command.stdout.write(f"Relayed {relayer.sent} messages.")

"""`eventbus consume`: take this service's events from RabbitMQ and deliver them locally."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

help = "consume this process's queues from the broker (one durable queue per module)"


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="stop when a poll finds nothing")
    parser.add_argument("--poll", type=float, default=1.0, metavar="SECONDS")
    parser.add_argument("--database", default="default")


def run(command: BaseCommand, *, once: bool, poll: float, database: str, **options: Any) -> None:
    from eventbus.broker.consumer import Consumer  # here: it needs kombu (the `amqp` extra)

    consumer = Consumer(using=database, once=once, poll=poll)
    if not consumer.queues:
        raise CommandError(
            "Nothing to consume: every event this process subscribes to is produced by a "
            "module installed here, so it arrives through the local outbox."
        )
    for queue, keys in consumer.queues.items():
        command.stdout.write(f"{queue}: {', '.join(keys)}")
    totals = consumer.run()
    command.stdout.write(
        f"Consumed {totals.messages} messages: {totals.stored} stored and delivered, "
        f"{totals.duplicates} duplicates skipped, {totals.dead_lettered} dead-lettered, "
        f"{totals.reconnects} reconnects."
    )

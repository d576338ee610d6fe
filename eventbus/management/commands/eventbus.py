"""`manage.py eventbus <action>`: operate the bus. The actions live in eventbus.cli."""

from argparse import ArgumentParser
from importlib import import_module
from types import ModuleType
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from eventbus.cli import ACTIONS
from eventbus.context import correlation_scope
from eventbus.process import DATABASE_UNAVAILABLE


def _action(name: str) -> ModuleType:
    return import_module(f"eventbus.cli.{name.replace('-', '_')}")


class Command(BaseCommand):
    help = "Operate the event bus. `manage.py eventbus ACTION --help` tells more."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        for name in ACTIONS:
            module = _action(name)
            module.add_arguments(actions.add_parser(name, help=module.help))

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        """Runs the action. A missing optional package or a setting the action cannot work
        with (ImproperlyConfigured), or a database that is unreachable or went away, ends it
        with that message and exit status 1, not a traceback (``--traceback`` shows it). The
        long-running actions (worker, consume) ride out a database outage themselves; a
        one-shot action keeps what it committed before the outage and is safe to run again."""
        with correlation_scope():
            try:
                _action(action).run(self, **options)
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
            except DATABASE_UNAVAILABLE as exc:
                reason = str(exc).strip() or type(exc).__name__
                raise CommandError(
                    f"eventbus {action}: the database is unavailable ({reason}). What was "
                    "committed before stays; run the command again when it is back."
                ) from exc

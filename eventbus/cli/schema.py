"""`eventbus schema --write | --check`: the schema lock of every event, and the gate on it."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from eventbus.contracts import schema_lock
from eventbus.exceptions import SchemaLockError

help = "write the events' JSON Schemas to the lock file, or check the code against it"


def add_arguments(parser: ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="write the lock from the code")
    mode.add_argument(
        "--check", action="store_true", help="fail on a breaking change to a locked version"
    )
    parser.add_argument(
        "--lock",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"the lock file (default: {schema_lock.LOCK_FILENAME} beside settings.BASE_DIR)",
    )
    parser.add_argument(
        "--allow-breaking",
        action="store_true",
        help="with --write: record breaking changes too (only for versions never released)",
    )


def run(
    command: BaseCommand,
    *,
    write: bool,
    check: bool,
    lock: Path | None,
    allow_breaking: bool,
    **options: Any,
) -> None:
    path = lock or schema_lock.default_path()
    current = schema_lock.from_code()
    try:
        locked = schema_lock.load(path)
    except SchemaLockError as exc:
        if check or path.exists():
            raise CommandError(str(exc)) from exc
        locked = {}  # the first --write
    result = schema_lock.compare(locked, current)
    if result.breaking and not (write and allow_breaking):
        raise CommandError(
            f"{len(result.breaking)} breaking change(s) to locked event versions ({path}):\n"
            + "\n".join(f"  - {line}" for line in result.breaking)
        )
    if check:
        _report_check(command, path, current, result)
        return
    text = schema_lock.render(current)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        command.stdout.write(f"{path} is up to date ({len(current)} event versions).")
        return
    path.write_text(text, encoding="utf-8")
    for line in result.breaking + result.pending:
        command.stdout.write(f"  - {line}")
    command.stdout.write(command.style.SUCCESS(f"Wrote {len(current)} event versions to {path}."))


def _report_check(
    command: BaseCommand,
    path: Path,
    current: dict[schema_lock.Key, schema_lock.LockedEvent],
    result: schema_lock.LockComparison,
) -> None:
    if result.pending:
        command.stdout.write(
            "No breaking change. The lock is behind the code; record it with "
            "`manage.py eventbus schema --write`:"
        )
        for line in result.pending:
            command.stdout.write(f"  - {line}")
        return
    command.stdout.write(command.style.SUCCESS(f"{len(current)} event versions match {path.name}."))

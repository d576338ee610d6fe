"""The guard: a database execute wrapper that checks each statement's tables against the
module whose code issued it.

``install("raise")`` wraps every connection of the process (those open now and every one
opened later, in any thread). A statement naming a table owned by another module than the
one whose code runs raises OwnershipViolation before it reaches the database; in "record"
mode it runs and the violation is only kept. Either way ``violations()`` lists what was seen
since ``clear()``, so a violation that module code swallowed still shows.

Cost: a statement that names no module's table is one regex search; one that does also walks
the stack to the nearest module frame. Nothing at all while the guard is off.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

from eventbus.exceptions import OwnershipViolation
from eventbus.ownership.caller import current_caller
from eventbus.ownership.owners import current_owners

Mode = Literal["off", "raise", "record"]
MODES: tuple[Mode, ...] = ("off", "raise", "record")


@dataclass(frozen=True)
class Violation:
    """One statement of ``module`` that named ``table``, which ``owner`` owns."""

    module: str
    table: str
    owner: str
    sql: str
    location: str

    def message(self) -> str:
        return (
            f"{self.module} queried {self.table}, a table of {self.owner}, at {self.location}: "
            f"{self.sql}\nA module reads another module's data only from its events, keeping "
            "a replica of what it needs in its own tables (see docs/ownership.md)."
        )


_mode: Mode = "off"
_seen: list[Violation] = []
_lock = threading.Lock()


def mode() -> Mode:
    """What the guard does now: "off", "raise" or "record"."""
    return _mode


def install(new_mode: Mode = "raise") -> None:
    """Guard every connection of the process from now on ("off" is ``uninstall()``)."""
    global _mode
    if new_mode not in MODES:
        raise ValueError(f"The ownership guard's mode is one of {list(MODES)}, not {new_mode!r}.")
    _mode = new_mode
    if new_mode == "off":
        return
    connection_created.connect(_wrap_new, dispatch_uid="eventbus.ownership.guard")
    for connection in connections.all():
        _wrap(connection)


def uninstall() -> None:
    """Stop checking. Wrapped connections keep the wrapper, which then only passes through."""
    global _mode
    _mode = "off"
    connection_created.disconnect(dispatch_uid="eventbus.ownership.guard")


def violations() -> list[Violation]:
    """The violations seen since the last ``clear()``, in order."""
    with _lock:
        return list(_seen)


def clear() -> None:
    with _lock:
        _seen.clear()


def _wrap(connection: BaseDatabaseWrapper) -> None:
    if check_statement not in connection.execute_wrappers:
        connection.execute_wrappers.append(check_statement)


def _wrap_new(sender: object, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    _wrap(connection)


def check_statement(
    execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """The execute wrapper (see Django's ``connection.execute_wrapper``)."""
    if _mode != "off":
        found = crossings(sql if isinstance(sql, str) else str(sql))
        if found:
            with _lock:
                _seen.extend(found)
            if _mode == "raise":
                raise OwnershipViolation(found[0].message())
    return execute(sql, params, many, context)


def crossings(sql: str) -> list[Violation]:
    """The tables of other modules that ``sql`` names, if module code is issuing it."""
    owners = current_owners()
    tables = owners.tables_in(sql)
    if not tables:
        return []
    caller = current_caller(owners.prefixes)
    if caller is None:
        return []
    return [
        Violation(caller.module, table, owners.tables[table], sql, caller.location)
        for table in sorted(tables)
        if owners.tables[table] != caller.module
    ]

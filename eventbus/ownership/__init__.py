"""The data-ownership guard: code of one module must not query another module's tables.

Modules share data only through events. While code of module X runs (a service, selector,
handler, command, or a view of X serving a request), a statement naming a table of module Y
raises OwnershipViolation, whose message names X, the table, the SQL and the line of X that
issued it. ``eventbus``'s tables, Django's own and third-party apps' are shared.

On in tests through the bus's pytest plugin (``eventbus.testing``); in development with
``EVENTBUS = {"OWNERSHIP_GUARD": True}``. See docs/ownership.md.
"""

from eventbus.conf import bus_settings
from eventbus.ownership import caller, owners
from eventbus.ownership.guard import Mode, Violation, clear, install, mode, uninstall, violations
from eventbus.ownership.owners import Owners, current_owners

__all__ = [
    "Mode",
    "Owners",
    "Violation",
    "clear",
    "current_owners",
    "forget_owners",
    "install",
    "install_from_settings",
    "mode",
    "uninstall",
    "violations",
]


def install_from_settings() -> None:
    """Install the guard, raising, when EVENTBUS['OWNERSHIP_GUARD'] is True (at start-up)."""
    if bus_settings.OWNERSHIP_GUARD:
        install("raise")


def forget_owners() -> None:
    """Work out the modules and their tables again on the next statement (after a test
    subscribed a handler of a new module, say)."""
    owners.forget_owners()
    caller.forget_code()

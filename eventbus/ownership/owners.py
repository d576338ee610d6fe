"""Which module owns which table, and which owned tables a statement names.

The modules are the project's (eventbus.boundaries.modules): each app of its own, named by
its label, or a group of apps that EVENTBUS["MODULES"] names. A module owns the tables of
every model of its apps (many-to-many tables included; proxies have no table of their own). Every other table is shared: Django's own
apps, ``eventbus`` and third-party apps (django-axes, simplejwt's token blacklist, ...) may
be queried by any module.
"""

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.apps import apps
from django.core.signals import setting_changed
from django.dispatch import receiver

from eventbus.boundaries.modules import ModuleMap, current_modules, forget_modules
from eventbus.ownership.caller import forget_code

#: How many distinct statements' tables are remembered before the memo starts afresh.
MEMO_SIZE = 4096


@dataclass(frozen=True)
class Owners:
    """The modules, and the tables each owns."""

    modules: frozenset[str]
    #: lower-cased table name -> the module that owns it
    tables: dict[str, str]
    #: matches an owned table's name as a whole word, quoted ("orders_order") or bare, in
    #: lower-cased SQL (a case-sensitive search is about 3 times faster than IGNORECASE)
    pattern: re.Pattern[str] | None
    #: statement -> the owned tables it names: Django sends the same statements again and
    #: again, and a look-up is cheaper than the search (emptied when it reaches MEMO_SIZE)
    memo: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)
    #: (app name, module) for each module's app, longest name first: which code is whose
    prefixes: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls,
        modules: frozenset[str],
        tables: dict[str, str],
        prefixes: tuple[tuple[str, str], ...] = (),
    ) -> "Owners":
        """The owners of ``tables`` (table name -> module), with their pattern; ``prefixes``
        say which module's code a dotted path is (ModuleMap.prefixes)."""
        tables = {name.lower(): module for name, module in tables.items()}
        if not tables:
            return cls(modules, tables, None, prefixes=prefixes)
        # Longest first, so "orders_orderline" is not read as "orders_order".
        names = sorted(tables, key=len, reverse=True)
        alternatives = "|".join(re.escape(name) for name in names)
        pattern = re.compile(rf"(?<![\w$])(?:{alternatives})(?![\w$])")
        return cls(modules, tables, pattern, prefixes=prefixes)

    def tables_in(self, sql: str) -> frozenset[str]:
        """The owned tables ``sql`` names (lower-cased). A name inside a string literal
        counts too; Django passes values as parameters, so that is rare and only errs on the
        side of a check."""
        found = self.memo.get(sql)
        if found is None:
            if self.pattern is None:
                return frozenset()
            found = frozenset(self.pattern.findall(sql.lower()))
            if len(self.memo) >= MEMO_SIZE:
                self.memo.clear()
            self.memo[sql] = found
        return found


def build_owners(modules: ModuleMap) -> Owners:
    """The tables of the installed apps of ``modules``, each owned by its app's module."""
    tables: dict[str, str] = {}
    owning: set[str] = set()
    for app_config in apps.get_app_configs():
        module = modules.of_app(app_config)
        if not module:
            continue
        owning.add(module)
        for model in app_config.get_models(include_auto_created=True):
            if not model._meta.proxy:
                tables.setdefault(model._meta.db_table.lower(), module)
    return Owners.of(frozenset(owning), tables, modules.prefixes)


@cache
def current_owners() -> Owners:
    """The owners of this process's tables, worked out on first use (reading the installed
    distributions takes about a second, once) and kept; ``forget_owners()`` drops it."""
    return build_owners(current_modules())


def forget_owners() -> None:
    """Work the modules and owners out again on next use (a test that changed the apps)."""
    forget_modules()
    current_owners.cache_clear()
    forget_code()


@receiver(setting_changed)
def _forget_on_change(*, setting: str, **kwargs: Any) -> None:
    if setting in ("EVENTBUS", "INSTALLED_APPS"):
        forget_owners()

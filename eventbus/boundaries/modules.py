"""Which module an installed app, a dotted Python path or a model belongs to: the one answer
that the ownership guard, the catalogue, the AsyncAPI document, the Mermaid map and the
extraction report share.

A module is a Django app, named by its app label, or a group of apps that
``EVENTBUS["MODULES"]`` names (``{"shop": ["project.orders", "project.billing"]}``, each app
by its name or its label). The apps that are modules are the project's own: every installed
app but the bus, Django's and third-party apps (those a distribution installs) and the
project's package (an app whose package holds the settings or the root URLconf, and the apps
inside it). An app that ``EVENTBUS["MODULES"]`` names is a module whatever it is. How the
project lays out its packages never decides it: ``project.users`` is the module ``users``.

Worked out on first use and kept; changing ``EVENTBUS`` or ``INSTALLED_APPS``
(``override_settings``) or calling ``forget_modules()`` works it out again. An invalid
``EVENTBUS["MODULES"]`` entry is left out here and reported by the system check
(eventbus.boundaries.checks).
"""

import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver

from eventbus.conf import bus_settings

if TYPE_CHECKING:
    from eventbus.events import Event

#: The bus's own package: never a module, whatever project installs it.
BUS_PACKAGE = __name__.split(".", 1)[0]


def top(dotted: str) -> str:
    """The top-level package of a dotted name: ``orders`` for ``orders.api.views``."""
    return dotted.split(".", 1)[0]


def within(dotted: str, package: str) -> bool:
    """Whether ``dotted`` is ``package`` or inside it (``shop.api`` is within ``shop``,
    ``shopping`` is not)."""
    return dotted == package or dotted.startswith(package + ".")


@cache
def distributions() -> dict[str, list[str]]:
    """Top-level package -> the distributions that install it (Django, DRF, ...): read
    once per process, it takes a second."""
    return {
        package: sorted(set(names))
        for package, names in importlib.metadata.packages_distributions().items()
    }


def project_packages() -> set[str]:
    """The dotted packages that assemble the project (its settings and its root URLconf)."""
    names = {getattr(settings, "SETTINGS_MODULE", None), getattr(settings, "ROOT_URLCONF", "")}
    return {name for name in names if name}


def find_app(entry: str) -> AppConfig | None:
    """The installed app ``entry`` names, by its name (``project.orders``) or its label."""
    for config in apps.get_app_configs():
        if entry in (config.name, config.label):
            return config
    return None


@dataclass(frozen=True)
class ModuleMap:
    """The modules and their apps, and the look-ups from an app, a path or a model."""

    #: module name -> the names of its apps (AppConfig.name), in INSTALLED_APPS order
    apps_of: dict[str, tuple[str, ...]]
    #: (app name, module) for every module's app, longest app name first
    prefixes: tuple[tuple[str, str], ...] = field(init=False)
    #: app name -> its module
    by_app: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        pairs = [(app, module) for module, names in self.apps_of.items() for app in names]
        pairs.sort(key=lambda pair: len(pair[0]), reverse=True)
        object.__setattr__(self, "prefixes", tuple(pairs))
        object.__setattr__(self, "by_app", dict(pairs))

    @property
    def names(self) -> list[str]:
        """The modules' names, sorted."""
        return sorted(self.apps_of)

    def of_path(self, dotted: str) -> str:
        """The module whose app's package holds ``dotted`` (the app whose name is the longest
        prefix of it), or "" when no module's does."""
        return of_path(dotted, self.prefixes)

    def of_app(self, config: AppConfig) -> str:
        """The module ``config`` is part of, or "" when it is none's."""
        return self.by_app.get(config.name, "")

    def of_model(self, model: type[models.Model]) -> str:
        """The module of the app a model is registered in, or "" when it is none's."""
        config = model._meta.app_config
        return self.of_app(config) if config is not None else self.of_path(model.__module__)

    def app_configs(self, module: str) -> list[AppConfig]:
        """The installed apps of ``module`` (none for a name that is no module)."""
        names = set(self.apps_of.get(module, ()))
        return [config for config in apps.get_app_configs() if config.name in names]


def of_path(dotted: str, prefixes: Iterable[tuple[str, str]]) -> str:
    """The module of the first (longest) app name in ``prefixes`` that holds ``dotted``."""
    for app, module in prefixes:
        if within(dotted, app):
            return module
    return ""


def project_apps() -> list[AppConfig]:
    """The apps of the project's package: those whose package holds the settings or the root
    URLconf (``config``), and the apps inside them (``config.cachetable``)."""
    project = project_packages()
    configs = apps.get_app_configs()
    holders = [c.name for c in configs if any(within(p, c.name) for p in project)]
    return [c for c in configs if any(within(c.name, holder) for holder in holders)]


def _is_outside(config: AppConfig, project: list[AppConfig]) -> bool:
    """Whether an app is no module unless the setting names it: the bus, a distribution's,
    or part of the project's own package."""
    if within(config.name, BUS_PACKAGE) or top(config.name) in distributions():
        return True
    return config in project


def grouped(setting: Any) -> dict[str, list[AppConfig]]:
    """The valid part of ``EVENTBUS["MODULES"]``: each group's installed apps; an app named
    twice stays in the first group that names it (the check reports the rest)."""
    groups: dict[str, list[AppConfig]] = {}
    seen: set[str] = set()
    if not isinstance(setting, dict):
        return groups
    for name, entries in setting.items():
        if not isinstance(name, str) or not isinstance(entries, list | tuple):
            continue
        for entry in entries:
            config = find_app(entry) if isinstance(entry, str) else None
            if config is not None and config.name not in seen:
                seen.add(config.name)
                groups.setdefault(name, []).append(config)
    return groups


def build_module_map(setting: Any = None) -> ModuleMap:
    """The modules of the installed apps under ``setting`` (default: EVENTBUS["MODULES"])."""
    groups = grouped(bus_settings.MODULES if setting is None else setting)
    in_group = {config.name for configs in groups.values() for config in configs}
    project = project_apps()
    apps_of: dict[str, list[str]] = {name: [] for name in groups}
    for config in apps.get_app_configs():
        if config.name in in_group:
            module = next(name for name, configs in groups.items() if config in configs)
        elif _is_outside(config, project):
            continue
        else:
            module = config.label
        apps_of.setdefault(module, []).append(config.name)
    return ModuleMap({name: tuple(names) for name, names in apps_of.items() if names})


@cache
def current_modules() -> ModuleMap:
    """This process's modules, worked out on first use and kept (see the module's doc)."""
    return build_module_map()


def forget_modules() -> None:
    """Work the modules out again on next use."""
    current_modules.cache_clear()
    _owners.clear()


def module_of(dotted: str) -> str:
    """The module holding a dotted Python path (``project.users.services`` -> ``users``),
    or "" when it is in no module (the bus, Django, a third-party app, the project's
    package, code outside every app)."""
    return current_modules().of_path(dotted)


#: dotted path -> code_owner(): asked once per delivery (ordering holds, queues); emptied by
#: forget_modules()
_owners: dict[str, str] = {}


def code_owner(dotted: str) -> str:
    """Who the code at ``dotted`` is, for listings that must name everyone: its module, else
    the label of the installed app holding it (``eventbus`` for the bus's own handlers),
    else its top-level package (code outside every app, such as a script)."""
    owner = _owners.get(dotted)
    if owner is None:
        owner = module_of(dotted)
        if not owner:
            holders = [c for c in apps.get_app_configs() if within(dotted, c.name)]
            longest = max(holders, key=lambda config: len(config.name), default=None)
            owner = longest.label if longest is not None else top(dotted)
        _owners[dotted] = owner
    return owner


def producer_of(cls: "type[Event]") -> str:
    """The module whose app defines the event class; for a class defined outside every
    module (another service's contract, a test's), the module its name begins with. When
    the two disagree, `manage.py check` warns (eventbus.W002)."""
    return module_of(cls.__module__) or cls.producer()


def module_names() -> list[str]:
    """The project's modules, sorted."""
    return current_modules().names


@receiver(setting_changed)
def _forget_on_change(*, setting: str, **kwargs: Any) -> None:
    if setting in ("EVENTBUS", "INSTALLED_APPS"):
        forget_modules()

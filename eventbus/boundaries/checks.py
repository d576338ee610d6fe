"""The start-up checks of the modules (`manage.py check`): EVENTBUS["MODULES"] names
installed apps, once each, under names a module can have; an event's name begins with the
module that defines it; no app with tables hides in the project's package."""

import re
from typing import Any

from django.apps import apps
from django.core.checks import CheckMessage, Error, Warning, register

from eventbus.boundaries.modules import find_app, module_of, project_apps
from eventbus.conf import bus_settings
from eventbus.events import registered_events

#: A module's name is the first part of its events' names, so it has their shape.
MODULE_NAME = re.compile(r"[a-z][a-z0-9_]*")
EXAMPLE = '{"shop": ["project.orders", "project.billing"]}'


def _error(message: str, hint: str, number: int) -> Error:
    return Error(message, hint=hint, id=f"eventbus.E{number:03d}")


@register("eventbus")
def check_modules_setting(**kwargs: Any) -> list[CheckMessage]:
    """An error for each entry of EVENTBUS["MODULES"] that cannot be a module's app."""
    setting: Any = bus_settings.MODULES
    if not setting:
        return []
    errors: list[CheckMessage] = []
    owner: dict[str, str] = {}
    for name, entries in setting.items():
        where = f"EVENTBUS['MODULES'][{name!r}]"
        if not isinstance(name, str) or not MODULE_NAME.fullmatch(name):
            errors.append(
                _error(
                    f"EVENTBUS['MODULES'] has the module name {name!r}; a module's name is "
                    "lower-case letters, digits and underscores, starting with a letter (it "
                    "begins its events' names).",
                    f"Rename it, e.g. {EXAMPLE}.",
                    11,
                )
            )
            continue
        if not isinstance(entries, list | tuple) or not entries:
            errors.append(
                _error(
                    f"{where} is {entries!r}; it must be a non-empty list of the apps that "
                    "make up the module.",
                    f"List the apps by name or label, e.g. {EXAMPLE}.",
                    12,
                )
            )
            continue
        for entry in entries:
            config = find_app(entry) if isinstance(entry, str) else None
            if config is None:
                installed = ", ".join(c.name for c in apps.get_app_configs())
                errors.append(
                    _error(
                        f"{where} names {entry!r}, which is not an installed app.",
                        f"Name an app of INSTALLED_APPS by its name or label: {installed}.",
                        13,
                    )
                )
            elif config.name in owner:
                errors.append(
                    _error(
                        f"{where} names the app {config.name!r}, which the module "
                        f"{owner[config.name]!r} already holds: an app is in one module.",
                        f"Keep {config.name!r} in one of the two groups.",
                        14,
                    )
                )
            else:
                owner[config.name] = name
    for config in apps.get_app_configs():
        ungrouped_module = config.name not in owner and module_of(config.name) == config.label
        if config.label in setting and ungrouped_module:
            errors.append(
                _error(
                    f"EVENTBUS['MODULES'] names a module {config.label!r} that does not hold "
                    f"the app {config.name!r}, which is a module of that name by its label.",
                    f"Add {config.name!r} to the group, or give the group another name.",
                    15,
                )
            )
    return errors


@register("eventbus")
def check_event_prefixes(**kwargs: Any) -> list[CheckMessage]:
    """A warning for each event whose name begins with another module than the one whose
    app defines it: the catalogue names the defining module as producer, while the envelope,
    the routing key and the broker's permissions go by the name."""
    warnings: list[CheckMessage] = []
    for cls in registered_events():
        defining = module_of(cls.__module__)
        if defining and defining != cls.producer():
            warnings.append(
                Warning(
                    f"{cls.event_name!r} is defined by the module {defining!r} "
                    f"({cls.__module__}) but its name begins with {cls.producer()!r}: the "
                    f"catalogue lists {defining!r} as its producer, while its envelopes, "
                    f"routing key and broker permissions name {cls.producer()!r}.",
                    hint=f"Rename it {defining}.{cls.event_name.split('.', 1)[1]} (a new "
                    "event, see docs/contracts.md), or make the module's name match through "
                    "EVENTBUS['MODULES'].",
                    obj=cls,
                    id="eventbus.W002",
                )
            )
    return warnings


@register("eventbus")
def check_hidden_apps(**kwargs: Any) -> list[CheckMessage]:
    """A warning for each app with models inside the project's package (the app holding the
    settings or root URLconf) that is no module: the guard cannot see its tables crossed."""
    return [
        Warning(
            f"The app {config.name!r} has models but is inside the project's package, so it "
            "is no module: the ownership guard does not see its tables queried by other "
            "modules, nor theirs queried by it.",
            hint=f"Name it in EVENTBUS['MODULES'], e.g. {{{config.label!r}: "
            f"[{config.name!r}]}}, or move the settings and root URLconf out of its package.",
            id="eventbus.W004",
        )
        for config in project_apps()
        if not module_of(config.name) and any(True for _ in config.get_models())
    ]

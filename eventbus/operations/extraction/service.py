"""A module as a service of its own: the events it publishes and consumes, the broker
topology it would use, and the settings such a service needs."""

import re
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings

from eventbus.boundaries.modules import current_modules, module_of, top
from eventbus.broker.topology import (
    binding_key,
    dead_letter_queue,
    permissions,
    queue_name,
    routing_key,
)
from eventbus.conf import bus_settings
from eventbus.contracts.catalog import CatalogEntry
from eventbus.operations.extraction.modules import distributions_of, project_tops


@dataclass(frozen=True)
class PublishedEvent:
    """An event version the module defines, with its handlers in the other modules."""

    name: str
    version: int
    subscribers: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ConsumedEvent:
    """Another module's event version the module's ``handlers`` subscribe to."""

    name: str
    version: int
    producer: str
    handlers: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def published(module: str, modules: list[str], catalog: list[CatalogEntry]) -> list[PublishedEvent]:
    """The module's event versions, each with its handlers in the other modules (its own
    and those outside the modules, such as tests', couple it to nothing)."""
    others = set(modules) - {module}
    return [
        PublishedEvent(
            name=e.name,
            version=e.version,
            subscribers=[s.handler for s in e.subscriptions if s.module in others],
        )
        for e in catalog
        if e.producer == module
    ]


def consumed(module: str, catalog: list[CatalogEntry]) -> list[ConsumedEvent]:
    """The event versions of other producers that the module's handlers subscribe to."""
    return [
        ConsumedEvent(
            name=e.name,
            version=e.version,
            producer=e.producer,
            handlers=[s.handler for s in e.subscriptions if s.module == module],
        )
        for e in catalog
        if e.producer != module and module in e.subscriber_modules
    ]


def broker(module: str, modules: list[str], catalog: list[CatalogEntry]) -> dict[str, Any]:
    """The exchange, the routing keys the service publishes, its queue with its bindings
    (None when it consumes nothing) and its broker user's permissions (RabbitMQ regexes)."""
    exchange = bus_settings.EXCHANGE
    takes = consumed(module, catalog)
    queue = queue_name(module) if takes else None
    return {
        "exchange": exchange,
        "publishes": [routing_key(e.name, e.version) for e in published(module, modules, catalog)],
        "queue": queue,
        "dead_letter_queue": dead_letter_queue(queue) if queue else None,
        "bindings": sorted({binding_key(e.name) for e in takes}),
        "permissions": asdict(
            permissions(exchange, queues=[queue] if queue else [], producers=[module])
        ),
    }


def _strings(value: object) -> list[str]:
    """The strings in a setting's value, through lists, tuples, sets and dict values (a
    lazy object posing as a string is none)."""
    if type(value) is str:
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list | tuple | set | frozenset):
        return [s for item in value for s in _strings(item)]
    return []


def naming_others(module: str, modules: list[str]) -> list[dict[str, str]]:
    """The settings the project sets (INSTALLED_APPS aside) whose value names another module's
    code, ``accounts.User`` (an app label and a model) or ``accounts.usernames.f`` (a path
    in one of its apps): a service of ``module`` must set them otherwise."""
    module_map = current_modules()
    others = {
        name
        for other in modules
        if other != module
        for config in module_map.app_configs(other)
        for name in (config.name, config.label)
    }
    if not others:
        return []
    alternatives = "|".join(map(re.escape, sorted(others, key=len, reverse=True)))
    dotted = re.compile(rf"^({alternatives})(\.[A-Za-z_]\w*)*$")
    # Django's settings (and override_settings' holder) say which names the project sets;
    # django-stubs leaves is_overridden out. Reading only those also leaves alone the
    # deprecated defaults, which warn when read.
    project_settings: Any = settings
    return [
        {"setting": name, "value": text}
        for name in sorted(
            n
            for n in dir(settings)
            if n.isupper() and n != "INSTALLED_APPS" and project_settings.is_overridden(n)
        )
        for text in _strings(getattr(settings, name))
        if dotted.match(text)
    ]


def service_settings(
    module: str, modules: list[str], packages: list[str], settings_read: list[str]
) -> dict[str, Any]:
    """What a settings module for the service must hold: its installed apps (the project's,
    less the other modules and the project's own package), its own database with the
    module's tables, EVENTBUS over RabbitMQ (BROKER_URL with a broker user of its own,
    allowed the broker permissions and no more), the settings its code reads and the outside
    packages (with their distributions) it imports, whose settings it needs too, and the
    settings that name another module's code."""
    others = set(modules) - {module}
    project = project_tops()

    def kept(app: str) -> bool:
        owner = module_of(app)
        return owner not in others if owner else top(app) not in project

    return {
        "installed_apps": [a for a in settings.INSTALLED_APPS if kept(a)],
        "tables": sorted(
            model._meta.db_table
            for config in current_modules().app_configs(module)
            for model in config.get_models(include_auto_created=True)
        ),
        "eventbus": {
            "TRANSPORT": "amqp",
            "EXCHANGE": bus_settings.EXCHANGE,
            "QUEUE_PREFIX": bus_settings.QUEUE_PREFIX,
        },
        "settings": settings_read,
        "settings_naming_other_modules": naming_others(module, modules),
        "packages": [
            {"package": package, "distributions": distributions_of(package)} for package in packages
        ],
    }

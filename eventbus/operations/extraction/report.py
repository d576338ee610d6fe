"""The extraction report of one module: everything that ties it to the rest, and what of
that blocks moving it into a service of its own."""

from dataclasses import dataclass
from typing import Any

from django.db import models

from eventbus.boundaries.modules import module_names
from eventbus.contracts import catalog
from eventbus.exceptions import UnknownModuleError
from eventbus.operations.extraction import (
    imports,
    queries,
    relations,
    service,
    settings_reads,
    urls,
)


@dataclass(frozen=True)
class Report:
    """What couples ``module`` to the rest. The imports, relations and queries block its
    extraction (``blockers``); the rest says what a service of it would need."""

    module: str
    modules: list[str]
    imports: list[imports.ImportCoupling]
    relations: list[relations.RelationCoupling]
    queries: list[queries.QueryCoupling] | None  # None: no record was given
    settings: list[settings_reads.SettingRead]
    published: list[service.PublishedEvent]
    consumed: list[service.ConsumedEvent]
    urls: list[urls.ModuleUrl]
    broker: dict[str, Any]
    service: dict[str, Any]

    @property
    def blockers(self) -> list[str]:
        """One line per coupling that must go before the module can be extracted."""
        return [
            *(f"import {i.importer} -> {i.imported} ({i.location})" for i in self.imports),
            *(f"relation {r.model}.{r.field} -> {r.related} ({r.kind})" for r in self.relations),
            *(
                f"query by {q.module} on {q.table}, owned by {q.owner} ({q.location})"
                for q in self.queries or []
            ),
        ]

    @property
    def extractable(self) -> bool:
        return not self.blockers

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with stable keys."""
        return {
            "module": self.module,
            "extractable": self.extractable,
            "blockers": self.blockers,
            "other_modules": [m for m in self.modules if m != self.module],
            "imports": [i.as_dict() for i in self.imports],
            "relations": [r.as_dict() for r in self.relations],
            "queries": None if self.queries is None else [q.as_dict() for q in self.queries],
            "settings": [s.as_dict() for s in self.settings],
            "events": {
                "published": [e.as_dict() for e in self.published],
                "consumed": [e.as_dict() for e in self.consumed],
            },
            "urls": [u.as_dict() for u in self.urls],
            "broker": self.broker,
            "service": self.service,
        }


def build(
    module: str,
    *,
    recorded: list[queries.QueryCoupling] | None = None,
    model_classes: list[type[models.Model]] | None = None,
) -> Report:
    """The report of ``module``. ``recorded`` is a test run's query record (None: none was
    given, the report says queries were not checked); ``model_classes`` defaults to every
    installed model. Reads code, models and settings; writes nothing. Raises
    UnknownModuleError, naming the modules, for a name that is not one."""
    modules = module_names()
    if module not in modules:
        raise UnknownModuleError(
            f"{module!r} is not a module of this project; its modules are "
            f"{', '.join(modules) or 'none'} (its own apps by label, other than the bus and "
            "the project's package, and the groups EVENTBUS['MODULES'] names)."
        )
    entries = catalog.build()
    found = imports.survey(module, modules)
    reads = settings_reads.scan(module)
    return Report(
        module=module,
        modules=modules,
        imports=found.couplings,
        relations=relations.crossing(module, modules, model_classes),
        queries=None if recorded is None else queries.crossing(module, recorded),
        settings=reads,
        published=service.published(module, modules, entries),
        consumed=service.consumed(module, entries),
        urls=urls.served_by(module),
        broker=service.broker(module, modules, entries),
        service=service.service_settings(module, modules, found.packages, [r.name for r in reads]),
    )

"""The model relations between a module and the other modules, from Django's model registry."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db import models

from eventbus.boundaries.modules import current_modules


@dataclass(frozen=True)
class RelationCoupling:
    """``model.field`` (a ForeignKey, OneToOneField or ManyToManyField) points at
    ``related``; one side is in the reported module, the other in another module."""

    model: str
    field: str
    kind: str
    related: str

    def as_dict(self) -> dict[str, str]:
        return {
            "model": self.model,
            "field": self.field,
            "kind": self.kind,
            "related": self.related,
        }


def model_module(model: type[models.Model]) -> str:
    """The module a model belongs to: its app's ("" for an app that is no module's)."""
    return current_modules().of_model(model)


def crossing(
    module: str,
    modules: Iterable[str],
    model_classes: Iterable[type[models.Model]] | None = None,
) -> list[RelationCoupling]:
    """Every forward relation of ``model_classes`` (default: every installed model) from
    ``module`` to another module or back, sorted. Relations to models outside the modules
    (Django's own apps, the bus) do not count."""
    known = set(modules)
    found = set()
    for model in apps.get_models() if model_classes is None else model_classes:
        for field in model._meta.get_fields():
            related = field.related_model
            if not field.is_relation or field.auto_created or not isinstance(related, type):
                continue
            sides = {model_module(model), model_module(related)}
            if module in sides and len(sides) == 2 and sides <= known:
                found.add(
                    RelationCoupling(
                        model=model._meta.label,
                        field=field.name,
                        kind=type(field).__name__,
                        related=related._meta.label,
                    )
                )
    return sorted(found, key=lambda r: (r.model, r.field))

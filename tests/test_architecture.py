"""The module boundaries, checked: no model relation crosses modules, tables keep their label."""

from collections.abc import Iterable, Iterator

import pytest
from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps

from accounts.models import User

MODULES = ("accounts", "orders", "eventbus")


def module_models() -> Iterator[type[models.Model]]:
    for label in MODULES:
        yield from apps.get_app_config(label).get_models()


def crossing_relations(model_classes: Iterable[type[models.Model]]) -> list[str]:
    """Every relation (forward or reverse) from a model of one module to a model of another,
    as ``"<app>.<Model>.<field> -> <app>.<Model>"``; relations to models outside the modules
    (Django's own apps) do not count."""
    return [
        f"{model._meta.label}.{field.name} -> {field.related_model._meta.label}"
        for model in model_classes
        for field in model._meta.get_fields()
        if field.is_relation
        and field.related_model is not None
        and field.related_model._meta.app_label in MODULES
        and field.related_model._meta.app_label != model._meta.app_label
    ]


def test_no_model_relation_crosses_modules():
    assert crossing_relations(module_models()) == []


@pytest.mark.parametrize("model", list(module_models()), ids=lambda m: m._meta.label)
def test_each_table_carries_its_module_label(model):
    assert model._meta.db_table.startswith(f"{model._meta.app_label}_")


@isolate_apps("orders")
def test_the_check_reports_a_relation_planted_across_modules():
    """The same check, given an orders model with a foreign key to accounts' user, fails."""

    class Leaky(models.Model):  # noqa: DJ008
        owner = models.ForeignKey(User, on_delete=models.CASCADE)
        sibling = models.ForeignKey("self", null=True, on_delete=models.CASCADE)

        class Meta:
            app_label = "orders"

    assert crossing_relations([Leaky]) == ["orders.Leaky.owner -> accounts.User"]

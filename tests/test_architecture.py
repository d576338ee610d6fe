"""The module boundaries, checked: no model relation crosses modules, tables keep their label."""

import pytest
from django.apps import apps

MODULES = ("accounts", "orders", "eventbus")


def module_models():
    for label in MODULES:
        yield from apps.get_app_config(label).get_models()


@pytest.mark.parametrize("model", list(module_models()), ids=lambda m: m._meta.label)
def test_no_model_relation_crosses_modules(model):
    own = model._meta.app_label
    crossing = [
        f"{model._meta.label}.{field.name} -> {field.related_model._meta.label}"
        for field in model._meta.get_fields()
        if field.is_relation
        and field.related_model is not None
        and field.related_model._meta.app_label in MODULES
        and field.related_model._meta.app_label != own
    ]
    assert crossing == []


@pytest.mark.parametrize("model", list(module_models()), ids=lambda m: m._meta.label)
def test_each_table_carries_its_module_label(model):
    assert model._meta.db_table.startswith(f"{model._meta.app_label}_")


def test_the_check_would_catch_a_crossing_relation():
    """The relation test is not vacuous: a foreign key from orders to accounts is seen."""
    from django.db import models

    class Leaky(models.Model):  # noqa: DJ008
        owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE)

        class Meta:
            app_label = "orders"
            managed = False

    try:
        related = Leaky._meta.get_field("owner").related_model
        assert related is not None
        assert related._meta.app_label == "accounts"
    finally:
        apps.all_models["orders"].pop("leaky", None)
        apps.clear_cache()

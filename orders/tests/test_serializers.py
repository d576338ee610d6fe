"""The response serializers build their fields from the model once per class: each
instance gets the fields DRF would have built for it, as fresh copies."""

import pytest
from rest_framework import serializers

from orders.api.serializers import OrderLineSerializer, OrderSerializer


@pytest.mark.parametrize("serializer_class", [OrderSerializer, OrderLineSerializer])
def test_fields_built_once_are_the_fields_drf_builds(serializer_class: type) -> None:
    # given the fields DRF's ModelSerializer builds for a new instance
    built_by_drf = serializers.ModelSerializer.get_fields(serializer_class())

    # when two instances are made after the first build was kept
    first, second = serializer_class(), serializer_class()

    # then each has the same fields, and not the same objects
    assert repr(first.fields) == repr(second.fields)
    assert [(name, repr(field)) for name, field in first.fields.items()] == [
        (name, repr(field)) for name, field in built_by_drf.items()
    ]
    assert all(first.fields[name] is not second.fields[name] for name in first.fields)

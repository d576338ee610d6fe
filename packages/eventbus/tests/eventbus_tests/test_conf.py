"""The EVENTBUS setting: typed values, validated on first read, reloaded when it changes."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from eventbus.conf import BusSettings, bus_settings


def test_fields_read_the_setting_in_force():
    with override_settings(EVENTBUS={"MAX_ATTEMPTS": 5, "DELIVERY": "worker"}):
        assert bus_settings.MAX_ATTEMPTS == 5
        assert bus_settings.DELIVERY == "worker"
        with override_settings(EVENTBUS={"MAX_ATTEMPTS": 2}):
            assert bus_settings.MAX_ATTEMPTS == 2
            assert bus_settings.DELIVERY == "inline"
        assert bus_settings.MAX_ATTEMPTS == 5

    assert isinstance(bus_settings, BusSettings)


def test_an_integer_is_taken_where_a_number_is_expected():
    with override_settings(EVENTBUS={"RETRY_BASE_SECONDS": 3, "RETRY_JITTER": 0}):
        assert bus_settings.RETRY_BASE_SECONDS == 3.0
        assert type(bus_settings.RETRY_BASE_SECONDS) is float
        assert type(bus_settings.RETRY_JITTER) is float


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "MAX_ATTEMPTS",
            "8",
            r"EVENTBUS\['MAX_ATTEMPTS'\] is '8' \(str\); it must be an integer\.",
        ),
        ("PREFETCH", 2.5, r"EVENTBUS\['PREFETCH'\] is 2\.5 \(float\); it must be an integer\."),
        ("RETENTION_DAYS", True, r"EVENTBUS\['RETENTION_DAYS'\] is True \(bool\); it must be an"),
        (
            "RETRY_JITTER",
            "0.1",
            r"EVENTBUS\['RETRY_JITTER'\] is '0\.1' \(str\); it must be a number",
        ),
        ("BROKER_URL", None, r"EVENTBUS\['BROKER_URL'\] is None \(NoneType\); it must be a string"),
        ("METRICS", 1, r"EVENTBUS\['METRICS'\] is 1 \(int\); it must be True or False\."),
        ("METRICS", "yes", r"EVENTBUS\['METRICS'\] is 'yes' \(str\); it must be True or False"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_key(key, value, message):
    with (
        override_settings(EVENTBUS={key: value}),
        pytest.raises(ImproperlyConfigured, match=message),
    ):
        bus_settings.MAX_ATTEMPTS  # noqa: B018


def test_an_unknown_key_is_refused_with_the_known_ones():
    with (
        override_settings(EVENTBUS={"MAX_ATTEMPT": 3}),
        pytest.raises(ImproperlyConfigured, match=r"unknown keys \['MAX_ATTEMPT'\]; the known"),
    ):
        bus_settings.MAX_ATTEMPTS  # noqa: B018


def test_a_delivery_mode_outside_the_choices_is_refused():
    with (
        override_settings(EVENTBUS={"DELIVERY": "later"}),
        pytest.raises(ImproperlyConfigured, match=r"is 'later'; use one of \['inline', 'worker'\]"),
    ):
        bus_settings.DELIVERY  # noqa: B018


def test_a_fixed_setting_is_read_again():
    with override_settings(EVENTBUS={"MAX_ATTEMPTS": "3"}):
        with pytest.raises(ImproperlyConfigured):
            bus_settings.MAX_ATTEMPTS  # noqa: B018
        with override_settings(EVENTBUS={"MAX_ATTEMPTS": 3}):
            assert bus_settings.MAX_ATTEMPTS == 3


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("MAX_MESSAGE_BYTES", r"EVENTBUS\['MAX_MESSAGE_BYTES'\] must be at least 1 \(bytes\)\."),
        ("DELIVERY_LIMIT", r"EVENTBUS\['DELIVERY_LIMIT'\] must be at least 1\."),
    ],
)
def test_broker_limits_below_one_are_refused(key, message):
    with override_settings(EVENTBUS={key: 0}), pytest.raises(ImproperlyConfigured, match=message):
        bus_settings.MAX_MESSAGE_BYTES  # noqa: B018


def test_broker_limits_have_their_documented_defaults():
    assert (bus_settings.MAX_MESSAGE_BYTES, bus_settings.DELIVERY_LIMIT) == (1048576, 10)


def test_metrics_take_a_boolean_and_are_off_by_default():
    with override_settings(EVENTBUS={}):
        assert bus_settings.METRICS is False
    with override_settings(EVENTBUS={"METRICS": True}):
        assert bus_settings.METRICS is True

"""Start-up checks of the bus (`manage.py check`): every stored version stays readable, and
no EVENTBUS_* environment variable is silently ignored."""

import os
from typing import Any

from django.core.checks import CheckMessage, Error, Warning, register

from eventbus.conf import BusSettings, bus_settings
from eventbus.contracts.upcasting import has_upcaster
from eventbus.events import latest_event_class, registered_events
from eventbus.subscriptions import all_subscriptions


@register("eventbus")
def check_versions(**kwargs: Any) -> list[CheckMessage]:
    """An error for each old registered version with no upcaster to the next one, and for
    each handler subscribed to an old version (handlers receive the newest)."""
    errors: list[CheckMessage] = []
    for cls in registered_events():
        newest_version = latest_event_class(cls.event_name).event_version
        for version in range(cls.event_version, newest_version):
            if not has_upcaster(cls.event_name, version):
                errors.append(
                    Error(
                        f"{cls.event_name!r} v{cls.event_version} is registered but nothing "
                        f"upcasts v{version} to v{version + 1}, so its stored messages "
                        "cannot be delivered.",
                        hint=f"Add @upcaster({cls.event_name!r}, from_version={version}).",
                        obj=cls,
                        id="eventbus.E001",
                    )
                )
    for sub in all_subscriptions():
        newest = latest_event_class(sub.event.event_name)
        if newest is not sub.event:
            errors.append(
                Error(
                    f"{sub.handler_id} subscribes to {sub.event.event_name!r} "
                    f"v{sub.event.event_version}, but v{newest.event_version} exists: "
                    "handlers receive the newest version.",
                    hint=f"Subscribe to {newest.__module__}.{newest.__qualname__}.",
                    obj=sub.func,
                    id="eventbus.E002",
                )
            )
    return errors


#: The prefix of environment variables a project's settings commonly read into EVENTBUS.
ENV_PREFIX = "EVENTBUS_"
_TRUE = frozenset({"1", "true", "yes", "on"})


def _agrees(value: object, text: str) -> bool:
    """Whether the environment's ``text`` says what the setting in force says."""
    if isinstance(value, bool):
        return (text.strip().lower() in _TRUE) == value
    if isinstance(value, int | float):
        try:
            return float(text) == value
        except ValueError:
            return False
    return text == value


@register("eventbus")
def check_environment(**kwargs: Any) -> list[CheckMessage]:
    """A warning for each ``EVENTBUS_<KEY>`` environment variable whose value the EVENTBUS
    setting in force does not have: the bus reads only the setting, so a variable that the
    project's settings do not read would otherwise be ignored without a word."""
    warnings: list[CheckMessage] = []
    for key in sorted(BusSettings.__dataclass_fields__):
        text = os.environ.get(ENV_PREFIX + key)
        value = getattr(bus_settings, key)
        if text is None or isinstance(value, dict) or _agrees(value, text):
            continue
        warnings.append(
            Warning(
                f"The environment sets {ENV_PREFIX}{key}={text!r} but EVENTBUS[{key!r}] is "
                f"{value!r}: the bus reads the EVENTBUS setting, not the environment, so the "
                "variable changes nothing.",
                hint=f"Read it in your settings: EVENTBUS = {{{key!r}: "
                f"os.environ.get({ENV_PREFIX + key!r}, ...)}}, or unset it.",
                id="eventbus.W003",
            )
        )
    return warnings

"""The EVENTBUS setting, read through one object that holds the defaults and reloads on change.

EVENTBUS = {
    "DELIVERY": "inline",          # "inline": dispatch after commit in the publishing process
    "MAX_ATTEMPTS": 8,             # attempts per (event, handler) before a dead letter
    "RETRY_BASE_SECONDS": 2.0,     # first retry delay; doubles on every attempt
    "RETRY_MAX_SECONDS": 3600.0,   # cap on one delay
    "RETRY_JITTER": 0.2,           # +/- fraction of randomness on each delay
    "TRANSPORT": "local",          # or "amqp": relay every event to RabbitMQ (split mode)
    "BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
    "EXCHANGE": "eventbus",        # the durable topic exchange
    "QUEUE_PREFIX": "",            # queues are named "<prefix><module>.events"
    "CONFIRM_TIMEOUT_SECONDS": 10.0,  # a publish not confirmed by then is sent again later
    "PREFETCH": 200,               # unacknowledged messages a consumer may hold
    "MAX_MESSAGE_BYTES": 1048576,  # a consumed message with a larger body is dead-lettered
    "DELIVERY_LIMIT": 10,          # the broker sets a message aside after this many redeliveries
    "RETENTION_DAYS": 30,          # `eventbus purge` keeps delivered events this long
    "METRICS": False,              # Prometheus metrics from the lifecycle signals (eventbus.metrics)
    "OWNERSHIP_GUARD": False,      # a module's query of another module's table raises (eventbus.ownership)
    "MODULES": {},                 # groups of apps that are one module: {"shop": ["project.orders", "project.billing"]}
}
"""

from dataclasses import dataclass, field
from typing import Any, get_origin, get_type_hints

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

DELIVERY_MODES = ("inline", "worker")
#: The transports EVENTBUS['TRANSPORT'] names by alias, and the class of each.
TRANSPORTS = {
    "local": "eventbus.transports.LocalTransport",
    "amqp": "eventbus.transports.AmqpTransport",
}


@dataclass(frozen=True)
class BusSettings:
    DELIVERY: str = "inline"
    MAX_ATTEMPTS: int = 8
    RETRY_BASE_SECONDS: float = 2.0
    RETRY_MAX_SECONDS: float = 3600.0
    RETRY_JITTER: float = 0.2
    # "local": events stay in this process's database (externalised ones are also relayed
    # to the broker). "amqp": every event is relayed to the broker; handlers of events whose
    # producer module is not installed here receive them from it (`eventbus consume`).
    TRANSPORT: str = "local"
    BROKER_URL: str = "amqp://guest:guest@127.0.0.1:5672//"
    EXCHANGE: str = "eventbus"
    QUEUE_PREFIX: str = ""  # queues are "<prefix><module>.events"
    CONFIRM_TIMEOUT_SECONDS: float = 10.0
    PREFETCH: int = 200
    # A consumed message whose body is larger is dead-lettered unread (1 MiB).
    MAX_MESSAGE_BYTES: int = 1048576
    # Quorum queues' x-delivery-limit: a message redelivered this many times (say, one that
    # kills the consumer) is moved by the broker to the queue's dead-letter queue.
    DELIVERY_LIMIT: int = 10
    RETENTION_DAYS: int = 30
    # Connect eventbus.metrics to the lifecycle signals at start-up (needs prometheus-client).
    METRICS: bool = False
    # Install the data-ownership guard at start-up (eventbus.ownership): a query that module
    # code makes against another module's table raises OwnershipViolation. For development;
    # the bus's pytest plugin turns it on in tests whatever this says.
    OWNERSHIP_GUARD: bool = False
    # Modules made of several apps: module name -> its apps, each by name or label. Every
    # other app of the project's own is a module named by its label (eventbus.boundaries).
    # Its shape is checked at start-up (`manage.py check`, eventbus.boundaries.checks).
    MODULES: dict[str, list[str]] = field(default_factory=dict)


_TYPES: dict[str, type] = get_type_hints(BusSettings)  # each key's declared type
_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "True or False",
    dict: "a dict",
}


def _typed(key: str, value: object) -> Any:
    """``value`` as the type BusSettings declares for ``key`` (an int is a float too);
    raises ImproperlyConfigured naming the key otherwise. A bool is not taken for a number."""
    expected = get_origin(_TYPES[key]) or _TYPES[key]
    if expected is bool:
        if isinstance(value, bool):
            return value
    elif expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, expected) and not isinstance(value, bool):
        return value
    wanted = _TYPE_NAMES[expected]
    raise ImproperlyConfigured(
        f"EVENTBUS[{key!r}] is {value!r} ({type(value).__name__}); it must be {wanted}."
    )


def _load() -> BusSettings:
    user: dict[str, Any] = dict(getattr(settings, "EVENTBUS", {}) or {})
    unknown = sorted(set(user) - set(_TYPES))
    if unknown:
        raise ImproperlyConfigured(
            f"EVENTBUS has unknown keys {unknown}; the known keys are {sorted(_TYPES)}."
        )
    loaded = BusSettings(**{key: _typed(key, value) for key, value in user.items()})
    if loaded.DELIVERY not in DELIVERY_MODES:
        raise ImproperlyConfigured(
            f"EVENTBUS['DELIVERY'] is {loaded.DELIVERY!r}; use one of {list(DELIVERY_MODES)}."
        )
    if loaded.TRANSPORT not in TRANSPORTS:
        raise ImproperlyConfigured(
            f"EVENTBUS['TRANSPORT'] is {loaded.TRANSPORT!r}; use one of {list(TRANSPORTS)}."
        )
    if loaded.MAX_ATTEMPTS < 1:
        raise ImproperlyConfigured("EVENTBUS['MAX_ATTEMPTS'] must be at least 1.")
    if loaded.MAX_MESSAGE_BYTES < 1:
        raise ImproperlyConfigured("EVENTBUS['MAX_MESSAGE_BYTES'] must be at least 1 (bytes).")
    if loaded.DELIVERY_LIMIT < 1:
        raise ImproperlyConfigured("EVENTBUS['DELIVERY_LIMIT'] must be at least 1.")
    if loaded.RETENTION_DAYS < 1:
        raise ImproperlyConfigured("EVENTBUS['RETENTION_DAYS'] must be at least 1 (days).")
    return loaded


_loaded: BusSettings | None = None


def _current() -> BusSettings:
    global _loaded
    if _loaded is None:
        _loaded = _load()
    return _loaded


class _InForce(BusSettings):
    """A BusSettings whose every field reads the EVENTBUS setting in force: validated on
    the first read, and again on the first read after it changes (``override_settings``)."""

    def __getattribute__(self, name: str) -> Any:
        if name in _TYPES:
            return getattr(_current(), name)
        return super().__getattribute__(name)


#: The EVENTBUS setting, typed: ``bus_settings.MAX_ATTEMPTS`` is an int. A read raises
#: ImproperlyConfigured, naming the key, when the setting is invalid.
bus_settings: BusSettings = _InForce()


@receiver(setting_changed)
def _reload_on_change(*, setting: str, **kwargs: Any) -> None:
    global _loaded
    if setting == "EVENTBUS":
        _loaded = None

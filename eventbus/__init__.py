"""eventbus: typed, versioned events over a transactional outbox, delivered through blinker.

    from eventbus import Event, publish, subscriber

Publish inside ``transaction.atomic()``; subscribe plain functions in ``<module>/handlers.py``.
"""

from eventbus.context import (
    correlation_scope,
    current_correlation_id,
    current_envelope,
    current_event_id,
)
from eventbus.contracts.upcasting import upcaster
from eventbus.envelope import Envelope
from eventbus.events import Event, Payload, event_class, registered_events
from eventbus.exceptions import (
    DoNotRetry,
    EventBusError,
    EventDefinitionError,
    NotInHandlerError,
    NotInTransactionError,
    SubscriptionError,
    UnknownEventError,
    UpcastError,
)
from eventbus.publishing import publish
from eventbus.subscriptions import subscriber
from eventbus.together import write_together

#: The version of the django-eventbus-outbox distribution (its pyproject reads it here).
__version__ = "0.1.0"

__all__ = [
    "DoNotRetry",
    "Envelope",
    "Event",
    "EventBusError",
    "EventDefinitionError",
    "NotInHandlerError",
    "NotInTransactionError",
    "Payload",
    "SubscriptionError",
    "UnknownEventError",
    "UpcastError",
    "correlation_scope",
    "current_correlation_id",
    "current_envelope",
    "current_event_id",
    "event_class",
    "publish",
    "registered_events",
    "subscriber",
    "upcaster",
    "write_together",
]

"""The bus's exceptions: one root, EventBusError, and small specific subclasses."""


class EventBusError(Exception):
    """Root of every error the event bus raises."""


class NotInTransactionError(EventBusError):
    """publish() was called outside transaction.atomic(); the event would not be atomic."""


class EventDefinitionError(EventBusError):
    """An event class is malformed: bad name, missing version, or a duplicate (name, version)."""


class UnknownEventError(EventBusError):
    """No event class is registered for a (name, version) found in a message or a subscription."""


class UpcastError(UnknownEventError):
    """A stored payload of an old version cannot be brought to the current one: no upcaster
    is registered for a step, or one failed. Permanent, like an unknown event: a dead letter."""


class SchemaLockError(EventBusError):
    """The schema lock file is missing or malformed."""


class SubscriptionError(EventBusError):
    """A handler was subscribed twice or to something that is not an event class."""


class NotInHandlerError(EventBusError):
    """``current_event_id()`` was called where no handler is running for an event."""


class DoNotRetry(EventBusError):
    """Raise from a handler for bad data: the delivery goes straight to the dead letters."""


class BrokerTopologyError(EventBusError):
    """The broker holds a queue or exchange declared otherwise than the bus declares it
    (e.g. a classic queue where a quorum queue belongs); reconnecting cannot fix it."""


class ExtractionReportError(EventBusError):
    """An extraction report cannot be made (``eventbus extraction-report``)."""


class UnknownModuleError(ExtractionReportError):
    """The module named for an extraction report is not one of the project's modules."""


class QueryRecordError(ExtractionReportError):
    """A record of a test run's queries (the data-ownership guard's file) cannot be read:
    missing, not JSON, another version, or an entry without its fields."""


class OwnershipViolation(EventBusError):
    """Code of one module queried a table another module owns (eventbus.ownership): modules
    share data only through events. Raised before the query runs, so it wrote nothing."""

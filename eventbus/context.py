"""What the current unit of work is: its correlation id and the envelope being handled."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from eventbus.exceptions import NotInHandlerError

if TYPE_CHECKING:
    from eventbus.envelope import Envelope

_correlation_id: ContextVar[str | None] = ContextVar("eventbus_correlation_id", default=None)
_current_envelope: ContextVar["Envelope | None"] = ContextVar(
    "eventbus_current_envelope", default=None
)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def current_correlation_id() -> str | None:
    """The correlation id of the request, command or event being handled, if any."""
    return _correlation_id.get()


def current_envelope() -> "Envelope | None":
    """The envelope whose handler is running right now, or None outside a handler."""
    return _current_envelope.get()


def current_event_id() -> uuid.UUID:
    """The id of the event whose handler is running: the same on every delivery of that
    event (a retry, a replay, a broker's redelivery), so a unique constraint on it makes a
    handler's second run a no-op (docs/eventbus.md, "Idempotent handlers").

    Raises NotInHandlerError outside a handler (a test calling the handler directly passes
    the id its model needs otherwise)."""
    envelope = _current_envelope.get()
    if envelope is None:
        raise NotInHandlerError(
            "current_event_id() is called outside a handler: it names the event being "
            "delivered. Call the handler through the bus (publish() in a test), or give the "
            "service it calls an id of your own."
        )
    return envelope.event_id


@contextmanager
def correlation_scope(correlation_id: str | None = None) -> Iterator[str]:
    """Run a block under a correlation id (a new one when none is given); yields the id."""
    value = correlation_id or new_correlation_id()
    token = _correlation_id.set(value)
    try:
        yield value
    finally:
        _correlation_id.reset(token)


class handling:
    """Mark a handler as running for this envelope: events it publishes are caused by it.

    A class rather than a generator: it is entered once per delivery, on the hot path."""

    __slots__ = ("_corr_token", "_env_token", "envelope")

    def __init__(self, envelope: "Envelope") -> None:
        self.envelope = envelope

    def __enter__(self) -> None:
        self._env_token = _current_envelope.set(self.envelope)
        self._corr_token = _correlation_id.set(self.envelope.correlation_id)

    def __exit__(self, *exc_info: object) -> None:
        _correlation_id.reset(self._corr_token)
        _current_envelope.reset(self._env_token)

"""What the current unit of work is: its correlation id and the envelope being handled."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

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


@contextmanager
def correlation_scope(correlation_id: str | None = None) -> Iterator[str]:
    """Run a block under a correlation id (a new one when none is given); yields the id."""
    value = correlation_id or new_correlation_id()
    token = _correlation_id.set(value)
    try:
        yield value
    finally:
        _correlation_id.reset(token)


@contextmanager
def handling(envelope: "Envelope") -> Iterator[None]:
    """Mark a handler as running for this envelope: events it publishes are caused by it."""
    env_token = _current_envelope.set(envelope)
    corr_token = _correlation_id.set(envelope.correlation_id)
    try:
        yield
    finally:
        _correlation_id.reset(corr_token)
        _current_envelope.reset(env_token)

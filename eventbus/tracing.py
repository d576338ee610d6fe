"""OpenTelemetry spans for publishing, relaying, receiving and processing, when configured.

The spans follow the OpenTelemetry messaging semantic conventions: ``create <event>``
(PRODUCER) around publish() in the publishing transaction, ``send <exchange>`` (PRODUCER)
per relayed batch, ``receive <queue>`` (CONSUMER) per consumed batch and ``process
<event>`` (CONSUMER) per handler run. The create span's context travels as a W3C
``traceparent`` in the envelope (an outbox column, an AMQP header); a process span is its
child, so one trace runs from the publisher to every handler, in another service too. The
batch spans link to the create spans of their messages.

Tracing is on when the ``opentelemetry`` package is installed and a tracer provider other
than the API's default (no-op) one is set, usually the SDK's. Otherwise ``tracer()``
returns None after one check and nothing else here runs: envelopes carry no trace context.
"""

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Link, Span, SpanKind, Tracer

    from eventbus.envelope import Envelope

try:
    from opentelemetry import trace as _trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError:  # pragma: no cover - the package is optional
    _trace = None  # type: ignore[assignment]

#: messaging.system of the spans the bus makes itself, and of those at the broker.
SYSTEM = "eventbus"
BROKER_SYSTEM = "rabbitmq"

#: A W3C trace context header of version 00 (55 characters), the one this bus writes.
TRACEPARENT = re.compile(r"00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")
TRACEPARENT_LENGTH = 55

_off: tuple[type, ...] = ()
_propagator: Any = None
#: Whether the API will load a provider named by OTEL_PYTHON_TRACER_PROVIDER on first use.
_provider_from_environment = False
if _trace is not None:
    from opentelemetry.environment_variables import OTEL_PYTHON_TRACER_PROVIDER

    _off = (_trace.ProxyTracerProvider, _trace.NoOpTracerProvider)
    _propagator = TraceContextTextMapPropagator()
    _provider_from_environment = OTEL_PYTHON_TRACER_PROVIDER in os.environ
_cached: tuple[object, "Tracer | None"] = (None, None)


def tracer() -> "Tracer | None":
    """The bus's tracer, or None when tracing is off (the one check on the hot paths)."""
    global _cached
    if _trace is None:
        return None
    # The global the API's get_tracer_provider() reads, read directly while it is unset:
    # its os.environ lookup would cost more than the rest of this function.
    provider = _trace._TRACER_PROVIDER
    if provider is None:
        if not _provider_from_environment:
            return None
        provider = _trace.get_tracer_provider()
    if isinstance(provider, _off):
        return None
    if _cached[0] is not provider:
        _cached = (provider, provider.get_tracer("eventbus"))
    return _cached[1]


def valid_traceparent(value: object) -> str:
    """``value`` if it is a version-00 W3C traceparent, else "" (it is only telemetry: a bad
    one is dropped, never a reason to refuse a message)."""
    if isinstance(value, str) and len(value) == TRACEPARENT_LENGTH and TRACEPARENT.fullmatch(value):
        return value
    return ""


def _context(traceparent: str) -> "Context | None":
    if not traceparent:
        return None
    context: Context = _propagator.extract({"traceparent": traceparent})
    return context


def _links(traceparents: Iterable[object]) -> "list[Link]":
    assert _trace is not None
    links = []
    for value in traceparents:
        context = _context(valid_traceparent(value))
        if context is not None:
            links.append(_trace.Link(_trace.get_current_span(context).get_span_context()))
    return links


@contextmanager
def _active(span: "Span") -> Iterator["Span"]:
    """``span`` as the current span; ended on exit, an exception recorded as its error."""
    assert _trace is not None
    with _trace.use_span(span, end_on_exit=True, record_exception=True):
        yield span


def creating(tracer: "Tracer", event_name: str) -> "AbstractContextManager[Span]":
    """The ``create`` span of a publish; see traceparent() for its context."""
    assert _trace is not None
    span = tracer.start_span(
        f"create {event_name}",
        kind=_trace.SpanKind.PRODUCER,
        attributes={
            "messaging.system": SYSTEM,
            "messaging.operation.type": "create",
            "messaging.operation.name": "create",
            "messaging.destination.name": event_name,
        },
    )
    return _active(span)


def identify(span: "Span", envelope: "Envelope") -> None:
    span.set_attribute("messaging.message.id", str(envelope.event_id))
    if envelope.correlation_id:
        span.set_attribute("messaging.message.conversation_id", envelope.correlation_id)


def traceparent(span: "Span") -> str:
    """The W3C traceparent of ``span``, "" for a span that is not sampled or not valid."""
    carrier: dict[str, str] = {}
    assert _trace is not None
    _propagator.inject(carrier, context=_trace.set_span_in_context(span))
    return valid_traceparent(carrier.get("traceparent", ""))


def processing(
    tracer: "Tracer", envelope: "Envelope", handler_id: str
) -> "AbstractContextManager[Span]":
    """The ``process`` span of one handler run: a child of the envelope's create span (when
    it carries one, else of the current span), linked to it as the conventions ask."""
    assert _trace is not None
    parent = _context(envelope.traceparent)
    span = tracer.start_span(
        f"process {envelope.name}",
        context=parent,
        kind=_trace.SpanKind.CONSUMER,
        links=_links([envelope.traceparent]) if parent is not None else None,
        attributes={
            "messaging.system": SYSTEM,
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
            "messaging.destination.name": envelope.name,
            "messaging.message.id": str(envelope.event_id),
            "messaging.consumer.group.name": handler_id,
        },
    )
    return _active(span)


def failed(span: "Span", error: str) -> None:
    """Mark ``span`` as failed: its handler's failure was recorded, not raised."""
    assert _trace is not None
    span.set_status(_trace.Status(_trace.StatusCode.ERROR, error))


def sending(
    tracer: "Tracer", traceparents: list[str], *, destination: str
) -> "AbstractContextManager[Span]":
    """The ``send`` span of one relayed batch, linked to each message's create span."""
    assert _trace is not None
    return _batch_span(tracer, "send", _trace.SpanKind.PRODUCER, traceparents, destination)


def receiving(
    tracer: "Tracer", traceparents: list[object], *, source: str
) -> "AbstractContextManager[Span]":
    """The ``receive`` span of one consumed batch, linked to each message's create span
    (the headers are read here as they arrived; a malformed traceparent gives no link)."""
    assert _trace is not None
    return _batch_span(tracer, "receive", _trace.SpanKind.CONSUMER, traceparents, source)


def _batch_span(
    tracer: "Tracer",
    operation: str,
    kind: "SpanKind",
    traceparents: Sequence[object],
    destination: str,
) -> "AbstractContextManager[Span]":
    """A ``send`` or ``receive`` span over a batch at ``destination``, made current."""
    span = tracer.start_span(
        f"{operation} {destination}",
        kind=kind,
        links=_links(traceparents),
        attributes={
            "messaging.system": BROKER_SYSTEM,
            "messaging.operation.type": operation,
            "messaging.operation.name": operation,
            "messaging.destination.name": destination,
            "messaging.batch.message_count": len(traceparents),
        },
    )
    return _active(span)

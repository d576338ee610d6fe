"""OpenTelemetry spans: create, send, receive and process, and the trace context they carry."""

from collections.abc import Iterator
from typing import Any, cast

import pytest
from django.db import transaction
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from eventbus import publish, tracing
from eventbus.broker.amqp import Received
from eventbus.broker.inbox import receive
from eventbus.broker.relay import relay_batch
from eventbus.broker.wire import decode, encode
from eventbus.envelope import Envelope
from eventbus.models import OutboxMessage
from eventbus.storage import store_for
from eventbus.tasks import SUPPORTED
from eventbus_tests.sample import ThingAnnounced, ThingHappened, thing_happened_envelope


@pytest.fixture
def spans(monkeypatch) -> Iterator[InMemorySpanExporter]:
    """An SDK tracer provider exporting to memory, as the global one for this test only."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)
    yield exporter
    provider.shutdown()


def named(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    finished = exporter.get_finished_spans()
    by_name = {span.name: span for span in finished}
    assert len(by_name) == len(finished), [span.name for span in finished]
    return by_name


def hex_ids(span: ReadableSpan) -> tuple[str, str]:
    context = span.get_span_context()
    assert context is not None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


class FakePublisher:
    """Confirms every message, as a broker that took them all."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def publish_many(self, messages: list[Any]) -> list[bool]:
        self.sent.extend(messages)
        return [True] * len(messages)


def test_publish_and_inline_delivery_make_a_create_and_a_process_span_in_one_trace(
    db, spans, subscribe, django_capture_on_commit_callbacks
):
    subscribe(ThingHappened, lambda event: None)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        envelope = publish(ThingHappened(thing_id=1))

    by_name = named(spans)
    assert set(by_name) == {"create samples.thing_happened", "process samples.thing_happened"}
    create = by_name["create samples.thing_happened"]
    process = by_name["process samples.thing_happened"]
    assert create.kind is SpanKind.PRODUCER
    assert process.kind is SpanKind.CONSUMER
    trace_id, span_id = hex_ids(create)
    assert envelope.traceparent.startswith(f"00-{trace_id}-{span_id}-")
    assert OutboxMessage.objects.get().traceparent == envelope.traceparent
    assert hex_ids(process)[0] == trace_id
    assert process.parent is not None and process.parent.span_id == int(span_id, 16)
    assert [link.context.span_id for link in process.links] == [int(span_id, 16)]
    assert create.attributes == {
        "messaging.system": "eventbus",
        "messaging.operation.type": "create",
        "messaging.operation.name": "create",
        "messaging.destination.name": "samples.thing_happened",
        "messaging.message.id": str(envelope.event_id),
        "messaging.message.conversation_id": envelope.correlation_id,
    }
    assert process.attributes is not None
    assert process.attributes["messaging.operation.type"] == "process"
    assert process.attributes["messaging.message.id"] == str(envelope.event_id)
    assert process.attributes["messaging.destination.name"] == "samples.thing_happened"
    assert process.status.status_code is StatusCode.UNSET


def test_a_failing_handler_marks_its_process_span_as_an_error(
    db, spans, subscribe, django_capture_on_commit_callbacks
):
    def broken(event):
        raise ValueError("no thing")

    subscribe(ThingHappened, broken)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish(ThingHappened(thing_id=1))

    process = named(spans)["process samples.thing_happened"]
    assert process.status.status_code is StatusCode.ERROR
    assert "no thing" in (process.status.description or "")


def test_the_relay_sends_in_a_span_linked_to_the_create_span_and_the_header_carries_it(db, spans):
    with transaction.atomic():
        published = publish(ThingAnnounced(thing_id=3))
    publisher = FakePublisher()

    relay_batch(cast(Any, publisher), using="default", batch_size=10)

    by_name = named(spans)
    send = next(span for name, span in by_name.items() if name.startswith("send "))
    assert send.kind is SpanKind.PRODUCER
    assert send.attributes is not None
    assert send.attributes["messaging.batch.message_count"] == 1
    create_span_id = hex_ids(by_name["create samples.thing_announced"])[1]
    assert [link.context.span_id for link in send.links] == [int(create_span_id, 16)]
    assert [m.headers["traceparent"] for m in publisher.sent] == [published.traceparent]


def test_a_received_message_is_processed_in_the_trace_of_its_create_span(db, spans, subscribe):
    subscribe(ThingHappened, lambda event: None)
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    arriving = thing_happened_envelope({"thing_id": 4, "label": ""}, traceparent=traceparent)
    wire = encode(arriving)

    result = receive([Received("q", 1, wire.message_id, wire.body, wire.headers)])

    assert result.stored == 1
    assert OutboxMessage.objects.get().traceparent == traceparent
    by_name = named(spans)
    receive_span = next(span for name, span in by_name.items() if name.startswith("receive "))
    process = by_name["process samples.thing_happened"]
    assert receive_span.kind is SpanKind.CONSUMER
    assert [link.context.trace_id for link in receive_span.links] == [
        0x0AF7651916CD43DD8448EB211C80319C
    ]
    assert hex_ids(process)[0] == "0af7651916cd43dd8448eb211c80319c"
    assert process.parent is not None and process.parent.span_id == 0xB7AD6B7169203331


def envelope_with(traceparent: str) -> Envelope:
    return thing_happened_envelope({"thing_id": 1}, traceparent=traceparent)


def read_back(envelope: Envelope, **headers: Any) -> Envelope:
    wire = encode(envelope)
    return decode(wire.message_id, wire.body, {**wire.headers, **headers}, max_bytes=1000)


def test_a_wire_round_trip_keeps_the_traceparent():
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    envelope = envelope_with(traceparent)

    assert encode(envelope).headers["traceparent"] == traceparent
    assert read_back(envelope) == envelope


@pytest.mark.parametrize(
    "bad",
    [
        "garbage",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        42,
        b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    ],
)
def test_a_malformed_traceparent_header_is_dropped_and_the_message_kept(bad):
    envelope = envelope_with("")

    received = read_back(envelope, traceparent=bad)

    assert received == envelope
    assert received.traceparent == ""


# Out of the redelivery drill: counts the probe's calls to prove delivery is unchanged with tracing off.
@pytest.mark.eventbus_redeliver(False)
def test_without_a_configured_sdk_nothing_is_traced_and_envelopes_carry_no_context(
    db, subscribe, django_capture_on_commit_callbacks
):
    handled: list[ThingHappened] = []
    subscribe(ThingHappened, handled.append)
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert tracing.tracer() is None

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        envelope = publish(ThingHappened(thing_id=1))

    assert envelope.traceparent == ""
    assert len(handled) == 1
    assert OutboxMessage.objects.get().traceparent == ""
    assert "traceparent" not in encode(envelope).headers
    stored = store_for("default").stored_envelopes([envelope.event_id])
    assert stored[envelope.event_id].traceparent == ""


def test_without_the_opentelemetry_package_tracing_is_off(db, spans, monkeypatch):
    monkeypatch.setattr(tracing, "_trace", None)  # as when the import failed

    with transaction.atomic():
        envelope = publish(ThingHappened(thing_id=1))

    assert tracing.tracer() is None
    assert envelope.traceparent == ""
    assert spans.get_finished_spans() == ()


@pytest.mark.skipif(not SUPPORTED, reason="django.tasks came with Django 6.0")
def test_a_task_enqueued_in_a_trace_is_run_in_that_trace(db, spans, settings):
    from django.core.management import call_command

    from eventbus_tests.sample_tasks import record

    settings.TASKS = {"default": {"BACKEND": "eventbus.tasks.OutboxTaskBackend"}}
    # given a request's span, in which a task is enqueued
    with trace.get_tracer("test").start_as_current_span("POST /api/orders/"), transaction.atomic():
        result = record.enqueue("traced")

    # when the worker runs it
    call_command("eventbus", "worker", "--once", stdout=None)

    # then enqueueing made a create span in the request's trace, and the run a process span
    # under it, the trace context stored with the task as with any event
    by_name = named(spans)
    request = by_name["POST /api/orders/"]
    create = by_name["create eventbus.task_enqueued"]
    process = by_name["process eventbus.task_enqueued"]
    trace_id, request_span = hex_ids(request)
    assert hex_ids(create)[0] == hex_ids(process)[0] == trace_id
    assert create.parent is not None and create.parent.span_id == int(request_span, 16)
    assert process.parent is not None and process.parent.span_id == create.context.span_id
    assert create.attributes is not None
    assert create.attributes["messaging.message.id"] == result.id
    stored = OutboxMessage.objects.get(pk=result.id).traceparent
    assert stored.startswith(f"00-{trace_id}-{hex_ids(create)[1]}-")

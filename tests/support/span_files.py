"""Spans written to files, one JSON line each, by processes the tests start.

``install(directory)`` sets an OpenTelemetry SDK tracer provider that writes every finished
span to ``<directory>/<pid>.jsonl`` as it ends (no batching, no thread: a span is on disk
before the code that ended it goes on, and a forked gunicorn worker writes its own file).
Test-only: the split-mode tests load it in the services' processes through
``otel_startup/sitecustomize.py`` (``span_env``); ``read_spans`` reads them back.
"""

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

#: The variable that names the directory; set, it turns the exporter on at start-up.
DIRECTORY_VARIABLE = "EVENTBUS_TEST_SPANS_DIR"
ROOT = Path(__file__).resolve().parent.parent.parent
STARTUP = Path(__file__).resolve().parent / "otel_startup"


def span_env(directory: Path) -> dict[str, str]:
    """Environment variables under which a project process exports its spans to
    ``directory``: Python imports ``sitecustomize`` from PYTHONPATH at start-up."""
    path = os.pathsep.join(p for p in (str(STARTUP), str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {DIRECTORY_VARIABLE: str(directory), "PYTHONPATH": path}


def _hex(value: int, width: int) -> str:
    return f"{value:0{width}x}"


class JsonLinesExporter(SpanExporter):
    """Appends each span as one JSON line to the file of the process that ended it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = []
        for span in spans:
            context = span.get_span_context()
            assert context is not None
            lines.append(
                json.dumps(
                    {
                        "name": span.name,
                        "kind": span.kind.name,
                        "trace_id": _hex(context.trace_id, 32),
                        "span_id": _hex(context.span_id, 16),
                        "trace_flags": _hex(int(context.trace_flags), 2),
                        "parent_span_id": _hex(span.parent.span_id, 16) if span.parent else None,
                        "links": [
                            [_hex(link.context.trace_id, 32), _hex(link.context.span_id, 16)]
                            for link in span.links
                        ],
                        "attributes": dict(span.attributes or {}),
                        "status": span.status.status_code.name,
                        "pid": os.getpid(),
                        "argv": sys.argv,
                        "settings": os.environ.get("DJANGO_SETTINGS_MODULE", ""),
                    }
                )
            )
        with open(self.directory / f"{os.getpid()}.jsonl", "a", encoding="utf-8") as file:
            file.write("".join(line + "\n" for line in lines))
        return SpanExportResult.SUCCESS


def install(directory: Path) -> None:
    """Make an SDK provider exporting to ``directory`` the process's global one."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(directory)))
    trace.set_tracer_provider(provider)


@dataclass(frozen=True)
class SpanRecord:
    """One exported span as read back: what a test asserts on."""

    name: str
    kind: str
    trace_id: str
    span_id: str
    trace_flags: str
    parent_span_id: str | None
    links: list[tuple[str, str]]
    attributes: dict[str, Any]
    status: str
    pid: int
    argv: list[str]
    settings: str


def read_spans(directory: Path) -> list[SpanRecord]:
    """Every span the processes have written to ``directory`` so far (a line still being
    written, without its newline yet, is left for the next read)."""
    spans = []
    for path in sorted(directory.glob("*.jsonl")):
        complete, _, _ = path.read_text(encoding="utf-8").rpartition("\n")
        for line in complete.splitlines():
            row = json.loads(line)
            row["links"] = [tuple(link) for link in row["links"]]
            spans.append(SpanRecord(**row))
    return spans

"""A logging Filter that puts the bus's context on every record: correlation id and event.

Attach it to a handler (``"filters": {"bus": {"()": "eventbus.logcontext.BusContextFilter"}}``)
and every line carries ``correlation_id`` (``-`` outside any request, command or event) and,
while a handler runs, ``event_id`` and ``event``. The bus's own lines also carry ``handler``
and ``duration`` where they have them (passed as ``extra=``, which this filter never
overwrites). A JSON formatter shows them as fields; a text format can name
``%(correlation_id)s``.
"""

import logging
from typing import Any

from eventbus.context import current_correlation_id, current_envelope
from eventbus.envelope import Envelope

#: A correlation id for lines logged outside any unit of work.
NO_CORRELATION = "-"


def log_extra(envelope: Envelope, *, handler: str | None = None, **more: Any) -> dict[str, Any]:
    """What the bus passes as ``extra=`` on a line about ``envelope`` (and a handler):
    the fields the filter would add inside the handler, known outside it too."""
    extra: dict[str, Any] = {
        "correlation_id": envelope.correlation_id,
        "event_id": str(envelope.event_id),
        "event": envelope.name,
        **more,
    }
    if handler is not None:
        extra["handler"] = handler
    return extra


class BusContextFilter(logging.Filter):
    """Adds ``correlation_id`` always, and ``event_id`` and ``event`` while a handler runs;
    keeps any the record already has. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = record.__dict__
        envelope = current_envelope()
        if "correlation_id" not in fields:
            fields["correlation_id"] = current_correlation_id() or NO_CORRELATION
        if envelope is not None:
            fields.setdefault("event_id", str(envelope.event_id))
            fields.setdefault("event", envelope.name)
        return True

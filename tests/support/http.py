"""JSON over HTTP through urllib, as any client of the API would send it."""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any

    def __repr__(self) -> str:  # what an assertion shows
        return f"<{self.status} {self.body!r}>"


def http(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = None,
    correlation: str | None = None,
    timeout: float = 15,
) -> Response:
    """One JSON request; an HTTP error status is a Response too, never an exception."""
    headers = {"Accept": "application/json"}
    if correlation:
        headers["X-Correlation-ID"] = correlation
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            status, reply_headers, raw = reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        status, reply_headers, raw = error.code, dict(error.headers), error.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return Response(status, reply_headers, parsed)

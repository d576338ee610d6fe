"""Correlation ids for HTTP requests: taken from X-Correlation-ID or made, and echoed back."""

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from eventbus.context import correlation_scope

HEADER = "X-Correlation-ID"
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class CorrelationIdMiddleware:
    """Every event published while handling the request carries its correlation id.

    A client-supplied id is kept when it is 1-64 characters of letters, digits and ``._:-``;
    anything else is replaced by a new id rather than rejected.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get(HEADER, "")
        with correlation_scope(supplied if _VALID.fullmatch(supplied) else None) as correlation_id:
            response = self.get_response(request)
        response[HEADER] = correlation_id
        return response

"""Django's error views (handler400/403/404/500): JSON for paths under /api/, HTML elsewhere.

DRF renders the errors its views raise; these answer what happens outside a DRF view (no
URL matches, a request Django itself refuses, a crash before a view runs), so an API client
always reads ``{"detail": ...}`` and the admin and browsable pages keep Django's HTML pages.
With ``DEBUG`` on Django shows its technical pages instead, as it does for every handler.
"""

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

logger = logging.getLogger("config.errors")

API_PREFIX = "/api/"

BAD_REQUEST = "Bad request: the request could not be read. Check its headers and body."
PERMISSION_DENIED = "Forbidden: you may not do this with the credentials sent."
NOT_FOUND = "Not found: nothing is served at this address. GET /api/ lists the endpoints."
SERVER_ERROR = "Server error: the request was not completed. Try again later."
DATABASE_UNAVAILABLE = (
    "Service unavailable: the database cannot be reached just now. Try again in a few seconds."
)
#: The Retry-After of a 503 for a database that went away (a restart, a failover).
DATABASE_RETRY_AFTER_SECONDS = 5


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def api_error(detail: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return api_error(BAD_REQUEST, 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return api_error(PERMISSION_DENIED, 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return api_error(NOT_FOUND, 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return api_error(SERVER_ERROR, 500)
    return defaults.server_error(request)


class DatabaseUnavailableMiddleware:
    """A view that meets a database it cannot reach (a restart, a failover, a lock it gave
    up on: Django's OperationalError and InterfaceError) answers 503 with ``Retry-After``,
    not a 500: the request may well succeed when repeated, and a load balancer or client
    can tell. JSON under /api/, text elsewhere; logged as an error with its traceback.
    Nothing else is caught: every other crash stays a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error(
            "database unavailable on %s %s: %s",
            request.method,
            request.path,
            exception,
            exc_info=exception,
        )
        response: HttpResponse
        if is_api_request(request):
            response = api_error(DATABASE_UNAVAILABLE, 503)
        else:
            response = HttpResponse(DATABASE_UNAVAILABLE, status=503, content_type="text/plain")
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response

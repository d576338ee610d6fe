"""API errors as JSON: Django's error views (handler400/403/404/500) and the middleware that
holds the same under ``DEBUG``; JSON for paths under /api/, Django's HTML pages elsewhere.

DRF renders the errors its views raise; these answer what happens outside a DRF view (no
URL matches, a request Django itself refuses, a crash, a generic view's 405), so an API
client always reads ``{"detail": ...}`` and the admin and other pages keep Django's pages.
With ``DEBUG`` on Django bypasses handler404 and handler500 for its technical pages (whose
traceback it logs, on ``django.request``); ``ApiErrorsAsJsonMiddleware`` answers those as
JSON under /api/ too, so every settings module answers an API client alike.
"""

import json
import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework.response import Response

logger = logging.getLogger("config.errors")

API_PREFIX = "/api/"

BAD_REQUEST = "Bad request: the request could not be read. Check its headers and body."
PERMISSION_DENIED = "Forbidden: you may not do this with the credentials sent."
NOT_FOUND = "Not found: nothing is served at this address. GET /api/ lists the endpoints."
METHOD_NOT_ALLOWED = (
    "Method not allowed: this address does not answer that method. The Allow header lists "
    "those it does."
)
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


#: The errors Django itself answers (its error views, its DEBUG pages, a generic view's
#: 405), with the detail each answers under /api/.
API_ERROR_DETAILS = {
    400: BAD_REQUEST,
    403: PERMISSION_DENIED,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    500: SERVER_ERROR,
}


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


class ApiErrorsAsJsonMiddleware:
    """Under /api/, answer Django's own error pages as ``{"detail": ...}`` with their status,
    whatever ``DEBUG`` says: the technical 404 of an unmatched path, the technical 500 of a
    crash (400 of a suspicious request), a generic view's 405. Headers (``Allow``, the
    correlation id) and cookies are kept; only the body and its type change.

    Left as they are: every DRF ``Response`` (JSON, or the browsable API's HTML for a browser
    that asks for it), JSON already, other statuses (axes' 429 lockout page on the browsable
    API's login form) and every path outside /api/. Outermost, so it also sees the errors
    other middleware answer. Django has logged a crash's traceback before this runs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_api_request(request) and is_django_error_page(response):
            return as_api_error(response)
        return response


def is_django_error_page(response: HttpResponse) -> bool:
    return (
        response.status_code in API_ERROR_DETAILS
        and not isinstance(response, Response)
        and not response.streaming
        and not response.get("Content-Type", "").startswith("application/json")
    )


def as_api_error(response: HttpResponse) -> HttpResponse:
    """The page turned, in place, into the JSON error for its status: its other headers, its
    cookies and Django's note that it was logged (no second log line) are kept."""
    response["Content-Type"] = "application/json"
    response.content = json.dumps({"detail": API_ERROR_DETAILS[response.status_code]})
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(response.content))
    return response

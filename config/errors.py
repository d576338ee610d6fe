"""Django's error views (handler400/403/404/500): JSON for paths under /api/, HTML elsewhere.

DRF renders the errors its views raise; these answer what happens outside a DRF view (no
URL matches, a request Django itself refuses, a crash before a view runs), so an API client
always reads ``{"detail": ...}`` and the admin and browsable pages keep Django's HTML pages.
With ``DEBUG`` on Django shows its technical pages instead, as it does for every handler.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PREFIX = "/api/"

BAD_REQUEST = "Bad request: the request could not be read. Check its headers and body."
PERMISSION_DENIED = "Forbidden: you may not do this with the credentials sent."
NOT_FOUND = "Not found: nothing is served at this address. GET /api/ lists the endpoints."
SERVER_ERROR = "Server error: the request was not completed. Try again later."


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

"""/metrics for Prometheus (staff or a bearer token only); each request counted and logged."""

import hmac
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, Histogram

from eventbus import metrics

logger = logging.getLogger("config.requests")

HTTP_REQUESTS = Histogram(
    "http_server_request_duration_seconds",
    "HTTP requests by view, method and status, and how long they took.",
    ["view", "method", "status"],
)


class RequestMetricsMiddleware:
    """Times every request, labels it with the view's route name (``<unresolved>`` when no
    URL matched, so a scan of random paths cannot make labels without bound) and logs one
    line for it; inside CorrelationIdMiddleware, so the line carries the correlation id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        view = (match.view_name or match._func_path) if match else "<unresolved>"
        duration = time.perf_counter() - started
        method, status = request.method or "", response.status_code
        HTTP_REQUESTS.labels(view, method, str(status)).observe(duration)
        logger.info(
            "%s %s %s in %.1f ms",
            method,
            request.path,
            status,
            duration * 1000,
            extra={"view": view, "method": method, "status": status, "duration": duration},
        )
        return response


def _token_matches(request: HttpRequest) -> bool:
    expected: str = settings.METRICS_TOKEN
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    return (
        bool(expected)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(supplied.strip().encode(), expected.encode())
    )


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus exposition: 200 for a staff session or ``Authorization: Bearer
    $METRICS_TOKEN``; 401 for anyone else signed out, 403 for a signed-in non-staff user."""
    if not (_token_matches(request) or request.user.is_staff):
        if request.user.is_authenticated:
            return HttpResponse("Staff only.\n", status=403, content_type="text/plain")
        response = HttpResponse(
            "Sign in as staff or send Authorization: Bearer <METRICS_TOKEN>.\n",
            status=401,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)

"""A URLconf for the error-view tests: the project's URLs plus views that fail on purpose."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("planted crash")


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("planted suspicious request")


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def database_away(request: HttpRequest) -> HttpResponse:
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: refused")


urlpatterns = [
    path("api/crash/", crash),
    path("api/suspicious/", suspicious),
    path("api/forbidden/", forbidden),
    path("api/database-away/", database_away),
    path("site/crash/", crash),
    path("site/suspicious/", suspicious),
    path("site/forbidden/", forbidden),
    path("site/database-away/", database_away),
    *urlpatterns,
]

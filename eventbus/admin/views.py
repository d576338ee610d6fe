"""Staff pages of the bus in the admin: the event catalogue and a correlation-id trace.

Served under the outbox's admin URLs (``/admin/eventbus/outboxmessage/catalogue/`` and
``.../trace/``), behind the admin's login; a staff user also needs the permission to view
outbox messages, else 403.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from eventbus.contracts import catalog
from eventbus.operations.trace import correlation_trace

VIEW_PERMISSION = "eventbus.view_outboxmessage"


def _context(site: admin.AdminSite, request: HttpRequest, title: str) -> dict[str, object]:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied(
            "Viewing the event bus needs the permission to view outbox messages."
        )
    return {**site.each_context(request), "title": title, "opts": _opts()}


def _opts() -> object:
    from eventbus.models import OutboxMessage

    return OutboxMessage._meta


def catalogue_view(site: admin.AdminSite, request: HttpRequest) -> HttpResponse:
    """Every event version with its producer, flag and subscribers, and the trace form."""
    context = _context(site, request, "Event catalogue")
    context["entries"] = catalog.build()
    return TemplateResponse(request, "admin/eventbus/catalogue.html", context)


def trace_view(site: admin.AdminSite, request: HttpRequest) -> HttpResponse:
    """The events and deliveries of the correlation id in ``?correlation_id=``."""
    correlation_id = request.GET.get("correlation_id", "").strip()
    context = _context(site, request, "Trace a correlation id")
    context["correlation_id"] = correlation_id
    context["events"] = correlation_trace(correlation_id=correlation_id) if correlation_id else []
    return TemplateResponse(request, "admin/eventbus/trace.html", context)


def urls(site: admin.AdminSite) -> list[URLPattern]:
    """The pages' URL patterns, wrapped by ``site.admin_view`` (staff login required)."""
    return [
        path(
            "catalogue/",
            site.admin_view(lambda request: catalogue_view(site, request)),
            name="eventbus_catalogue",
        ),
        path(
            "trace/",
            site.admin_view(lambda request: trace_view(site, request)),
            name="eventbus_trace",
        ),
    ]

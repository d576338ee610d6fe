"""The operations dashboard in the admin: ``/admin/eventbus/dashboard/``.

The page needs ``eventbus.view_dashboard`` (the Dashboard proxy's permission; a superuser
has it). It renders ``operations.dashboard.dashboard()`` and nothing else. Its group actions
(POST to ``failures/``, with the admin's CSRF check) also need what the delivery admin's
actions declare: ``eventbus.change_delivery`` to retry a failed group,
``eventbus.change_deadletter`` to retry or discard a dead one. Without it the buttons are
not offered and a POST gets 403 with nothing run.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST, require_safe

from eventbus.admin.charts import LineChart, line_chart
from eventbus.admin.module_graph import module_graph
from eventbus.models import DeadLetter, Delivery
from eventbus.operations import failure_groups as groups
from eventbus.operations.dashboard import dashboard
from eventbus.operations.timeline import LATENCY_BOUNDS_MS, Timeline, latency_label

VIEW_PERMISSION = "eventbus.view_dashboard"

#: The latency chart's labelled buckets: ≤ 1 ms, ≤ 100 ms, ≤ 1 s, > 60 s.
LATENCY_TICKS = (0, 6, 9, len(LATENCY_BOUNDS_MS))


class DashboardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # see ReadOnlyAdmin
    """Lists the dashboard in the bus's section of the admin index and serves it at the
    changelist's URL; there is nothing to add, change or delete."""

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return bool(request.user.has_perm(VIEW_PERMISSION))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        site = self.admin_site
        return [
            path("", site.admin_view(self.dashboard_view), name="eventbus_dashboard_changelist"),
            path(
                "failures/",
                site.admin_view(self.group_action_view),
                name="eventbus_dashboard_group_action",
            ),
        ]

    def _may_operate(self, request: HttpRequest, status: str) -> bool:
        """The permission the delivery admin's retry and discard actions declare."""
        model = DeadLetter if status == Delivery.Status.DEAD else Delivery
        model_admin = self.admin_site.get_model_admin(model)
        return bool(model_admin.has_operate_permission(request))  # type: ignore[attr-defined]

    def _check_view(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied("The event bus dashboard needs eventbus.view_dashboard.")

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        return require_safe(self._dashboard)(request)

    def _dashboard(self, request: HttpRequest) -> HttpResponse:
        self._check_view(request)
        snapshot = dashboard()
        context = {
            **self.admin_site.each_context(request),
            "title": "Event bus dashboard",
            "opts": self.opts,
            "snapshot": snapshot,
            "dead_letters": sum(snapshot.gauges.dead_letters.values()),
            "charts": charts(snapshot.timeline),
            "latency": _overall_latency(snapshot.timeline),
            "graph": module_graph(snapshot.modules),
            "may_operate_failed": self._may_operate(request, Delivery.Status.FAILED),
            "may_operate_dead": self._may_operate(request, Delivery.Status.DEAD),
            "action_limit": groups.GROUP_ACTION_LIMIT,
        }
        return TemplateResponse(request, "admin/eventbus/dashboard.html", context)

    def group_action_view(self, request: HttpRequest) -> HttpResponse:
        return require_POST(self._group_action)(request)

    def _group_action(self, request: HttpRequest) -> HttpResponse:
        """Retry or discard one failure group, then back to the dashboard's failures."""
        self._check_view(request)
        statuses = groups.GROUPED_STATUSES
        if not any(self._may_operate(request, status) for status in statuses):
            raise PermissionDenied("You may not retry or discard deliveries.")
        action = request.POST.get("action", "")
        status = request.POST.get("status", "")
        handler = request.POST.get("handler", "")
        error_type = request.POST.get("error_type", "")
        if status not in statuses or not handler or not error_type:
            return HttpResponseBadRequest(
                "A group action needs handler, error_type and status (failed or dead)."
            )
        if action not in ("retry", "discard") or (action == "discard" and status != "dead"):
            return HttpResponseBadRequest(
                "action must be retry, or discard for a group of dead letters."
            )
        if not self._may_operate(request, status):
            raise PermissionDenied("You may not retry or discard these deliveries.")
        if action == "retry":
            self._retry(request, handler=handler, error_type=error_type, status=status)
        else:
            count = groups.failure_group_discard(handler=handler, error_type=error_type)
            messages.success(request, f"Discarded {count} dead letter(s) of {handler}.")
        return HttpResponseRedirect(reverse("admin:eventbus_dashboard_changelist") + "#failures")

    def _retry(self, request: HttpRequest, *, handler: str, error_type: str, status: str) -> None:
        retried = groups.failure_group_retry(handler=handler, error_type=error_type, status=status)
        succeeded = sum(1 for r in retried if r.outcome.status == Delivery.Status.SUCCEEDED)
        failed = len(retried) - succeeded
        messages.add_message(
            request,
            messages.SUCCESS if not failed else messages.WARNING,
            f"Retried {len(retried)} of {handler}: {succeeded} succeeded, {failed} failed.",
        )


def _overall_latency(timeline: Timeline) -> dict[str, str]:
    """The hour's p50 and p95 commit-to-dispatch labels, or none when nothing was dispatched."""
    buckets = {"p50": timeline.latency_overall(0.5), "p95": timeline.latency_overall(0.95)}
    return {name: latency_label(b) for name, b in buckets.items() if b is not None}


def charts(timeline: Timeline) -> list[LineChart]:
    """The three charts of the hour: backlog, deliveries a minute, latency percentiles."""
    times = [m.start for m in timeline.minutes]
    minutes = timeline.minutes
    return [
        line_chart(
            kind="backlog",
            title="Outbox backlog and events published a minute",
            times=times,
            series=[
                ("backlog (undispatched)", "backlog", [m.backlog for m in minutes]),
                ("published", "published", [m.published for m in minutes]),
            ],
            empty_text="Nothing published in the last hour, and no backlog.",
        ),
        line_chart(
            kind="deliveries",
            title="Deliveries a minute",
            times=times,
            series=[
                ("deliveries", "deliveries", [m.deliveries for m in minutes]),
                ("not succeeded", "unsettled", [m.unsettled for m in minutes]),
            ],
            empty_text="No delivery in the last hour.",
        ),
        line_chart(
            kind="latency",
            title="Commit to dispatch, p50 and p95",
            times=times,
            series=[
                ("p50", "p50", [m.latency_percentile(0.5) for m in minutes]),
                ("p95", "p95", [m.latency_percentile(0.95) for m in minutes]),
            ],
            empty_text="No delivery in the last hour.",
            y_label=lambda v: latency_label(int(v)),
            y_max=len(LATENCY_BOUNDS_MS),
            y_ticks=LATENCY_TICKS,
            zero_is_data=True,
        ),
    ]

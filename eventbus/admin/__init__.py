"""Admin for the bus tables: outbox messages, deliveries with their failed attempts, and dead
letters with retry actions; and the operations dashboard (eventbus.admin.dashboard)."""

import json
from typing import ClassVar

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import URLPattern
from django.utils.html import format_html

from eventbus.admin import views as admin_views
from eventbus.admin.dashboard import DashboardAdmin
from eventbus.models import Dashboard, DeadLetter, Delivery, DeliveryAttempt, OutboxMessage
from eventbus.operations import dead_letters


# ModelAdmin and TabularInline take a model type parameter only in django-stubs: Django's
# classes cannot be subscripted at run time (without django_stubs_ext.monkeypatch(), which
# the bus does not impose on a project), so each base below is left bare.
class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Bus rows are written by the bus; the admin shows them and acts through operations."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_operate_permission(self, request: HttpRequest) -> bool:
        """May this user act on the rows (retry, discard)? The model's own change permission
        (``<app>.change_<model>``) says so, although the rows stay read-only in the forms."""
        opts = self.opts
        codename = get_permission_codename("change", opts)
        return bool(request.user.has_perm(f"{opts.app_label}.{codename}"))


class DeliveryInline(admin.TabularInline):  # type: ignore[type-arg]  # see ReadOnlyAdmin
    model = Delivery
    fields = ("handler", "status", "attempts", "last_error", "next_attempt_at", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class DeliveryAttemptInline(admin.TabularInline):  # type: ignore[type-arg]  # see ReadOnlyAdmin
    """Every failed attempt of a delivery, oldest first, with its traceback."""

    model = DeliveryAttempt
    fk_name = "delivery"
    fields = ("number", "failed_at", "worker", "error", "failure_traceback")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "failed attempt"

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="traceback")
    def failure_traceback(self, obj: DeliveryAttempt) -> str:
        return format_html("<pre>{}</pre>", obj.traceback)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "name",
        "version",
        "producer",
        "occurred_at",
        "dispatched_at",
        "correlation_id",
    )
    list_filter = ("name", "producer", ("dispatched_at", admin.EmptyFieldListFilter))
    search_fields = ("=id", "=correlation_id", "=causation_id", "name")
    date_hierarchy = "occurred_at"
    readonly_fields = (
        "id",
        "name",
        "version",
        "producer",
        "occurred_at",
        "dispatched_at",
        "correlation_id",
        "causation_id",
        "pretty_payload",
    )
    exclude = ("payload",)
    inlines = [DeliveryInline]

    def get_urls(self) -> list[URLPattern]:  # the staff pages: catalogue, correlation trace
        return admin_views.urls(self.admin_site) + super().get_urls()

    @admin.display(description="payload")
    def pretty_payload(self, obj: OutboxMessage) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))


class DeliveryAdminBase(ReadOnlyAdmin):
    list_display = (
        "message_id",
        "event_name",
        "handler",
        "status",
        "attempts",
        "note",
        "next_attempt_at",
        "updated_at",
    )
    list_filter: ClassVar[tuple[str, ...]] = ("status", "handler", "message__name", "queue")
    search_fields = ("=message__id", "=message__correlation_id", "handler")
    list_select_related = ("message",)
    readonly_fields = (
        "message",
        "handler",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "updated_at",
        "queue",
        "priority",
        "last_error",
        "traceback",
    )
    exclude = ("last_traceback",)
    inlines = [DeliveryAttemptInline]
    actions: tuple[str, ...] = ("retry_now",)

    @admin.display(description="event", ordering="message__name")
    def event_name(self, obj: Delivery) -> str:
        return obj.message.name

    @admin.display(description="error or wait")
    def note(self, obj: Delivery) -> str:
        """The last error's first line; for a waiting delivery, the event it waits for."""
        lines = obj.last_error.strip().splitlines()
        first = lines[0] if lines else ""
        return first if len(first) <= 100 else first[:99] + "…"

    @admin.display(description="last traceback")
    def traceback(self, obj: Delivery) -> str:
        return format_html("<pre>{}</pre>", obj.last_traceback)

    @admin.action(description="Retry the selected deliveries now", permissions=["operate"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        outcomes = [
            r.outcome for r in dead_letters.retry_deliveries(queryset.values_list("pk", flat=True))
        ]
        succeeded = sum(1 for o in outcomes if o.status == Delivery.Status.SUCCEEDED)
        failed = len(outcomes) - succeeded
        self.message_user(
            request,
            f"Retried {len(outcomes)}: {succeeded} succeeded, {failed} failed.",
            messages.SUCCESS if not failed else messages.WARNING,
        )


@admin.register(Delivery)
class DeliveryAdmin(DeliveryAdminBase):
    pass


@admin.register(DeadLetter)
class DeadLetterAdmin(DeliveryAdminBase):
    list_filter = ("handler", "message__name")
    actions = ("retry_now", "discard")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        return super().get_queryset(request).filter(status=Delivery.Status.DEAD)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(
        description="Discard the selected dead letters (kept on record, never retried)",
        permissions=["operate"],
    )
    def discard(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = dead_letters.discard_dead_letters(queryset.values_list("pk", flat=True))
        self.message_user(request, f"Discarded {count} dead letter(s).", messages.SUCCESS)


admin.site.register(Dashboard, DashboardAdmin)

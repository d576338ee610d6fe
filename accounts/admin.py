"""accounts admin: users (deactivation through the service) and the read-only order records."""

from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from accounts.exceptions import DeactivationForbidden
from accounts.models import OrderRecord, User
from accounts.services.users import user_deactivate, user_register

PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


class UserAdminCreationForm(UserCreationForm[User]):
    """Username, email and a password twice; saved through ``user_register``."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users. Identity and profile fields are read-only here: they change through the
    services (the API, the deactivate action) so that each change publishes its event."""

    add_form = UserAdminCreationForm
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )
    list_display = ("username", "email", "is_active", "is_staff", "date_joined", "profile_version")
    list_filter = ("is_active", "is_staff", "is_superuser", "date_joined")
    search_fields = ("username", "email", "first_name", "last_name")
    ordering = ("-date_joined",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,  # type: ignore[misc]  # a tuple; the stubs say Optional
        ("Profile", {"fields": ("profile_version",)}),
    )
    actions = ["deactivate_selected"]

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        """A superuser's row (its password and rights included) is changed by superusers only."""
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        # Only a superuser hands out rights: anyone else granting them could grant their own.
        rights = () if request.user.is_superuser else PRIVILEGE_FIELDS
        return (
            *rights,
            "username",
            "email",
            "first_name",
            "last_name",
            "is_active",
            "profile_version",
            "last_login",
            "date_joined",
        )

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new user goes through the service, so accounts.user_registered is published.
        user = user_register(
            username=obj.username, email=obj.email, password=form.cleaned_data["password1"]
        )
        obj.pk, obj.password, obj.date_joined = user.pk, user.password, user.date_joined
        obj._state.adding, obj._state.db = False, user._state.db

    @admin.action(description="Deactivate selected users", permissions=["change"])
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """Deactivate each selected active user through the service (each in its own
        transaction); a user the staff member may not deactivate is reported, not changed."""
        acting = cast(User, request.user)
        deactivated = 0
        for user in queryset.filter(is_active=True).order_by("pk"):
            try:
                user_deactivate(user=user, reason="staff", by=acting)
            except DeactivationForbidden as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                deactivated += 1
        self.message_user(request, f"Deactivated {deactivated} user(s).", messages.SUCCESS)


@admin.register(OrderRecord)
class OrderRecordAdmin(admin.ModelAdmin):
    """What accounts learnt from order events; written only by the order event handlers."""

    list_display = ("order_id", "user", "total", "currency", "placed", "cancelled", "updated_at")
    list_filter = ("placed", "cancelled", "currency")
    search_fields = ("order_id", "user__username", "user__email")
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

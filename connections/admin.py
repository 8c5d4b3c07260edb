"""The Django admin for support staff: find deleted connections, see history, restore."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult

from connections import services, tasks
from connections.models import (
    ConnectionEvent,
    ERPConnection,
    PriceList,
    Product,
    SyncConnection,
)


def _staff_user(request: HttpRequest) -> User:
    """The acting user: the admin site only serves logged-in, active staff (``admin_view``)."""
    return cast(User, request.user)


class DeletedFilter(admin.SimpleListFilter):
    title = _("Deleted")
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


class AvailabilityFilter(admin.SimpleListFilter):
    title = _("Availability")
    parameter_name = "available"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Available")), ("no", _("Unavailable"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(available=True)
        if self.value() == "no":
            return queryset.filter(available=False)
        return queryset


HEALTH_CHECK_RESULTS_SHOWN = 20


class ConnectionEventInline(admin.TabularInline):
    model = ConnectionEvent
    extra = 0
    can_delete = False
    # A tuple: it fits both ``fields`` and ``readonly_fields`` as django-stubs types them.
    fields = readonly_fields = ("at", "action", "actor", "changes")
    ordering = ["-at", "-pk"]
    verbose_name_plural = _("History")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ERPConnection)
class ERPConnectionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "connector_key",
        "scope",
        "available",
        "last_check_display",
        "is_deleted_display",
        "deleted_by",
        "deleted_at",
    ]
    list_filter = [DeletedFilter, AvailabilityFilter, "connector_key", "scope"]
    search_fields = ["name"]
    actions = ["restore_selected"]
    filter_horizontal = ["users", "groups"]
    fieldsets = [
        (None, {"fields": ["name", "connector_key", "description"]}),
        (_("Scope"), {"fields": ["scope", "users", "groups"]}),
        (_("Configuration"), {"fields": ["sync_connection", "configuration"]}),
        (
            _("Status"),
            {
                "fields": [
                    "created_at",
                    "created_by",
                    "updated_at",
                    "updated_by",
                    "deleted_at",
                    "deleted_by",
                    "last_test_at",
                    "last_test_by",
                    "last_test_status",
                    "last_test_message",
                    "last_test_automatic",
                ]
            },
        ),
        (
            _("Availability"),
            {
                "fields": [
                    "available",
                    "availability_message",
                    "availability_changed_at",
                    "health_check_results",
                ]
            },
        ),
    ]
    readonly_fields = [
        "connector_key",
        "sync_connection",
        "configuration",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "deleted_at",
        "deleted_by",
        "last_test_at",
        "last_test_by",
        "last_test_status",
        "last_test_message",
        "last_test_automatic",
        "available",
        "availability_message",
        "availability_changed_at",
        "health_check_results",
    ]
    inlines = [ConnectionEventInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return ERPConnection.all_objects.select_related("deleted_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A connection is only created through the dialog, where its test must pass first.
        return False

    def has_restore_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connections.restore_erpconnection")

    @admin.display(description=_("Deleted"), boolean=True)
    def is_deleted_display(self, obj: ERPConnection) -> bool:
        return obj.is_deleted

    @admin.display(description=_("Last check"), ordering="last_test_at")
    def last_check_display(self, obj: ERPConnection) -> str:
        """When the last test or check ran, its status, and whether it was automatic."""
        if obj.last_test_at is None:
            return str(_("Not tested"))
        when = date_format(timezone.localtime(obj.last_test_at), "SHORT_DATETIME_FORMAT")
        how = _("automatic check") if obj.last_test_automatic else _("manual test")
        return f"{when} · {obj.last_test_status_label} ({how})"

    @admin.display(description=_("Health check tasks"))
    def health_check_results(self, obj: ERPConnection) -> str:
        """The latest health-check task results of this connection (django-tasks-db)."""
        results = DBTaskResult.objects.filter(
            task_path=f"{tasks.connection_health_check.module_path}",
            args_kwargs__kwargs__connection_id=obj.pk,
        ).order_by("-enqueued_at")[:HEALTH_CHECK_RESULTS_SHOWN]
        rows = [
            (
                reverse("admin:django_tasks_database_dbtaskresult_change", args=[result.pk]),
                date_format(timezone.localtime(result.enqueued_at), "SHORT_DATETIME_FORMAT"),
                result.get_status_display(),
                (result.return_value or {}).get("status", "-"),
                (result.return_value or {}).get("message", ""),
            )
            for result in results
        ]
        if not rows:
            return "-"
        header = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("Enqueued"),
            _("Task"),
            _("Result"),
            _("Message"),
        )
        body = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
            rows,
        )
        return format_html('<table class="health-checks">{}{}</table>', header, body)

    @admin.display(description=_("Configuration"))
    def configuration(self, obj: ERPConnection) -> str:
        """Non-secret values only; secret fields are named, their values never shown."""
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", sorted(obj.config.items()))
        return format_html('<table class="configuration">{}</table>', rows) if obj.config else "-"

    @admin.action(description=_("Restore selected ERP connections"), permissions=["restore"])
    def restore_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        restored, refused = services.connections_restore(
            actor=_staff_user(request), connections=queryset.filter(deleted_at__isnull=False)
        )
        for message in refused:
            self.message_user(request, message, messages.ERROR)
        if restored:
            self.message_user(request, services.restored_message(len(restored)), messages.SUCCESS)

    def delete_model(self, request: HttpRequest, obj: ERPConnection) -> None:
        services.connection_delete(actor=_staff_user(request), connection=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.connections_delete(actor=_staff_user(request), connections=list(queryset))

    def save_model(self, request: HttpRequest, obj: ERPConnection, form: Any, change: bool) -> None:
        obj.updated_by = _staff_user(request)
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            services.event_record(
                connection=obj,
                actor=_staff_user(request),
                action=ConnectionEvent.Action.CHANGE,
                changes={"fields": sorted(form.changed_data)},
            )


@admin.register(SyncConnection)
class SyncConnectionAdmin(admin.ModelAdmin):
    list_display = ["name", "sync_connector", "active", "deleted_at"]
    list_filter = [DeletedFilter, "active"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return SyncConnection.all_objects.all()


class ProductInline(admin.TabularInline):
    model = Product
    extra = 1


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ["name", "currency", "active", "valid_from", "valid_to"]
    list_filter = ["active", "currency"]
    search_fields = ["name"]
    inlines = [ProductInline]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "price", "vat", "unit", "price_list"]
    list_filter = ["price_list"]
    search_fields = ["code", "name"]

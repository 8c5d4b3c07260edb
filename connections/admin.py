"""The Django admin for support staff: find deleted connections, see history, restore."""

from __future__ import annotations

import copy
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult

from connections import history, services, sync_services, tasks
from connections.models import (
    ConnectionEvent,
    ERPConnection,
    PriceList,
    Product,
    SyncConnection,
)
from connections.names import name_key, validate_name
from connectors import registry

MANAGE_PERMISSION = "connections.manage_erpconnection"


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


class ConnectorFilter(admin.SimpleListFilter):
    """The installed connectors by label (and any key no longer installed, as it is)."""

    title = _("Quote connector")
    parameter_name = "connector"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        installed = {cls.key: cls.label for cls in registry.connector_classes()}
        used = ERPConnection.all_objects.values_list("connector_key", flat=True).distinct()
        missing = {key: key for key in used if key not in installed}
        return sorted({**installed, **missing}.items(), key=lambda item: str(item[1]).lower())

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(connector_key=self.value()) if self.value() else queryset


class ScopeFilter(admin.SimpleListFilter):
    """Scope, without a second "All": the filter's own "All" means "any scope"."""

    title = _("Scope")
    parameter_name = "scope"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            (ERPConnection.Scope.ALL, _("Everyone (scope All)")),
            (ERPConnection.Scope.SPECIFIC, ERPConnection.Scope.SPECIFIC.label),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(scope=self.value()) if self.value() else queryset


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
    fields = readonly_fields = ("at", "action_words", "by", "summary")
    ordering = ["-at", "-pk"]
    verbose_name_plural = _("History")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor", "connection")

    @admin.display(description=_("Action"))
    def action_words(self, obj: ConnectionEvent) -> str:
        return history.event_action(obj)

    @admin.display(description=_("By"))
    def by(self, obj: ConnectionEvent) -> str:
        return history.person(obj.actor)

    @admin.display(description=_("Changes"))
    def summary(self, obj: ConnectionEvent) -> str:
        """The changed fields in words; never a secret value (none is recorded)."""
        lines = history.event_lines(obj)
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines)) or "-"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NamedModelForm(forms.ModelForm):
    """The name's rules in the admin: no hidden characters, unique among live rows by its
    normalised key (the key is no form field, so the model form cannot check it)."""

    taken_message = _("A live connection with this name already exists.")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        validate_name(name)
        model = type(self.instance)
        taken = model._default_manager.filter(name_key=name_key(name), deleted_at__isnull=True)
        if self.instance.pk is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if self.instance.deleted_at is None and taken.exists():
            raise ValidationError(self.taken_message, code="name_taken")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        model = type(self.instance)
        pk = self.instance.pk
        if pk is not None and model._base_manager.filter(pk=pk, deleted_at__isnull=False).exists():
            raise ValidationError(
                _("This connection was deleted meanwhile. Restore it first."), code="deleted"
            )
        return cleaned


class ERPConnectionForm(NamedModelForm):
    class Meta:
        model = ERPConnection
        fields = ["name", "description", "scope", "users", "groups"]


@admin.register(ERPConnection)
class ERPConnectionAdmin(admin.ModelAdmin):
    form = ERPConnectionForm
    list_display = [
        "name",
        "connector_display",
        "scope",
        "available",
        "last_check_display",
        "is_deleted_display",
        "deleted_by_display",
        "deleted_at",
    ]
    list_filter = [DeletedFilter, AvailabilityFilter, ConnectorFilter, ScopeFilter]
    search_fields = ["name"]
    actions = ["restore_selected"]
    filter_horizontal = ["users", "groups"]
    fieldsets = [
        (None, {"fields": ["name", "connector_display", "description"]}),
        (_("Scope"), {"fields": ["scope", "users", "groups"]}),
        (_("Configuration"), {"fields": ["sync_connection", "configuration"]}),
        (
            _("Status"),
            {
                "fields": [
                    "created_at",
                    "created_by_display",
                    "updated_at",
                    "updated_by_display",
                    "deleted_at",
                    "deleted_by_display",
                    "last_test_at",
                    "last_test_by_display",
                    "last_test_status_display",
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
        "connector_display",
        "sync_connection",
        "configuration",
        "created_at",
        "created_by_display",
        "updated_at",
        "updated_by_display",
        "deleted_at",
        "deleted_by_display",
        "last_test_at",
        "last_test_by_display",
        "last_test_status_display",
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

    @admin.display(description=_("Quote connector"), ordering="connector_key")
    def connector_display(self, obj: ERPConnection) -> str:
        return obj.connector_label

    @admin.display(description=_("Deleted by"), ordering="deleted_by")
    def deleted_by_display(self, obj: ERPConnection) -> str:
        return history.person(obj.deleted_by) if obj.deleted_by_id else "-"

    @admin.display(description=_("Created by"))
    def created_by_display(self, obj: ERPConnection) -> str:
        return history.person(obj.created_by) if obj.created_by_id else "-"

    @admin.display(description=_("Updated by"))
    def updated_by_display(self, obj: ERPConnection) -> str:
        return history.person(obj.updated_by) if obj.updated_by_id else "-"

    @admin.display(description=_("Last tested by"))
    def last_test_by_display(self, obj: ERPConnection) -> str:
        return history.person(obj.last_test_by) if obj.last_test_by_id else "-"

    @admin.display(description=_("Last test status"))
    def last_test_status_display(self, obj: ERPConnection) -> str:
        return obj.last_test_status_label or "-"

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """Deleting is soft: only the connections themselves are named, not their history
        (which stays) nor the user and group links (which stay for a restore)."""
        _to_delete, _model_count, perms_needed, protected = super().get_deleted_objects(
            objs, request
        )
        objs = list(objs)
        count = {ERPConnection._meta.verbose_name_plural: len(objs)}
        return [str(obj) for obj in objs], count, perms_needed, protected

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Django's *History* (admin changes, as LogEntry) and the connection's own history."""
        connection = ERPConnection.all_objects.filter(pk=object_id).first()
        context = {
            **(extra_context or {}),
            "connection_history": (
                history.connection_history(connection=connection) if connection else []
            ),
        }
        return super().history_view(request, object_id, extra_context=context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A connection is only created through the dialog, where its test must pass first.
        return False

    def has_restore_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connections.restore_erpconnection")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.deleted_at is not None:
            return False  # deleted: read-only until restored
        return super().has_change_permission(request, obj)

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
        for connection in restored:  # Django's own trail: the History button lists it
            self.log_change(request, connection, str(_("Restored.")))
        if restored:
            self.message_user(request, services.restored_message(len(restored)), messages.SUCCESS)

    def delete_model(self, request: HttpRequest, obj: ERPConnection) -> None:
        services.connection_delete(actor=_staff_user(request), connection=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.connections_delete(actor=_staff_user(request), connections=list(queryset))

    def save_model(self, request: HttpRequest, obj: ERPConnection, form: Any, change: bool) -> None:
        """Through the service: only what changed is written, onto the locked row."""
        base = copy.copy(obj)  # the connection as the form showed it
        for field in ("name", "description", "scope"):
            setattr(base, field, form.initial.get(field))
        try:
            saved = services.connection_update_details(
                actor=_staff_user(request),
                connection=base,
                name=form.cleaned_data["name"],
                description=form.cleaned_data.get("description", ""),
                scope=form.cleaned_data["scope"],
                users=form.cleaned_data.get("users") or [],
                groups=form.cleaned_data.get("groups") or [],
            )
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        obj.version = saved.version

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Users and groups were set by the service (with the scope): no form.save_m2m().
        # The history inline is read-only; saving its formset changes nothing.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class SyncConnectionForm(NamedModelForm):
    taken_message = _("A live sync connection with this name already exists.")

    class Meta:
        model = SyncConnection
        fields = ["name", "sync_connector", "active", "description"]


@admin.register(SyncConnection)
class SyncConnectionAdmin(admin.ModelAdmin):
    """Administrators (manage permission) and the Support group add and change sync
    connections here (PRODUCT.md 3.3); deleting is soft, and a restore brings one back."""

    form = SyncConnectionForm
    list_display = ["name", "sync_connector_display", "active", "is_deleted_display", "deleted_at"]

    @admin.display(description=_("Sync connector"), ordering="sync_connector")
    def sync_connector_display(self, obj: SyncConnection) -> str:
        return obj.sync_connector_label

    list_filter = [DeletedFilter, "active"]
    search_fields = ["name"]
    actions = ["restore_selected"]
    readonly_fields = ["created_at", "deleted_at", "deleted_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return SyncConnection.all_objects.select_related("deleted_by")

    def _manages(self, request: HttpRequest) -> bool:
        return bool(request.user.is_staff and request.user.has_perm(MANAGE_PERMISSION))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._manages(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._manages(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._manages(request) or super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._manages(request) or super().has_delete_permission(request, obj)

    def has_restore_permission(self, request: HttpRequest) -> bool:
        return self.has_delete_permission(request)

    @admin.display(description=_("Deleted"), boolean=True)
    def is_deleted_display(self, obj: SyncConnection) -> bool:
        return obj.deleted_at is not None

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.deleted_at is not None:
            return False  # deleted: read-only until restored
        return self._manages(request) or super().has_change_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: SyncConnection, form: Any, change: bool
    ) -> None:
        try:
            sync_services.sync_connection_save(sync_connection=obj, fields=form.changed_data)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """A soft delete removes nothing else; live ERP connections using one protect it."""
        objs = list(objs)
        protected = [
            f"{ERPConnection._meta.verbose_name}: {connection}"
            for obj in objs
            for connection in sync_services.sync_connection_users(sync_connection=obj)
        ]
        counts = {SyncConnection._meta.verbose_name_plural: len(objs)}
        return [str(obj) for obj in objs], counts, set(), protected

    def delete_model(self, request: HttpRequest, obj: SyncConnection) -> None:
        self.delete_queryset(request, SyncConnection.all_objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for sync_connection in queryset.order_by("pk"):
            try:
                sync_services.sync_connection_delete(
                    actor=_staff_user(request), sync_connection=sync_connection
                )
            except ValidationError as exc:  # taken into use meanwhile
                self.message_user(request, " ".join(exc.messages), messages.ERROR)

    @admin.action(description=_("Restore selected sync connections"), permissions=["restore"])
    def restore_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        restored = 0
        for sync_connection in queryset.filter(deleted_at__isnull=False).order_by("pk"):
            try:
                sync_services.sync_connection_restore(sync_connection=sync_connection)
                restored += 1
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
        if restored:
            self.message_user(request, services.restored_message(restored), messages.SUCCESS)


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

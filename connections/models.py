"""ERP connections, sync connections, the product register and the history of changes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Group, User
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from connections.names import NameKeyField
from connectors import registry


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self) -> SoftDeleteQuerySet:
        return self.filter(deleted_at__isnull=True)

    def deleted(self) -> SoftDeleteQuerySet:
        return self.filter(deleted_at__isnull=False)


class AliveManager(models.Manager):
    """``objects``: only rows that are not deleted. ``all_objects`` sees everything."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(deleted_at__isnull=True)


# The sync connectors this product knows, by key (a key not listed is shown as it is).
SYNC_CONNECTOR_LABELS = {"erp_sync": _("ERP synchronisation")}


class SyncConnection(models.Model):
    """A connection of an installed sync connector; a quote connection may use one."""

    name = models.CharField(_("Name"), max_length=100)
    # Uniqueness among live sync connections is decided on this key (connections.names).
    name_key = NameKeyField(source="name")
    sync_connector = models.CharField(_("Sync connector"), max_length=100)
    description = models.TextField(_("Description"), max_length=2000, blank=True)
    active = models.BooleanField(_("Active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = AliveManager.from_queryset(SoftDeleteQuerySet)()
    all_objects = SoftDeleteQuerySet.as_manager()

    class Meta:
        verbose_name = _("sync connection")
        verbose_name_plural = _("sync connections")
        ordering = ["name"]
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(
                fields=["name_key"],
                condition=Q(deleted_at__isnull=True),
                name="unique_live_sync_connection_name_key",
                violation_error_message=_("A live sync connection with this name already exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def sync_connector_label(self) -> str:
        return str(SYNC_CONNECTOR_LABELS.get(self.sync_connector, self.sync_connector))


class ConnectionQuerySet(SoftDeleteQuerySet):
    def visible_to(self, user: User | AnonymousUser) -> ConnectionQuerySet:
        """Connections whose scope includes the user; superusers see all, anonymous none."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        listed = ERPConnection.users.through.objects.filter(user=user).values("erpconnection_id")
        via_group = ERPConnection.groups.through.objects.filter(group__in=user.groups.all()).values(
            "erpconnection_id"
        )
        return self.filter(
            Q(scope=ERPConnection.Scope.ALL) | Q(pk__in=listed) | Q(pk__in=via_group)
        )

    def in_scope_of(self, user: User | AnonymousUser) -> ConnectionQuerySet:
        """Connections whose scope includes the user: *All*, the user listed, or a group of
        the user listed. No exception for superusers (the quote side follows the scope);
        inactive and anonymous users get none. One query, whatever the sizes."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        listed = ERPConnection.users.through.objects.filter(user_id=user.pk).values(
            "erpconnection_id"
        )
        user_groups = User.groups.through.objects.filter(user_id=user.pk).values("group_id")
        via_group = ERPConnection.groups.through.objects.filter(group_id__in=user_groups).values(
            "erpconnection_id"
        )
        # One UNION of three index lookups instead of an OR over every row: with the index on
        # scope, the cost follows the user's connections, not all connections. Each lookup
        # reads its index alone, never the table (migration 0010).
        for_all = ERPConnection.all_objects.filter(scope=ERPConnection.Scope.ALL).values("pk")
        return self.filter(pk__in=for_all.union(listed, via_group, all=True))

    def available(self) -> ConnectionQuerySet:
        """Connections whose last health check (or test of the saved values) succeeded."""
        return self.filter(available=True)

    def unavailable(self) -> ConnectionQuerySet:
        """Connections whose last health check (or test of the saved values) failed."""
        return self.filter(available=False)


TEST_STATUS_LABELS = {
    "ok": _("OK"),
    "ok_with_info": _("OK with information"),
    "warning": _("Warning"),
    "error": _("Error"),
}


class ERPConnection(models.Model):
    """A configured quote connector: where a quote's products and prices come from.

    Non-secret configuration values live in ``config`` (JSON); secret values are encrypted
    at rest in ``secrets``. Deleting is soft: ``deleted_at``/``deleted_by`` are set and every
    other field is kept, so a restore brings the connection back exactly as it was.
    """

    class Scope(models.TextChoices):
        ALL = "all", _("All")
        SPECIFIC = "specific", _("Specific users and groups")

    name = models.CharField(_("Name"), max_length=100)
    # Uniqueness among live connections is decided on this key (connections.names).
    name_key = NameKeyField(source="name")
    connector_key = models.CharField(_("Quote connector"), max_length=100)
    description = models.TextField(_("Description"), max_length=2000, blank=True)
    scope = models.CharField(_("Scope"), max_length=10, choices=Scope.choices, default=Scope.ALL)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="erp_connections",
        verbose_name=_("Users"),
    )
    groups = models.ManyToManyField(
        Group, blank=True, related_name="erp_connections", verbose_name=_("Groups")
    )
    sync_connection = models.ForeignKey(
        SyncConnection,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="erp_connections",
        verbose_name=_("ERP connection"),
    )
    config = models.JSONField(_("Configuration"), default=dict, blank=True)
    # The connector's ``config_version`` the stored configuration was saved under.
    config_version = models.PositiveIntegerField(
        _("Configuration version"), default=1, editable=False
    )
    secrets = models.TextField(_("Secrets (encrypted)"), blank=True, default="", editable=False)

    created_at = models.DateTimeField(_("Created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Created by"),
    )
    updated_at = models.DateTimeField(_("Updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Updated by"),
    )
    deleted_at = models.DateTimeField(_("Deleted at"), null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Deleted by"),
    )

    last_test_at = models.DateTimeField(_("Last test"), null=True, blank=True, editable=False)
    last_test_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Last tested by"),
    )
    last_test_status = models.CharField(_("Last test status"), max_length=20, blank=True)
    last_test_message = models.TextField(_("Last test message"), blank=True)
    # Incremented by every save (create, change, delete, restore); a test's proof names the
    # version it tested, so a proof issued before the last change is refused.
    version = models.PositiveIntegerField(_("Version"), default=1, editable=False)
    last_test_automatic = models.BooleanField(
        _("Automatic check"),
        default=False,
        editable=False,
        help_text=_("The last test was the automatic health check."),
    )

    # Availability (PRODUCT.md section 12): set by the health check and by tests of the saved
    # values; an unavailable connection is not offered on the quote side.
    available = models.BooleanField(_("Available"), default=True, editable=False)
    availability_message = models.TextField(
        _("Why unavailable"), blank=True, default="", editable=False
    )
    availability_changed_at = models.DateTimeField(
        _("Availability changed at"), null=True, blank=True, editable=False
    )
    # The health-check interval this connection was last claimed for, and by which scheduler
    # run: a conditional UPDATE on these keeps two schedulers from checking it twice.
    health_slot = models.DateTimeField(null=True, blank=True, editable=False)
    health_claim = models.CharField(max_length=32, blank=True, default="", editable=False)

    objects = AliveManager.from_queryset(ConnectionQuerySet)()
    all_objects = ConnectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("ERP connection")
        verbose_name_plural = _("ERP connections")
        ordering = ["name"]
        base_manager_name = "all_objects"
        permissions = [
            ("manage_erpconnection", "Can manage ERP connections"),
            ("restore_erpconnection", "Can restore deleted ERP connections"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["name_key"],
                condition=Q(deleted_at__isnull=True),
                name="unique_live_erp_connection_name_key",
                violation_error_message=_("A live connection with this name already exists."),
            )
        ]
        indexes = [
            # The scope lookup of in_scope_of reads only this index (migration 0010).
            models.Index(fields=["scope", "id"], name="erpconnection_scope_id"),
            # The live list's count, searched or not (selectors.connection_list), read from
            # the index alone, never from the table's wide rows.
            models.Index(
                fields=["deleted_at", "name_key"],
                condition=Q(deleted_at__isnull=True),
                name="erp_connection_count",
            ),
            # The live list's sort; with name_key, a search reads only the index until its
            # page is full.
            models.Index(
                Lower("name"),
                F("name_key"),
                condition=Q(deleted_at__isnull=True),
                name="erp_connection_live_name",
            ),
            # The Deleted view's sort and count.
            models.Index(
                Lower("name"),
                condition=Q(deleted_at__isnull=False),
                name="erp_connection_deleted_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def connector_label(self) -> str:
        """The installed connector's label, or its key when it is not installed (any more)."""
        return connector_label(self.connector_key)

    @property
    def last_test_status_label(self) -> str:
        return str(TEST_STATUS_LABELS.get(self.last_test_status, self.last_test_status))

    @property
    def unavailable_message(self) -> str:
        """Why the connection is unavailable, for the list and the quote side ("" if it is)."""
        return unavailable_message(self.available, self.availability_message)


def connector_label(key: str) -> str:
    """The installed connector's label, or its key when it is not installed (any more)."""
    try:
        return str(registry.get_connector_class(key).label)
    except registry.UnknownConnector:
        return key


def unavailable_message(available: bool, message: str) -> str:
    """Why a connection is unavailable ("" when it is available)."""
    if available:
        return ""
    return message or str(_("The last check of this connection failed."))


class SpentProof(models.Model):
    """A test proof that allowed a save: a proof allows one save only (PRODUCT.md 5).

    Written in the save's transaction, so a refused save leaves the proof unspent; the
    unique nonce makes two saves racing with one proof end in one save. Rows older than a
    proof's lifetime are pruned as new ones arrive.
    """

    nonce = models.CharField(max_length=64, unique=True)
    spent_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("spent test proof")
        verbose_name_plural = _("spent test proofs")

    def __str__(self) -> str:
        return f"{self.nonce} {self.spent_at:%Y-%m-%d %H:%M}"


class ConnectionEvent(models.Model):
    """The history of a connection: who did what when, and which fields changed.

    ``changes`` maps field names to ``[old, new]``; secret fields appear only as
    ``"changed"``, never with a value.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        CHANGE = "change", _("Changed")
        TEST = "test", _("Tested")
        CHECK = "check", _("Checked automatically")
        DELETE = "delete", _("Deleted")
        RESTORE = "restore", _("Restored")

    connection = models.ForeignKey(ERPConnection, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("Action"), max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("By"),
    )
    at = models.DateTimeField(_("When"), auto_now_add=True)
    changes: models.JSONField[Any, Any] = models.JSONField(_("Changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.connection_id} {self.at:%Y-%m-%d %H:%M}"


class PriceList(models.Model):
    """A price list of the built-in product register."""

    name = models.CharField(_("Name"), max_length=100)
    currency = models.CharField(_("Currency"), max_length=3, default="EUR")
    active = models.BooleanField(_("Active"), default=True)
    valid_from = models.DateField(_("Valid from"), null=True, blank=True)
    valid_to = models.DateField(_("Valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class Product(models.Model):
    """A product with its price on one price list of the built-in product register."""

    price_list = models.ForeignKey(
        PriceList, on_delete=models.CASCADE, related_name="products", verbose_name=_("price list")
    )
    code = models.CharField(_("Code"), max_length=50)
    name = models.CharField(_("Name"), max_length=200)
    price = models.DecimalField(_("Price"), max_digits=14, decimal_places=4)
    vat = models.DecimalField(_("VAT (%)"), max_digits=5, decimal_places=2, default=21)
    unit = models.CharField(_("Unit"), max_length=20, default="pcs")

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "code"], name="unique_product_per_list")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

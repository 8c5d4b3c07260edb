"""Business logic for sync connections (managed in the admin, PRODUCT.md 3.3): saves that
write only what changed onto the locked row, soft delete and restore."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.models import ERPConnection, SyncConnection
from connections.names import name_key, validate_name
from connections.services import ConnectionInvalid


def _name_taken() -> ConnectionInvalid:
    return ConnectionInvalid(
        {"name": _("A live sync connection with this name already exists.")}, code="name_taken"
    )


def _save(sync_connection: SyncConnection, update_fields: list[str] | None = None) -> None:
    sync_connection.name_key = name_key(sync_connection.name)
    try:
        sync_connection.validate_constraints()
        with transaction.atomic():
            sync_connection.save(update_fields=update_fields)
    except (ValidationError, IntegrityError):
        raise _name_taken() from None


def _locked(sync_connection: SyncConnection) -> SyncConnection:
    return SyncConnection.all_objects.select_for_update().get(pk=sync_connection.pk)


@transaction.atomic
def sync_connection_save(
    *, sync_connection: SyncConnection, fields: Iterable[str] = ()
) -> SyncConnection:
    """Create ``sync_connection``, or write its ``fields`` onto the row as it is now.

    Refused when the name cannot be shown or is taken, or when the row was deleted
    meanwhile.
    """
    sync_connection.name = sync_connection.name.strip()
    try:
        validate_name(sync_connection.name)
    except ValidationError as exc:
        raise ConnectionInvalid({"name": exc.messages}) from None
    if sync_connection.pk is None:
        _save(sync_connection)
        return sync_connection
    locked = _locked(sync_connection)
    if locked.deleted_at is not None:
        raise ConnectionInvalid(
            _("This connection was deleted meanwhile. Restore it first."), code="deleted"
        )
    update_fields = [f for f in fields if f in {"name", "sync_connector", "active", "description"}]
    if not update_fields:
        return locked
    for field in update_fields:
        setattr(locked, field, getattr(sync_connection, field))
    if "name" in update_fields:
        update_fields.append("name_key")
    _save(locked, update_fields)
    return locked


def sync_connection_users(*, sync_connection: SyncConnection) -> list[ERPConnection]:
    """The live ERP connections that use this sync connection."""
    return list(ERPConnection.objects.filter(sync_connection=sync_connection))


@transaction.atomic
def sync_connection_delete(*, actor: User, sync_connection: SyncConnection) -> SyncConnection:
    """Soft-delete, unless a live ERP connection uses it; deleting twice is a no-op."""
    locked = _locked(sync_connection)
    if locked.deleted_at is not None:
        return locked
    used_by = sync_connection_users(sync_connection=locked)
    if used_by:
        raise ConnectionInvalid(
            _('"%(name)s" is used by %(users)s. Choose another ERP connection there first.')
            % {"name": locked.name, "users": ", ".join(f'"{c.name}"' for c in used_by)},
            code="in_use",
        )
    locked.deleted_at = timezone.now()
    locked.deleted_by = actor
    locked.save(update_fields=["deleted_at", "deleted_by"])
    return locked


@transaction.atomic
def sync_connection_restore(*, sync_connection: SyncConnection) -> SyncConnection:
    """Bring a deleted sync connection back as it was; refused when its name is taken."""
    locked = _locked(sync_connection)
    if locked.deleted_at is None:
        return locked
    locked.deleted_at = None
    locked.deleted_by = None
    try:
        _save(locked, ["deleted_at", "deleted_by"])
    except ConnectionInvalid:
        raise ConnectionInvalid(
            _('A live sync connection named "%(name)s" already exists. Rename one of them first.')
            % {"name": locked.name},
            code="name_taken",
        ) from None
    return locked

"""Business logic for ERP connections. Views, admin, API and commands call these."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.models import ConnectionEvent, ERPConnection


class RestoreRefused(ValidationError):
    """A restore that cannot happen; its message says why."""


def event_record(
    *,
    connection: ERPConnection,
    actor: AbstractBaseUser | None,
    action: str,
    changes: dict[str, Any] | None = None,
) -> ConnectionEvent:
    """Append a history entry. ``changes`` must never contain secret values."""
    return ConnectionEvent.objects.create(
        connection=connection, actor=actor, action=action, changes=changes or {}
    )


@transaction.atomic
def connection_delete(*, actor: AbstractBaseUser, connection: ERPConnection) -> ERPConnection:
    """Soft-delete: record who and when, keep every other field. Deleting twice is a no-op."""
    if connection.deleted_at is not None:
        return connection
    connection.deleted_at = timezone.now()
    connection.deleted_by = actor  # type: ignore[assignment]
    connection.save(update_fields=["deleted_at", "deleted_by"])
    event_record(connection=connection, actor=actor, action=ConnectionEvent.Action.DELETE)
    return connection


def connections_delete(
    *, actor: AbstractBaseUser, connections: Iterable[ERPConnection]
) -> list[ERPConnection]:
    """Soft-delete several connections in one transaction."""
    with transaction.atomic():
        return [connection_delete(actor=actor, connection=c) for c in connections]


def _name_taken_error(name: str) -> RestoreRefused:
    return RestoreRefused(
        _('A live connection named "%(name)s" already exists. Rename one of them first.')
        % {"name": name},
        code="name_taken",
    )


@transaction.atomic
def connection_restore(*, actor: AbstractBaseUser, connection: ERPConnection) -> ERPConnection:
    """Bring a deleted connection back exactly as it was.

    Refused, with nothing changed, when a live connection has taken its name meanwhile.
    """
    if connection.deleted_at is None:
        return connection
    deleted_at, deleted_by = connection.deleted_at, connection.deleted_by
    connection.deleted_at = None
    connection.deleted_by = None
    try:
        connection.validate_constraints()
        with transaction.atomic():  # the database constraint is the final word (races)
            connection.save(update_fields=["deleted_at", "deleted_by"])
    except (ValidationError, IntegrityError):
        connection.deleted_at, connection.deleted_by = deleted_at, deleted_by
        raise _name_taken_error(connection.name) from None
    event_record(
        connection=connection,
        actor=actor,
        action=ConnectionEvent.Action.RESTORE,
        changes={"deleted_at": [deleted_at.isoformat(), None]},
    )
    return connection

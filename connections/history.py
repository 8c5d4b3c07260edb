"""A connection's history in words: who did what when, and which fields changed.

The recorded events (``ConnectionEvent.changes``) hold keys and raw values; this module turns
them into the sentences the edit dialog, the list's deleted rows and the admin show
("Timeout (seconds): 10 -> 7", "API token: changed"), in the request's language. Secret
values are never recorded, so none can be shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.text import Truncator
from django.utils.translation import gettext as _, gettext_lazy

from connections.models import TEST_STATUS_LABELS, ConnectionEvent, ERPConnection, SyncConnection
from connectors import registry
from connectors.schema import FieldSpec, field_specs

ARROW = "->"

FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "connector": gettext_lazy("Quote connector"),
    "description": gettext_lazy("Description"),
    "scope": gettext_lazy("Scope"),
    "sync_connection": gettext_lazy("ERP connection"),
    "users": gettext_lazy("Users"),
    "groups": gettext_lazy("Groups"),
    "config_version": gettext_lazy("Configuration version"),
    "available": gettext_lazy("Available"),
}


@dataclass(frozen=True)
class HistoryEntry:
    """One event as a person reads it."""

    at: datetime
    actor: str
    action: str
    lines: list[str]
    kind: str


def person(user: Any) -> str:
    """A user as the history names them: the full name, else the username."""
    if user is None:
        return _("(unknown user)")
    return user.get_full_name() or user.get_username()


def connection_history(*, connection: ERPConnection) -> list[HistoryEntry]:
    """The connection's events, newest first, in words."""
    events = list(connection.events.select_related("actor").order_by("-at", "-pk"))
    for event in events:
        event.connection = connection  # known: no query per event
    names = _Names(events)
    return [_entry(event, names) for event in events]


def event_lines(event: ConnectionEvent) -> list[str]:
    """The changed fields of one event, in words (for the admin)."""
    return _entry(event, _Names([event])).lines


def event_action(event: ConnectionEvent) -> str:
    if event.action == ConnectionEvent.Action.TEST and (event.changes or {}).get("unsaved"):
        return _("Tested changes (not saved)")
    return str(event.get_action_display())


class _Names:
    """Users, groups and sync connections named in a batch of events, read once."""

    def __init__(self, events: Iterable[ConnectionEvent]) -> None:
        user_ids: set[int] = set()
        group_ids: set[int] = set()
        sync_ids: set[int] = set()
        for event in events:
            changes = event.changes or {}
            for ids in changes.get("users") or []:
                user_ids.update(i for i in ids if isinstance(i, int))
            for ids in changes.get("groups") or []:
                group_ids.update(i for i in ids if isinstance(i, int))
            sync_ids.update(i for i in changes.get("sync_connection") or [] if isinstance(i, int))
        # Most batches name nobody: no query then (even an empty IN costs its compilation).
        users = get_user_model().objects.filter(pk__in=user_ids) if user_ids else []
        groups = Group.objects.filter(pk__in=group_ids) if group_ids else []
        syncs = SyncConnection.all_objects.filter(pk__in=sync_ids) if sync_ids else []
        self.users = {u.pk: person(u) for u in users}
        self.groups = {g.pk: g.name for g in groups}
        self.syncs = {s.pk: s.name for s in syncs}


def _connector_label(key: Any) -> str:
    if not key:
        return "-"
    try:
        return str(registry.get_connector_class(str(key)).label)
    except registry.UnknownConnector:
        return str(key)


def _specs(key: Any) -> dict[str, FieldSpec]:
    try:
        return {s.name: s for s in field_specs(registry.get_connector_class(str(key)).Config)}
    except registry.UnknownConnector:
        return {}


def display_value(spec: FieldSpec | None, value: Any) -> str:
    """A configuration value as the dialog shows it: choice labels, Yes/No, "-" for none."""
    if value is None or value == "":
        return "-"
    if spec is not None and spec.kind == "checkbox":
        return _("Yes") if value else _("No")
    if spec is not None and spec.kind == "choice":
        for choice, label in spec.choices:
            if str(choice) == str(value):
                return str(label)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return Truncator(str(value)).chars(60)


def _change(label: Any, old: str, new: str) -> str:
    return f"{label}: {old} {ARROW} {new}"


def _config_lines(
    old: Mapping[str, Any], new: Mapping[str, Any], old_key: Any, new_key: Any
) -> list[str]:
    specs = {**_specs(old_key), **_specs(new_key)}
    names = [n for n in specs if n in old or n in new] + sorted(
        n for n in {*old, *new} if n not in specs
    )
    lines = []
    for name in names:
        if old.get(name) == new.get(name):
            continue
        spec = specs.get(name)
        label = spec.label if spec is not None else name
        lines.append(
            _change(label, display_value(spec, old.get(name)), display_value(spec, new.get(name)))
        )
    return lines


def _secret_lines(names: Iterable[str], connector_key: Any) -> list[str]:
    specs = _specs(connector_key)
    return [_("%(label)s: changed") % {"label": specs[n].label if n in specs else n} for n in names]


def _listed(ids: Iterable[Any], known: Mapping[int, str]) -> str:
    names = sorted(known.get(i, f"#{i}") for i in ids)
    return ", ".join(names) if names else "-"


def _change_lines(changes: Mapping[str, Any], names: _Names, current_key: str) -> list[str]:
    """``current_key``: the connector whose field labels apply when it did not change."""
    lines: list[str] = []
    connector = changes.get("connector")
    old_key = new_key = current_key
    if isinstance(connector, list) and len(connector) == 2:
        old_key, new_key = connector
    for key, value in changes.items():
        if key in ("config", "secrets_changed", "fields"):
            continue
        if not (isinstance(value, list) and len(value) == 2):
            continue
        old, new = value
        label = FIELD_LABELS.get(key, key)
        if key == "connector":
            lines.append(_change(label, _connector_label(old), _connector_label(new)))
        elif key == "scope":
            scopes = dict(ERPConnection.Scope.choices)
            lines.append(_change(label, str(scopes.get(old, old)), str(scopes.get(new, new))))
        elif key == "sync_connection":
            lines.append(
                _change(
                    label,
                    names.syncs.get(old, "-") if old else "-",
                    names.syncs.get(new, "-") if new else "-",
                )
            )
        elif key == "users":
            lines.append(_change(label, _listed(old, names.users), _listed(new, names.users)))
        elif key == "groups":
            lines.append(_change(label, _listed(old, names.groups), _listed(new, names.groups)))
        else:
            lines.append(_change(label, display_value(None, old), display_value(None, new)))
    config = changes.get("config")
    if isinstance(config, list) and len(config) == 2:
        lines += _config_lines(config[0] or {}, config[1] or {}, old_key, new_key)
    lines += _secret_lines(changes.get("secrets_changed") or [], new_key)
    if changes.get("fields"):
        fields = ", ".join(str(FIELD_LABELS.get(f, f)) for f in changes["fields"])
        lines.append(_("Changed in the administration: %(fields)s") % {"fields": fields})
    return lines


def _entry(event: ConnectionEvent, names: _Names) -> HistoryEntry:
    changes = event.changes or {}
    lines: list[str] = []
    if event.action == ConnectionEvent.Action.CREATE:
        lines.append(f"{FIELD_LABELS['connector']}: {_connector_label(changes.get('connector'))}")
    elif event.action == ConnectionEvent.Action.CHANGE:
        lines = _change_lines(changes, names, event.connection.connector_key)
    elif event.action in (ConnectionEvent.Action.TEST, ConnectionEvent.Action.CHECK):
        status = str(changes.get("status", ""))
        label = str(TEST_STATUS_LABELS.get(status, status))
        message = str(changes.get("message") or "")
        lines.append(f"{label}: {message}" if message else label)
    if event.action != ConnectionEvent.Action.CHANGE:
        available = changes.get("available")
        if isinstance(available, list) and len(available) == 2:
            old, new = (display_value(None, bool(v)) for v in available)
            lines.append(_change(FIELD_LABELS["available"], old, new))
    return HistoryEntry(
        at=event.at,
        actor=person(event.actor),
        action=event_action(event),
        lines=lines,
        kind=str(event.action),
    )

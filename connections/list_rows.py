"""What one row of the ERP connections list shows, worked out once per row in Python.

The list renders 25 rows on every page and after every search keystroke. Each value the
row template looks up costs a template lookup, an escape and (for numbers and dates) a
localisation; so the row gets its values as text already in the page's words and formats,
read from one ``values()`` query, and the template only places them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.template.loader import get_template
from django.utils import formats, timezone
from django.utils.translation import get_language, gettext, ngettext

from connections import crypto
from connections.models import (
    TEST_STATUS_LABELS,
    ERPConnection,
    connector_label,
    unavailable_message,
)
from connectors import registry
from connectors.schema import stored_config_problems

DESCRIPTION_EXCERPT = 120

# The columns a row is made of (``values()``), besides the counts of users and groups and
# who last tested (live rows) or deleted (deleted rows) the connection.
COLUMNS = (
    "pk",
    "name",
    "connector_key",
    "description",
    "scope",
    "config",
    "config_version",
    "secrets",
    "available",
    "availability_message",
    "last_test_at",
    "last_test_status",
    "last_test_automatic",
    "deleted_at",
)


@dataclass(frozen=True, slots=True)
class ConnectionRow:
    """One row of the list, every value as the page shows it."""

    pk: int
    id: str  # the pk as text: printed several times per row, never localised ("1,234")
    name: str
    select_label: str
    connector_label: str
    scope_summary: str
    description_excerpt: str
    needs_attention: bool
    available: bool
    unavailable_message: str
    last_test_status: str
    last_test_status_label: str
    last_tested: str  # when, in the user's time zone and format; "" when never tested
    last_test_automatic: bool
    last_test_by_name: str
    deleted: str  # when, as last_tested
    deleted_by_name: str

    def __getitem__(self, name: str) -> Any:
        # The template engine tries ``row[name]`` before ``row.name``; answering it saves
        # the failed lookup (an exception) on each of the row's values.
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None


def connection_rows(rows: Iterable[dict[str, Any]]) -> list[ConnectionRow]:
    """The rows of a page from the list query's ``values()``; the words every row shares
    are translated once for the page."""
    select = gettext("Select %(name)s")
    everyone = str(ERPConnection.Scope.ALL.label)
    statuses = {key: str(label) for key, label in TEST_STATUS_LABELS.items()}
    return [
        ConnectionRow(
            pk=values["pk"],
            id=str(values["pk"]),
            name=values["name"],
            select_label=select % {"name": values["name"]},
            connector_label=connector_label(values["connector_key"]),
            scope_summary=everyone
            if values["scope"] == ERPConnection.Scope.ALL
            else members_summary(values["user_count"] + values["group_count"]),
            description_excerpt=description_excerpt(values["description"]),
            needs_attention=needs_attention(
                values["connector_key"],
                values["config"],
                values["config_version"],
                values["secrets"],
            ),
            available=values["available"],
            unavailable_message=unavailable_message(
                values["available"], values["availability_message"]
            ),
            last_test_status=values["last_test_status"],
            last_test_status_label=statuses.get(
                values["last_test_status"], values["last_test_status"]
            ),
            last_tested=_when(values["last_test_at"]),
            last_test_automatic=values["last_test_automatic"],
            last_test_by_name=values.get("last_test_by_name") or "",
            deleted=_when(values["deleted_at"]),
            deleted_by_name=values.get("deleted_by_name") or "",
        )
        for values in rows
    ]


def row_html(row: ConnectionRow, *, list_path: str, list_query: str) -> str:
    """The ``<tr>`` of a live row (``connections/list.html#row``).

    Kept per row content, list state and language: the HTML is a pure function of them, and
    every page and search shows mostly the same rows again, so a row is rendered once.
    """
    return _row_html(row, list_path, list_query, get_language())


@functools.lru_cache(maxsize=2048)
def _row_html(row: ConnectionRow, list_path: str, list_query: str, language: str) -> str:
    # ``language`` is a key only: the template's own words use the active language.
    context = {"connection": row, "list_path": list_path, "list_query": list_query, "oob": False}
    return get_template("connections/list.html#row").render(context)


def members_summary(principals: int) -> str:
    """How many users and groups a specific scope lists."""
    return ngettext("%(counter)s user or group", "%(counter)s users and groups", principals) % {
        "counter": principals
    }


def description_excerpt(description: str) -> str:
    """The description cut to 120 characters."""
    if len(description) <= DESCRIPTION_EXCERPT:
        return description
    return description[: DESCRIPTION_EXCERPT - 1].rstrip() + "…"


def needs_attention(connector_key: str, config: Any, config_version: int, secrets: str) -> bool:
    """The stored configuration no longer validates with the installed connector (it changed
    since the last save): the list asks to edit and test again."""
    try:
        connector_cls = registry.get_connector_class(connector_key)
    except registry.UnknownConnector:
        return False  # the dialog says the connector is not installed
    try:
        names = frozenset(crypto.secret_names(secrets))
    except crypto.SecretsUnreadable:
        names = frozenset()
    # The answer is pure, and every page shows the same rows again: it is kept per connector
    # class, version, configuration (repr() is faithful for JSON data) and secret names.
    key = (connector_cls, config_version, repr(config), names)
    try:
        return _problems[key]
    except KeyError:
        pass
    answer = bool(stored_config_problems(connector_cls, config, config_version, set(names)))
    if len(_problems) >= 4096:
        _problems.clear()
    _problems[key] = answer
    return answer


_problems: dict[tuple[Any, ...], bool] = {}


def _when(value: Any) -> str:
    if value is None:
        return ""
    return _formatted(value, timezone.get_current_timezone(), get_language())


@functools.lru_cache(maxsize=4096)
def _formatted(value: Any, zone: Any, language: str) -> str:
    # Pure for a moment, a time zone and a language (the formats are fixed at start-up):
    # every page shows the same rows again.
    return formats.date_format(timezone.localtime(value, zone), "SHORT_DATETIME_FORMAT")

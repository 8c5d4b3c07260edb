"""Reads for ERP connections: the list tab, sync connections, scopes."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connection as db_connection
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Field,
    Func,
    IntegerField,
    Manager,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Lower
from django.db.models.lookups import IContains
from django.utils.translation import gettext_lazy as _

from connections import list_rows
from connections.models import ERPConnection, SyncConnection, connector_label, unavailable_message
from connections.names import name_key
from connectors import registry
from connectors.base import Connector, PriceList
from connectors.schema import FieldSpec, field_specs

PAGE_SIZE = 25

# Sort keys of the list tab -> ordering expressions (name is always the tie-breaker).
SORTS: dict[str, Any] = {
    "name": Lower("name"),
    "connector": "connector_key",
    "scope": "scope",
    "description": Lower("description"),
    "tested": "last_test_at",
    "deleted": "deleted_at",
}
# Columns that can be NULL: never-tested connections sort first ascending, last descending.
# The others are never NULL, so their sort says nothing of NULLs; that lets PostgreSQL walk
# the lower(name) indexes (migration 0003) instead of sorting every row.
NULLABLE_SORTS = {"tested", "deleted"}


@dataclass(frozen=True)
class ListQuery:
    """The state of the list tab, as parsed from the URL."""

    q: str = ""
    sort: str = "name"
    descending: bool = False
    deleted: bool = False
    unavailable: bool = False
    page: int = 1

    @classmethod
    def from_params(cls, params: Any) -> ListQuery:
        sort = params.get("sort", "name")
        descending = sort.startswith("-")
        sort = sort.removeprefix("-")
        if sort not in SORTS:
            sort, descending = "name", False
        try:
            page = max(1, int(params.get("page", 1)))
        except (TypeError, ValueError):
            page = 1
        return cls(
            q=params.get("q", "").strip()[:100],
            sort=sort,
            descending=descending,
            deleted=params.get("deleted") in {"1", "on", "true"},
            unavailable=params.get("unavailable") in {"1", "on", "true"},
            page=page,
        )

    @property
    def sort_param(self) -> str:
        return f"-{self.sort}" if self.descending else self.sort

    def params(self, **overrides: Any) -> dict[str, str]:
        """URL parameters of this state (defaults left out), with overrides applied."""
        values = {
            "q": self.q,
            "sort": self.sort_param,
            "deleted": "1" if self.deleted else "",
            "unavailable": "1" if self.unavailable else "",
            "page": str(self.page) if self.page > 1 else "",
        }
        values.update({k: str(v) if v not in (None, False) else "" for k, v in overrides.items()})
        if values["sort"] == "name":
            values["sort"] = ""
        return {k: v for k, v in values.items() if v}


def _count_of(through: Any) -> Subquery:
    return Subquery(
        through.objects.filter(erpconnection=OuterRef("pk"))
        .values("erpconnection")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


@functools.cache
def _row_values(*, deleted: bool) -> QuerySet[Any]:
    """The values one row of the list is made of (``list_rows.COLUMNS`` and counts), of live
    or deleted connections. Built once per process and only ever cloned (filtered, ordered,
    sliced): building it costs more than running it."""
    username = get_user_model().USERNAME_FIELD
    # Who last tested a live row, or deleted a deleted one: a name, not a User object.
    who = "deleted_by" if deleted else "last_test_by"
    return (
        _live_or_deleted(deleted)
        .annotate(
            user_count=Coalesce(_count_of(ERPConnection.users.through), Value(0)),
            group_count=Coalesce(_count_of(ERPConnection.groups.through), Value(0)),
            **{f"{who}_name": F(f"{who}__{username}")},
        )
        .values(*list_rows.COLUMNS, "user_count", "group_count", f"{who}_name")
    )


def by_pk[M: Model](manager: Manager[M], pk: int) -> M | None:
    """What ``manager.get(pk=pk)`` returns, or None: read with SQL the ORM wrote once.

    A dialog of a saved connection and every signed-in request read one wide row by its
    primary key. Through ``get()`` its query is compiled anew each time (a connection: 1,734
    calls, 0.41 ms warm); run by ``Manager.raw``, which still converts every column, the
    same statement costs 981 calls and 0.22 ms. The manager's own filters (a live
    connection's ``deleted_at IS NULL``) are in the statement. A key beyond the column's
    range (a typed URL) finds nothing, as it does through the ORM.
    """
    key_type = manager.model._meta.pk.get_internal_type()  # an AutoField or BigAutoField
    low, high = db_connection.ops.integer_field_range(key_type)
    if not low <= pk <= high:
        return None
    return next(iter(manager.raw(_by_pk_sql(manager), [pk])), None)


@functools.cache
def _by_pk_sql(manager: Manager[Any]) -> str:
    sql, params = manager.filter(pk=0).order_by().query.sql_with_params()
    assert params == (0,), params  # one parameter: the key
    return sql


def connection_row(*, pk: int) -> list_rows.ConnectionRow | None:
    """One live connection as a row of the list shows it (e.g. after a test)."""
    values = _row_values(deleted=False).filter(pk=pk).first()
    return list_rows.connection_rows([values])[0] if values is not None else None


def connection_list_query(*, query: ListQuery) -> QuerySet[Any]:
    """The values of the list's rows for ``query``: searched, filtered and sorted."""
    return _filtered(_row_values(deleted=query.deleted), query).order_by(*_ordering(query))


def connection_list(*, query: ListQuery) -> Page:
    """One page of live or deleted connections, searched by name, optionally only the
    unavailable ones, and sorted: ``object_list`` holds its rows (``list_rows.ConnectionRow``).

    Two queries whatever the number of connections: the count and the page, each read from
    a partial index of live or deleted rows (migration 0009).
    """
    paginator = Paginator(connection_list_query(query=query), PAGE_SIZE)
    # Counted without the annotations, whose joins the count would otherwise keep.
    paginator.count = _connections(query).count()
    page = paginator.get_page(query.page)
    page.object_list = list_rows.connection_rows(page.object_list)
    return page


def _connections(query: ListQuery) -> QuerySet[ERPConnection]:
    """Live or deleted connections, searched by name, optionally only the unavailable ones."""
    return _filtered(_live_or_deleted(query.deleted), query)


def _live_or_deleted(deleted: bool) -> QuerySet[ERPConnection]:
    return ERPConnection.all_objects.deleted() if deleted else ERPConnection.objects.all()


def _filtered(qs: QuerySet[Any], query: ListQuery) -> QuerySet[Any]:
    if query.q:  # on the normalised key: case-insensitive in every script, on every database
        qs = qs.filter(name_key__contains=name_key(query.q))
    if query.unavailable and not query.deleted:
        qs = qs.filter(available=False)
    return qs


def _ordering(query: ListQuery) -> list[Any]:
    order = SORTS[query.sort]
    if isinstance(order, str):
        order = F(order)
    if query.sort in NULLABLE_SORTS:
        order = order.desc(nulls_last=True) if query.descending else order.asc(nulls_first=True)
    else:
        order = order.desc() if query.descending else order.asc()
    tie_breakers = ["pk"] if query.sort == "name" else [Lower("name").asc(), "pk"]
    return [order, *tie_breakers]


def connections_by_ids(*, ids: list[int], deleted: bool) -> QuerySet[ERPConnection]:
    """The selected connections of the list, live or deleted as the list shows them."""
    return _live_or_deleted(deleted).filter(pk__in=ids).order_by(Lower("name"))


def sync_connection_list() -> QuerySet[SyncConnection]:
    """Live sync connections, active and inactive, by name."""
    return SyncConnection.objects.order_by(Lower("name"))


def connection_administrators(limit: int = 5) -> list[Any]:
    """Active staff who may manage ERP connections (directly, by group or as superuser):
    whom a user without access can ask."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    perm = Q(codename="manage_erpconnection", content_type__app_label="connections")
    from django.contrib.auth.models import Permission

    permission = Permission.objects.filter(perm).first()
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    if permission is None:
        users = users.filter(is_superuser=True)
    else:
        users = users.filter(
            Q(is_superuser=True)
            | Q(user_permissions=permission)
            | Q(groups__permissions=permission)
        )
    return list(users.distinct().order_by(Lower("last_name"), Lower("username"))[:limit])


def user_label(first_name: str, last_name: str, username: str) -> str:
    """A user as a chip or a search result names them: the full name (joined as
    ``AbstractUser.get_full_name`` joins it), else the username. One rule for loaded users
    and for rows read in SQL."""
    return f"{first_name} {last_name}".strip() or username


def principals_of(*, users: list[Any], groups: list[Any]) -> list[Principal]:
    """Loaded users and groups as the access dialog's chips show them."""
    return [Principal("group", g.pk, g.name, "") for g in groups] + [
        Principal("user", u.pk, user_label(u.first_name, u.last_name, u.get_username()), "")
        for u in users
    ]


def connection_principals(*, connection: ERPConnection) -> list[Principal]:
    """A saved connection's users and groups as the dialog's chips show them: groups, then
    users, each in the order they were picked.

    One query in SQL (a UNION of the two link tables). Read as two model querysets they cost
    a round trip and about 1,800 Python calls more (the edit dialog, 19,359 -> 17,550); an ORM
    union saved the round trip but cost 1,100 calls more than those two.
    """
    from django.contrib.auth.models import Group

    user_model = get_user_model()
    q = db_connection.ops.quote_name
    login = q(
        cast(Field[Any, Any], user_model._meta.get_field(user_model.USERNAME_FIELD)).column or ""
    )
    users, groups = (
        q(m2m.through._meta.db_table) for m2m in (ERPConnection.users, ERPConnection.groups)
    )
    user_table, group_table = q(user_model._meta.db_table), q(Group._meta.db_table)
    sql = (
        f"SELECT 0, l.id, g.id, g.name, '', '' FROM {groups} l "
        f"JOIN {group_table} g ON g.id = l.group_id WHERE l.erpconnection_id = %s "
        "UNION ALL "
        f"SELECT 1, l.id, u.id, u.first_name, u.last_name, u.{login} FROM {users} l "
        f"JOIN {user_table} u ON u.id = l.user_id WHERE l.erpconnection_id = %s "
        "ORDER BY 1, 2"
    )
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [connection.pk, connection.pk])
        rows = cursor.fetchall()
    return [
        Principal("user", pk, user_label(first, last, username), "")
        if kind
        else Principal("group", pk, first, "")
        for kind, _, pk, first, last, username in rows
    ]


def principals_by_ids(*, user_ids: list[int], group_ids: list[int]) -> list[Principal]:
    """The picked users (active ones) and groups, as the access dialog's chips show them."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    users = get_user_model().objects.filter(pk__in=user_ids, is_active=True)
    groups = Group.objects.filter(pk__in=group_ids).order_by(Lower("name"))
    return principals_of(
        users=list(users.order_by(Lower("first_name"), Lower("username"))), groups=list(groups)
    )


PRINCIPALS_PER_PAGE = 20


@dataclass(frozen=True)
class Principal:
    """A user or a group in the access dialog."""

    kind: str  # "user" or "group"
    id: int
    label: str
    detail: str

    @property
    def field(self) -> str:
        """The form field (and query parameter) that carries it: "users" or "groups"."""
        return f"{self.kind}s"

    @property
    def key(self) -> str:
        """Unique among users and groups: "user:12", "group:3"."""
        return f"{self.kind}:{self.id}"


def principal_search(*, q: str, page: int = 1, users_only: bool = False) -> Page:
    """Groups then users matching ``q`` (group name; user name, username or e-mail).

    Paginated in the database, so thousands of users stay usable: one query counts both
    kinds, then one reads the page of each kind that is on it. A page of users is read in
    the order of an index (migration 0011), or on SQLite through the FTS table (migration
    0012) when few users match.
    """
    from django.contrib.auth.models import Group

    groups = Group.objects.none() if users_only else Group.objects.order_by(Lower("name"))
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .order_by(Lower("username"))
        .only("pk", "username", "first_name", "last_name", "email")
    )
    if q:
        groups = groups.filter(name__icontains=q)
    # Django documents object_list as any "sliceable object with a count() or __len__()
    # method", and Paginator only slices and counts it; django-stubs' _SupportsPagination
    # protocol also demands int indexing and iteration, which this sequence does not need.
    paginator: Paginator[Principal] = Paginator(
        _PrincipalSequence(groups, users, q.split()),  # type: ignore[arg-type]
        PRINCIPALS_PER_PAGE,
    )
    return paginator.get_page(page)


# The four searched columns as one text: a word (no whitespace in it) is in one of them
# exactly when it is in this text.
USER_SEARCH_TEXT = Func(
    F("username"),
    F("first_name"),
    F("last_name"),
    F("email"),
    template="(%(expressions)s)",
    arg_joiner=" || ' ' || ",
    output_field=TextField(),
)


def _user_matches(word: str, *, scan: bool = False) -> Q:
    """Users whose username, first name, last name or e-mail contains ``word``, any case.

    ``scan``: for reading users in username order until a page is full, where SQLite finds
    many matches sooner with its LIKEs than through its FTS table (``SCAN_FROM_USERS``);
    PostgreSQL's trigram expression serves both.
    """
    if db_connection.vendor == "postgresql":
        # UPPER(USER_SEARCH_TEXT) LIKE UPPER('%word%'): the trigram index of migration 0011
        # holds that expression. The four LIKEs below made PostgreSQL scan the table
        # (5 ms at 5,000 users, against 0.6 ms through the index).
        return Q(IContains(USER_SEARCH_TEXT, word))
    if (
        not scan
        and db_connection.vendor == "sqlite"
        and len(word) >= 3  # shorter words have no trigram to look up
        and "\x00" not in word  # it would end the FTS5 query early (the LIKEs stop there too)
        and _has_user_search()
    ):
        # The FTS5 trigram table of migration 0012 holds lower(USER_SEARCH_TEXT), lowered
        # by the same lower() as the word: ASCII letters only, as the LIKEs below match.
        # The word is one FTS5 string (double quotes doubled), so no input is an operator.
        return Q(
            pk__in=RawSQL(
                'SELECT rowid FROM "user_search" WHERE "user_search" MATCH '
                "'\"' || replace(lower(%s), '\"', '\"\"') || '\"'",
                (word,),
            )
        )
    # A full scan on SQLite: LIKE on the joined text is three times slower than these.
    return (
        Q(username__icontains=word)
        | Q(first_name__icontains=word)
        | Q(last_name__icontains=word)
        | Q(email__icontains=word)
    )


@functools.cache
def _has_user_search() -> bool:
    """Whether migration 0012 made the table and its triggers (SQLite with FTS5 trigram).

    Asked once per process, on the DB-API connection: the answer does not change while the
    process runs, and the first search should not count one query more than the others.
    Without a trigger (a later migration that remakes auth_user drops them) the table
    would go stale, so the search keeps its LIKEs.
    """
    db_connection.ensure_connection()
    found = db_connection.connection.execute(
        "SELECT COUNT(*) FROM sqlite_master WHERE name IN"
        " ('user_search', 'user_search_insert', 'user_search_update', 'user_search_delete')"
    ).fetchone()
    return bool(found[0] == 4)


# From this many matching users on, SQLite reads a page of them in username order (the
# lower(username) index of migration 0011), testing each user with the LIKEs, rather than
# through the FTS table, which reads and sorts every match first: at 5,000 matches the first
# page takes 0.05 ms against 3 ms. The count has no order: it always takes the FTS table.
SCAN_FROM_USERS = 1000


class _PrincipalSequence:
    """Groups, followed by the users who match every word, as one sliceable sequence,
    sliced in the database."""

    def __init__(self, groups: QuerySet, users: QuerySet, words: list[str]) -> None:
        self.groups, self.all_users, self.words = groups, users, words
        self.users = users.filter(*[_user_matches(word) for word in words])

    def group_count(self) -> int:
        return self._counts[0]

    def user_count(self) -> int:
        return self._counts[1]

    @functools.cached_property
    def _counts(self) -> tuple[int, int]:
        """Both counts, in one query: ``SELECT (SELECT COUNT(*) FROM (groups)), (SELECT
        COUNT(*) FROM (users))`` is a round trip less than asking each, which on PostgreSQL
        was most of what a search cost."""
        try:
            group_sql, group_params = self.groups.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # users only: no groups
            return 0, self.users.count()
        user_sql, user_params = self.users.order_by().values("pk").query.sql_with_params()
        with db_connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT COUNT(*) FROM ({group_sql}) g), "
                f"(SELECT COUNT(*) FROM ({user_sql}) u)",
                (*group_params, *user_params),
            )
            groups, users = cursor.fetchone()
        return groups, users

    def count(self) -> int:
        return self.group_count() + self.user_count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Principal]:
        start, stop = index.start or 0, index.stop
        n_groups = self.group_count()
        found = [
            Principal("group", g.pk, g.name, "")
            for g in self.groups[min(start, n_groups) : min(stop, n_groups)]
        ]
        user_start, user_stop = max(0, start - n_groups), max(0, stop - n_groups)
        if user_stop > user_start:
            users = self.users
            if self.user_count() >= SCAN_FROM_USERS:
                users = self.all_users.filter(*[_user_matches(w, scan=True) for w in self.words])
            found += [
                Principal(
                    "user",
                    u.pk,
                    user_label(u.first_name, u.last_name, u.get_username()),
                    f"{u.get_username()} · {u.email}" if u.email else u.get_username(),
                )
                for u in users[user_start:user_stop]
            ]
        return found


CAPABILITY_LABELS = {
    "price_lists": _("Price lists"),
    "product_search": _("Product search"),
    "product_details": _("Product details"),
    "price_calculation": _("Price calculation"),
    "place_order": _("Placing orders"),
    "order_state": _("Order status"),
}

KIND_LABELS = {
    "text": _("Text"),
    "password": _("Password"),
    "url": _("Web address (URL)"),
    "integer": _("Whole number"),
    "decimal": _("Decimal number"),
    "checkbox": _("Yes/No"),
    "choice": _("Choice"),
}


@dataclass(frozen=True)
class FieldInfo:
    """One configuration field in words, as the *Available quote connectors* tab lists it."""

    label: str
    kind: str
    required: bool
    default: str
    help_text: str


@dataclass(frozen=True)
class ConnectorInfo:
    """What the *Available quote connectors* tab shows of one installed connector."""

    key: str
    label: str
    vendor: str
    version: str
    description: str
    capabilities: list[str]
    sync_connection: str
    fields: list[FieldInfo]
    texts: list[str]


def quote_connector_list() -> list[ConnectorInfo]:
    """The installed connectors, by label."""
    return [_connector_info(cls) for cls in registry.connector_classes()]


def field_kind_words(spec: FieldSpec) -> str:
    """A field's kind as an administrator reads it ("Choice: Half up, Half even, Down")."""
    words = str(KIND_LABELS.get(spec.kind, spec.kind))
    if spec.kind == "choice":
        words = f"{words}: {', '.join(str(label) for _value, label in spec.choices)}"
    return words


def field_default_words(spec: FieldSpec) -> str:
    """The default as the dialog shows it: a choice's label, Yes/No, "-" for none."""
    from connections.history import display_value

    if spec.secret:
        return "-"
    if spec.kind == "checkbox":
        return str(_("Yes") if spec.default else _("No"))
    if not spec.has_default:
        return "-"
    return display_value(spec, spec.default)


def _connector_info(cls: type[Connector]) -> ConnectorInfo:
    specs = field_specs(cls.Config)
    return ConnectorInfo(
        key=cls.key,
        label=str(cls.label),
        vendor=cls.vendor,
        version=cls.version,
        description=str(cls.description),
        capabilities=sorted(str(CAPABILITY_LABELS.get(str(c), c)) for c in cls.capabilities),
        sync_connection=cls.sync_connection,
        fields=[
            FieldInfo(
                label=str(spec.label or spec.name),
                kind=field_kind_words(spec),
                required=spec.required,
                default=field_default_words(spec),
                help_text=str(spec.help_text or ""),
            )
            for spec in specs
            if spec.kind != "label"
        ],
        texts=[str(spec.text) for spec in specs if spec.kind == "label" and spec.text],
    )


def quote_connector_failures() -> list[registry.LoadFailure]:
    """Plugins that were found but could not be loaded."""
    return registry.load_failures()


# --- the quote side: which connections a user gets -----------------------------------------


def usable_condition() -> Q:
    """The one place that decides whether a connection can be used on the quote side: its
    connector is installed and it is available (its last health check, or test of the saved
    values, succeeded)."""
    return Q(connector_key__in=[cls.key for cls in registry.connector_classes()]) & Q(
        available=True
    )


def connections_for_user(user: Any, *, currency: str | None = None) -> list[UserConnection]:
    """The live connections whose scope includes ``user`` (*All*, the user listed, or a group
    of the user listed), by name, each marked ``usable``: each a :class:`ConnectionSummary`
    (its configuration is read when it is used).

    One database query for the connections, whatever the number of connections, users and
    groups. With ``currency``, each usable connection's price lists in that currency are read
    through its connector (see :func:`with_price_lists`; the full connections are read in the
    same query then); a connection that cannot answer gets ``error`` instead.
    """
    rows = _in_scope_with_usable(user).order_by(Lower("name"), "pk")
    if currency is not None:
        found = [UserConnection(connection=row, usable=_usable(row)) for row in rows]
        return with_price_lists(found, currency=currency)
    # Rows, not model instances: building ~2,000 full connections (JSON configuration, dates,
    # 27 fields) cost three times the query at 100,000 connections (issue 13).
    return [
        UserConnection(ConnectionSummary._make(row[1:]), row[0])
        for row in rows.values_list("usable", *ConnectionSummary._fields)
    ]


def connection_for_user(user: Any, *, pk: int) -> UserConnection | None:
    """One of :func:`connections_for_user` by id, as the full connection (one query), ready
    for :func:`connections.quoting.handle_for`; None when it is not the user's (outside the
    scope, deleted or unknown)."""
    row = _in_scope_with_usable(user).filter(pk=pk).first()
    return UserConnection(connection=row, usable=_usable(row)) if row is not None else None


def _usable(row: ERPConnection) -> bool:
    return bool(getattr(row, "usable", False))  # the annotation of _in_scope_with_usable


def _in_scope_with_usable(user: Any) -> QuerySet[ERPConnection]:
    scoped: QuerySet[ERPConnection] = ERPConnection.objects.in_scope_of(user)
    return scoped.annotate(
        usable=ExpressionWrapper(usable_condition(), output_field=BooleanField())
    )


def with_price_lists(
    connections: list[UserConnection], *, currency: str | None
) -> list[UserConnection]:
    """The connections with their price lists (in ``currency`` when given) read through each
    usable connection's connector. The usable ones' configurations are read in one query,
    the product register once for all of them."""
    from connections import quoting

    register = quoting.RecordingRegister()
    loaded = _full_connections([item.connection for item in connections if item.usable])
    found = []
    for item in connections:
        if not item.usable:
            found.append(item)
            continue
        full = loaded.get(item.connection.pk)
        if full is None:
            continue  # deleted since it was listed: no longer the user's
        try:
            handle = quoting.handle_for(full, register=register)
            lists = quoting.price_lists(handle, currency=currency)
        except quoting.UseError as exc:
            found.append(UserConnection(connection=item.connection, usable=True, error=exc))
            continue
        found.append(UserConnection(connection=item.connection, usable=True, price_lists=lists))
    return found


def _full_connections(
    connections: list[ERPConnection | ConnectionSummary],
) -> dict[int, ERPConnection]:
    """The live connections by id, read (one query) only for those that are summaries."""
    found = {c.pk: c for c in connections if isinstance(c, ERPConnection)}
    missing = [c.pk for c in connections if not isinstance(c, ERPConnection)]
    if missing:
        found.update(ERPConnection.objects.in_bulk(missing))
    return found


class ConnectionSummary(NamedTuple):
    """What the quote side lists and chooses by: a connection without its configuration, a
    row of the scope query (a named tuple: cheap to make by the thousand). It reads like the
    connection (same attribute names) and equals it as connections equal each other, by id;
    :func:`connections.quoting.handle_for` reads the full connection when one is used."""

    pk: int
    name: str
    description: str
    connector_key: str
    available: bool
    availability_message: str

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ConnectionSummary | ERPConnection):
            return self.pk == other.pk
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self.pk)

    @property
    def connector_label(self) -> str:
        return connector_label(self.connector_key)

    @property
    def unavailable_message(self) -> str:
        return unavailable_message(self.available, self.availability_message)


class UserConnection(NamedTuple):
    """A connection as the quote side sees it for one user: a :class:`ConnectionSummary` from
    :func:`connections_for_user` (the full connection with a currency, or from
    :func:`connection_for_user`). A named tuple, as the summary: made by the thousand."""

    connection: ERPConnection | ConnectionSummary
    usable: bool
    price_lists: list[PriceList] | None = None  # read when a currency was asked for
    error: Any = None  # a quoting.UseError when the connector could not answer

    @property
    def price_list_count(self) -> int:
        return len(self.price_lists or [])

    @property
    def message(self) -> str:
        """Why the connection cannot be used ("" when it can): the failed check's message,
        or that its quote connector is not installed."""
        if self.usable:
            return ""
        return unusable_message(self.connection)


def unusable_message(connection: ERPConnection | ConnectionSummary) -> str:
    """Why a connection that :func:`usable_condition` refuses cannot be used."""
    if not connection.available:
        return connection.unavailable_message
    return str(_("The quote connector of this connection is not installed."))


@dataclass(frozen=True)
class ConnectionChoice:
    """The rule of *Select ERP connection* for one currency.

    ``chosen``: the one usable connection with price lists in the currency (taken without
    asking). Otherwise ``options`` are what the user picks from: the connections with price
    lists in the currency when several have, all usable connections when none has
    (``none_in_currency``). No usable connection at all: ``options`` is empty.
    """

    currency: str
    connections: list[UserConnection]
    chosen: UserConnection | None
    options: list[UserConnection]
    none_in_currency: bool

    @property
    def select_required(self) -> bool:
        return self.chosen is None


def connection_choice(user: Any, *, currency: str) -> ConnectionChoice:
    """Apply the selection rule to the user's connections in ``currency``."""
    found = connections_for_user(user, currency=currency)
    usable = [item for item in found if item.usable]
    in_currency = [item for item in usable if item.price_list_count]
    if len(in_currency) == 1:
        return ConnectionChoice(currency, found, in_currency[0], in_currency, False)
    if in_currency:
        return ConnectionChoice(currency, found, None, in_currency, False)
    return ConnectionChoice(currency, found, None, usable, True)


def currencies_for_user(user: Any, *, listed: list[UserConnection] | None = None) -> list[str]:
    """The currencies of the price lists the user can reach; EUR first when present.
    ``listed``: the user's connections when the caller has them already (saves reading
    them again)."""
    if listed is None:
        listed = connections_for_user(user)
    found = set()
    for item in with_price_lists(listed, currency=None):
        for price_list in item.price_lists or []:
            found.add(price_list.currency.upper())
    return sorted(found, key=lambda code: (code != "EUR", code))


PREVIEW_MISSING_LIMIT = 50


@dataclass(frozen=True)
class MissingConnection:
    """A connection a user does not get, and why: ``out_of_scope``, ``deleted`` (a deleted
    connection whose scope includes the user) or ``unavailable`` (in scope, not usable)."""

    connection: ERPConnection | ConnectionSummary
    reason: str


@dataclass(frozen=True)
class CurrencyLists:
    currency: str
    price_lists: list[PriceList]


@dataclass(frozen=True)
class PreviewConnection:
    item: UserConnection
    by_currency: list[CurrencyLists]


@dataclass(frozen=True)
class UserPreview:
    """*Preview as user*: exactly what the quote side gives ``user``, and what it does not."""

    user: Any
    offered: list[PreviewConnection]
    missing: list[MissingConnection]
    out_of_scope_count: int
    currencies: list[str]


def connection_preview(user: Any) -> UserPreview:
    """The connections ``user`` would get with their price lists per currency (read through
    the connectors now), and the missing ones with the reason (out-of-scope ones capped)."""
    found = connections_for_user(user)
    usable = with_price_lists([item for item in found if item.usable], currency=None)
    offered = []
    for item in usable:
        groups: dict[str, list[PriceList]] = {}
        for price_list in item.price_lists or []:
            groups.setdefault(price_list.currency.upper(), []).append(price_list)
        by_currency = [
            CurrencyLists(code, groups[code])
            for code in sorted(groups, key=lambda code: (code != "EUR", code))
        ]
        offered.append(PreviewConnection(item, by_currency))
    missing = [
        MissingConnection(item.connection, "unavailable") for item in found if not item.usable
    ]
    deleted = ERPConnection.all_objects.in_scope_of(user).deleted().order_by(Lower("name"), "pk")
    missing += [MissingConnection(c, "deleted") for c in deleted[:PREVIEW_MISSING_LIMIT]]
    outside = ERPConnection.objects.exclude(
        pk__in=ERPConnection.objects.in_scope_of(user).values("pk")
    ).order_by(Lower("name"), "pk")
    missing += [MissingConnection(c, "out_of_scope") for c in outside[:PREVIEW_MISSING_LIMIT]]
    currencies = sorted(
        {group.currency for entry in offered for group in entry.by_currency},
        key=lambda code: (code != "EUR", code),
    )
    return UserPreview(user, offered, missing, outside.count(), currencies)

"""Reads for ERP connections: the list tab, sync connections, scopes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Lower

from connections.models import ERPConnection, SyncConnection
from connectors import registry
from connectors.base import Connector
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


def connection_list(*, query: ListQuery) -> Page:
    """One page of live or deleted connections, searched by name and sorted.

    Two queries whatever the number of connections: the count and the page. Both use a
    partial index on ``lower(name)`` (live or deleted rows), which also covers the search.
    """
    qs: QuerySet[ERPConnection] = (
        ERPConnection.all_objects.deleted() if query.deleted else ERPConnection.objects.all()
    )
    if query.q:
        # lower(name) LIKE, not name ILIKE: the partial indexes on lower(name) cover it.
        qs = qs.alias(name_lower=Lower("name")).filter(name_lower__contains=query.q.lower())
    username = get_user_model().USERNAME_FIELD
    rows = qs.defer("config", "secrets", "last_test_message").annotate(
        user_count=Coalesce(_count_of(ERPConnection.users.through), Value(0)),
        group_count=Coalesce(_count_of(ERPConnection.groups.through), Value(0)),
        # A name, not a User object: the list shows who, nothing else of them.
        last_test_by_name=F(f"last_test_by__{username}"),
        deleted_by_name=F(f"deleted_by__{username}"),
    )
    order = SORTS[query.sort]
    if isinstance(order, str):
        order = F(order)
    if query.sort in NULLABLE_SORTS:
        order = order.desc(nulls_last=True) if query.descending else order.asc(nulls_first=True)
    else:
        order = order.desc() if query.descending else order.asc()
    tie_breakers = ["pk"] if query.sort == "name" else [Lower("name").asc(), "pk"]
    paginator = Paginator(rows.order_by(order, *tie_breakers), PAGE_SIZE)
    # Counted without the annotations, whose joins the count would otherwise keep.
    paginator.count = qs.count()
    return paginator.get_page(query.page)


def connections_by_ids(*, ids: list[int], deleted: bool) -> QuerySet[ERPConnection]:
    """The selected connections of the list, live or deleted as the list shows them."""
    base = ERPConnection.all_objects.deleted() if deleted else ERPConnection.objects.all()
    return base.filter(pk__in=ids).order_by(Lower("name"))


def sync_connection_list() -> QuerySet[SyncConnection]:
    """Live sync connections, active and inactive, by name."""
    return SyncConnection.objects.order_by(Lower("name"))


PRINCIPALS_PER_PAGE = 20


@dataclass(frozen=True)
class Principal:
    """A user or a group in the access dialog."""

    kind: str  # "user" or "group"
    id: int
    label: str
    detail: str


def principal_search(*, q: str, page: int = 1) -> Page:
    """Groups then users matching ``q`` (group name; user name, username or e-mail).

    Paginated in the database, so thousands of users stay usable: one count and one page
    query per kind.
    """
    from django.contrib.auth.models import Group
    from django.db.models import Q

    groups = Group.objects.order_by(Lower("name"))
    users = get_user_model().objects.filter(is_active=True).order_by(Lower("username"))
    if q:
        groups = groups.filter(name__icontains=q)
        terms = Q()
        for word in q.split():
            terms &= (
                Q(username__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
            )
        users = users.filter(terms)
    # Django documents object_list as any "sliceable object with a count() or __len__()
    # method", and Paginator only slices and counts it; django-stubs' _SupportsPagination
    # protocol also demands int indexing and iteration, which this sequence does not need.
    paginator: Paginator[Principal] = Paginator(
        _PrincipalSequence(groups, users),  # type: ignore[arg-type]
        PRINCIPALS_PER_PAGE,
    )
    return paginator.get_page(page)


class _PrincipalSequence:
    """Groups followed by users as one sliceable sequence, sliced in the database."""

    def __init__(self, groups: QuerySet, users: QuerySet) -> None:
        self.groups, self.users = groups, users
        self._group_count: int | None = None

    def group_count(self) -> int:
        if self._group_count is None:
            self._group_count = self.groups.count()
        return self._group_count

    def count(self) -> int:
        return self.group_count() + self.users.count()

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
            found += [
                Principal(
                    "user",
                    u.pk,
                    u.get_full_name() or u.get_username(),
                    f"{u.get_username()} · {u.email}" if u.email else u.get_username(),
                )
                for u in self.users[user_start:user_stop]
            ]
        return found


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
    fields: list[FieldSpec]


def quote_connector_list() -> list[ConnectorInfo]:
    """The installed connectors, by label."""
    return [_connector_info(cls) for cls in registry.connector_classes()]


def _connector_info(cls: type[Connector]) -> ConnectorInfo:
    return ConnectorInfo(
        key=cls.key,
        label=str(cls.label),
        vendor=cls.vendor,
        version=cls.version,
        description=str(cls.description),
        capabilities=sorted(str(c) for c in cls.capabilities),
        sync_connection=cls.sync_connection,
        fields=field_specs(cls.Config),
    )


def quote_connector_failures() -> list[registry.LoadFailure]:
    """Plugins that were found but could not be loaded."""
    return registry.load_failures()

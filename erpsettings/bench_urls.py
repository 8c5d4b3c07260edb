"""The URLs of ``make bench`` only: the application plus the *floor* view.

The floor is the least Django can do for the list's first page: the same 25 live rows and
columns, read with one query and rendered by a bare template, behind the same middleware
and login. The list is measured against it (``list / floor``).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from connections.models import ERPConnection
from connections.selectors import PAGE_SIZE
from erpsettings.urls import urlpatterns as application_urlpatterns

# The admin changelist is measured at the list's page size.
type(admin.site._registry[ERPConnection]).list_per_page = PAGE_SIZE

FLOOR_TEMPLATE = engines["django"].from_string(
    """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Floor</title></head>
<body><table><thead><tr><th>Name</th><th>Quote connector</th><th>Scope</th><th>Description</th>
<th>Last test</th></tr></thead><tbody>
{% for row in rows %}<tr><td>{{ row.name }}</td><td>{{ row.connector_key }}</td>
<td>{{ row.scope }} {{ row.principals }}</td><td>{{ row.description }}</td>
<td>{{ row.last_test_status }} {{ row.last_test_at }}</td></tr>
{% endfor %}</tbody></table></body></html>"""
)


def _count(through: type) -> Subquery:
    return Subquery(
        through.objects.filter(erpconnection=OuterRef("pk"))  # type: ignore[attr-defined]
        .values("erpconnection")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


@login_required
def floor(request: HttpRequest) -> HttpResponse:
    rows = (
        ERPConnection.objects.annotate(
            principals=_count(ERPConnection.users.through) + _count(ERPConnection.groups.through)
        )
        .order_by(Lower("name"))
        .values(
            "name",
            "connector_key",
            "scope",
            "principals",
            "description",
            "last_test_status",
            "last_test_at",
        )[:PAGE_SIZE]
    )
    return HttpResponse(FLOOR_TEMPLATE.render({"rows": rows}, request))


urlpatterns = [path("bench/floor/", floor, name="bench_floor"), *application_urlpatterns]

"""Thin views: parse the request, call a service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection as db_connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from connections import selectors, services
from connections.selectors import ListQuery

MANAGE_PERMISSION = "connections.manage_erpconnection"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged-in staff with the permission to manage ERP connections; others get 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_staff and request.user.has_perm(MANAGE_PERMISSION)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _is_partial(request: HtmxHttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("connections:list")


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check, no login needed."""
    try:
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def _list_url(query: ListQuery, **overrides: Any) -> str:
    params = query.params(**overrides)
    url = reverse("connections:list")
    return f"{url}?{urlencode(params)}" if params else url


def _list_context(query: ListQuery) -> dict[str, Any]:
    page = selectors.connection_list(query=query)
    sort_links = {
        key: _list_url(
            query,
            sort=f"-{key}" if query.sort == key and not query.descending else key,
            page=None,
        )
        for key in selectors.SORTS
    }
    return {
        "query": query,
        "page": page,
        "connections": page.object_list,
        "sort_links": sort_links,
        "list_url": _list_url(query),
        "page_links": {
            "previous": _list_url(query, page=page.previous_page_number())
            if page.has_previous()
            else None,
            "next": _list_url(query, page=page.next_page_number()) if page.has_next() else None,
        },
        "active_tab": "erp",
    }


@require_GET
@manager_required
@vary_on_headers("HX-Request")
def connection_list(request: HtmxHttpRequest) -> HttpResponse:
    query = ListQuery.from_params(request.GET)
    template = "connections/list.html"
    if _is_partial(request):
        template += "#results"
    return render(request, template, _list_context(query))


def _selected_ids(request: HttpRequest) -> list[int]:
    ids = []
    for raw in request.POST.getlist("ids"):
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    return ids


def _after_action(request: HtmxHttpRequest, query: ListQuery) -> HttpResponse:
    if _is_partial(request):
        return render(request, "connections/list.html#results", _list_context(query))
    return redirect(_list_url(query))


@require_POST
@manager_required
def connection_delete(request: HtmxHttpRequest) -> HttpResponse:
    query = ListQuery.from_params(request.POST)
    selected = list(selectors.connections_by_ids(ids=_selected_ids(request), deleted=False))
    if not selected:
        messages.warning(request, _("Select one or more connections first."))
    else:
        services.connections_delete(actor=request.user, connections=selected)
        messages.success(
            request,
            ngettext(
                "Deleted %(count)d connection.", "Deleted %(count)d connections.", len(selected)
            )
            % {"count": len(selected)},
        )
    return _after_action(request, query)


@require_POST
@manager_required
def connection_restore(request: HtmxHttpRequest) -> HttpResponse:
    query = ListQuery.from_params(request.POST)
    selected = list(selectors.connections_by_ids(ids=_selected_ids(request), deleted=True))
    if not selected:
        messages.warning(request, _("Select one or more connections first."))
    restored = 0
    for connection in selected:
        try:
            services.connection_restore(actor=request.user, connection=connection)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            restored += 1
    if restored:
        messages.success(
            request,
            ngettext(
                "Restored %(count)d connection.", "Restored %(count)d connections.", restored
            )
            % {"count": restored},
        )
    return _after_action(request, query)


@require_GET
@manager_required
def sync_connection_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request,
        "connections/sync_connections.html",
        {"sync_connections": selectors.sync_connection_list(), "active_tab": "sync"},
    )

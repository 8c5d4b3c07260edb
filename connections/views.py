"""Thin views: parse the request, call a service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, reswap, retarget, trigger_client_event
from django_htmx.middleware import HtmxDetails

from connections import history, list_rows, renderers, selectors, services
from connections.config_choices import config_choices
from connections.context import connector_context
from connections.forms import ConnectionForm
from connections.models import ERPConnection
from connections.selectors import ListQuery
from connections.services import TestOutcome
from connectors import registry

MANAGE_PERMISSION = "connections.manage_erpconnection"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    # These views sit behind login_required and a permission check (manager_required).
    user: User


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged-in staff with the permission to manage ERP connections. Others are sent to
    the no-access page (a page load) or get it with status 403 (htmx requests, posts)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_staff and request.user.has_perm(MANAGE_PERMISSION)):
            if request.method == "GET" and not getattr(request, "htmx", False):
                return redirect("connections:no_access")  # a page, not an error in the console
            return no_access(request)
        return view(request, *args, **kwargs)

    return wrapped


@login_required
def no_access_page(request: HttpRequest) -> HttpResponse:
    """Where a logged-in user without the settings permission lands (a page, status 200)."""
    return no_access(request, status=200)


def no_access(
    request: HttpRequest, exception: Exception | None = None, *, status: int = 403
) -> HttpResponse:
    """The friendly 403: what these pages are, who may grant access, the quote side."""
    try:
        resolve("/quote/")
        quote_url: str | None = "/quote/"
    except Resolver404:
        quote_url = None
    return render(
        request,
        "connections/no_access.html",
        {"administrators": selectors.connection_administrators(), "quote_url": quote_url},
        status=status,
    )


def _is_partial(request: HtmxHttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def login_locked(
    request: HttpRequest, response: Any = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer to a locked-out login (both login pages): why, and for how long."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Administrators land on the ERP connections tab, everyone else on their quotes."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not (user.is_staff and user.has_perm(MANAGE_PERMISSION)):
        return redirect("quotes:list")
    return redirect("connections:list")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for on pages without an icon link (the admin)."""
    return redirect(static("favicon.svg"))


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


def _next_sort(query: ListQuery, key: str) -> str | None:
    """The ``sort`` parameter of a column's link: toggles its direction; None is the default."""
    value = f"-{key}" if query.sort == key and not query.descending else key
    return None if value == "name" else value


def _sort_state(query: ListQuery, key: str) -> str:
    """The column's ``aria-sort``."""
    if query.sort != key:
        return "none"
    return "descending" if query.descending else "ascending"


def _list_query(query: ListQuery) -> str:
    """The list's state as a query string ("?q=..."), or "" when nothing is set."""
    params = query.params()
    return f"?{urlencode(params)}" if params else ""


def _list_context(query: ListQuery) -> dict[str, Any]:
    page = selectors.connection_list(query=query)
    # The template builds its links with {% querystring %} on the list's own path, so they
    # stay right when the list is rendered under a dialog's URL.
    list_path, list_query = reverse("connections:list"), _list_query(query)
    return {
        "query": query,
        "page": page,
        "connections": page.object_list,
        "rows_html": []
        if query.deleted
        else [
            list_rows.row_html(row, list_path=list_path, list_query=list_query)
            for row in page.object_list
        ],
        "list_path": list_path,
        "sort_next": {key: _next_sort(query, key) for key in selectors.SORTS},
        "sort_state": {key: _sort_state(query, key) for key in selectors.SORTS},
        "previous_page": page.number - 1 if page.number > 2 else None,
        "query_string": urlencode(query.params()),
        "list_query": list_query,
        "active_tab": "erp",
    }


@require_GET
@manager_required
@vary_on_headers("HX-Request")
def connection_list(request: HtmxHttpRequest) -> HttpResponse:
    query = ListQuery.from_params(request.GET)
    if not _is_partial(request):
        return render(request, "connections/list.html", _list_context(query))
    response = render(request, "connections/list.html#results", _list_context(query))
    canonical = _list_url(query)
    if request.get_full_path() != canonical:
        # The search form sends every field, set or not (?q=&sort=): the address bar shows
        # only what is set.
        response = push_url(response, canonical)
    return response


def _selected_ids(request: HttpRequest) -> list[int]:
    return _ids(request.POST if request.method == "POST" else request.GET, "ids")


def _after_action(request: HtmxHttpRequest, query: ListQuery) -> HttpResponse:
    if _is_partial(request):
        return _focus(render(request, "connections/list.html#results", _list_context(query)))
    return redirect(_list_url(query))


def _selection(request: HtmxHttpRequest, *, deleted: bool) -> list[ERPConnection]:
    """The rows ticked in the list (live or deleted ones); a warning when there are none."""
    selected = list(selectors.connections_by_ids(ids=_selected_ids(request), deleted=deleted))
    if not selected:
        messages.warning(request, _("Select one or more connections first."))
    return selected


@require_POST
@manager_required
def connection_delete(request: HtmxHttpRequest) -> HttpResponse:
    selected = _selection(request, deleted=False)
    if selected:
        services.connections_delete(actor=request.user, connections=selected)
        messages.success(
            request,
            ngettext(
                "Deleted %(count)d connection.", "Deleted %(count)d connections.", len(selected)
            )
            % {"count": len(selected)},
        )
    return _after_action(request, ListQuery.from_params(request.POST))


@require_POST
@manager_required
def connection_restore(request: HtmxHttpRequest) -> HttpResponse:
    restored, refused = services.connections_restore(
        actor=request.user, connections=_selection(request, deleted=True)
    )
    for message in refused:
        messages.error(request, message)
    if restored:
        messages.success(request, services.restored_message(len(restored)))
    return _after_action(request, ListQuery.from_params(request.POST))


@require_GET
@manager_required
def quote_connector_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every installed connector with its fields; plugins that failed to load, with why."""
    return render(
        request,
        "connections/quote_connectors.html",
        {
            "connectors": selectors.quote_connector_list(),
            "failures": selectors.quote_connector_failures(),
            "active_tab": "connectors",
        },
    )


@require_GET
@manager_required
def sync_connection_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request,
        "connections/sync_connections.html",
        {"sync_connections": selectors.sync_connection_list(), "active_tab": "sync"},
    )


# --- the connection dialog ---------------------------------------------------------------

TEST_FIELDS = ("connector", "sync_connection")


def _dialog_urls(connection: ERPConnection | None) -> dict[str, str]:
    if connection is None:
        return {
            "test_url": reverse("connections:add_test"),
            "save_url": reverse("connections:add_save"),
        }
    return {
        "test_url": reverse("connections:edit_test", args=[connection.pk]),
        "save_url": reverse("connections:edit_save", args=[connection.pk]),
    }


def _dialog_context(
    request: HttpRequest,
    form: ConnectionForm,
    connection: ERPConnection | None,
    *,
    row_on_page: bool,
) -> dict[str, Any]:
    query = ListQuery.from_params(request.GET)
    return {
        "form": form,
        "connection": connection,
        "query": query,
        **_dialog_urls(connection),
        "close_url": _list_url(query),
        "row_on_page": row_on_page,
        # Editing: the saved values were tested (or saved) already; adding needs a test.
        "ok_button": renderers.ok_button_html(enabled=connection is not None),
        "test_result": renderers.test_result_html(None),
        "chips": renderers.chips_html(
            selectors.connection_principals(connection=connection) if connection else []
        ),
    }


def _connection_or_404(pk: int) -> ERPConnection:
    connection = selectors.by_pk(ERPConnection.objects, pk)
    if connection is None:
        raise Http404
    return connection


def _render_dialog(request: HtmxHttpRequest, connection: ERPConnection | None) -> HttpResponse:
    form = ConnectionForm(connection=connection, connector_key=request.GET.get("connector") or None)
    if _is_partial(request):
        context = _dialog_context(request, form, connection, row_on_page=connection is not None)
        return render(request, "connections/dialog.html#dialog", context)
    # A shared link or a reload: the list with the dialog open on top.
    query = ListQuery.from_params(request.GET)
    list_context = _list_context(query)
    on_page = connection is not None and any(c.pk == connection.pk for c in list_context["page"])
    context = _dialog_context(request, form, connection, row_on_page=on_page)
    return render(
        request, "connections/list.html", {**list_context, **context, "open_dialog": True}
    )


def _field_errors(form: ConnectionForm) -> dict[str, list[str]]:
    """Errors per field that has an error box (static labels have none)."""
    names = [
        name
        for name, field in form.fields.items()
        if name not in ("proof", "users", "groups")
        and not getattr(field.widget, "is_static_text", False)
    ]
    errors = {name: [str(e) for e in form.errors.get(name, [])] for name in names}
    # The picked users and groups are hidden inputs shown under Scope: their errors go there.
    for name in ("users", "groups"):
        errors["scope"] += [str(e) for e in form.errors.get(name, [])]
    return errors


def _errors_html(form: ConnectionForm, *, test_refused: bool = False) -> str:
    """The error summary and every field's error box, all out of band."""
    return renderers.form_errors_html(
        has_errors=bool(form.errors),
        test_refused=test_refused,
        non_field_errors=form.non_field_errors(),
    ) + renderers.field_error_boxes(_field_errors(form))


def _errors_response(form: ConnectionForm) -> HttpResponse:
    """Field errors swapped into place (out of band) without touching what the user typed."""
    return HttpResponse(_errors_html(form))


def _tested_response(
    request: HttpRequest,
    form: ConnectionForm,
    outcome: TestOutcome | None = None,
    *,
    row: dict[str, Any] | None = None,
) -> HttpResponse:
    """A test's answer: its result (or, without an outcome, that the test was refused), the
    proof, OK's state, the field errors and, given ``row`` (the list row template's
    context), the refreshed row, all out of band."""
    blockers = _blockers(form) if outcome is not None else []
    ok_enabled = outcome is not None and outcome.result.succeeded and not form.errors
    parts = [
        _errors_html(form, test_refused=outcome is None),
        renderers.test_answer_html(outcome, blockers, ok_enabled=ok_enabled),
    ]
    if row is not None:
        parts.append(
            f"<template>{render_to_string('connections/list.html#row', row, request)}</template>\n"
        )
    return HttpResponse("".join(parts))


def _add_service_errors(form: ConnectionForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _posted_form(request: HttpRequest, connection: ERPConnection | None) -> ConnectionForm:
    form = ConnectionForm(request.POST, connection=connection)
    form.is_valid()
    return form


def _blockers(form: ConnectionForm) -> list[str]:
    """What keeps a successful test from allowing a save: errors outside the test's fields."""
    labels = {"users": form.fields["scope"].label, "groups": form.fields["scope"].label}
    found = []
    for name, errors in form.errors.items():
        if name in TEST_FIELDS or name.startswith("config__"):
            continue
        field = form.fields.get(name)
        label = labels.get(name) or (field.label if field is not None else "")
        for error in errors:
            found.append(f"{label}: {error}" if label else str(error))
    return found


def _dialog_test(request: HtmxHttpRequest, connection: ERPConnection | None) -> HttpResponse:
    """*Test ERP connection*: the result, the proof and OK's state, all out of band."""
    form = _posted_form(request, connection)
    testable = form.config is not None and not any(form.has_error(f) for f in TEST_FIELDS)
    if not testable:
        return _tested_response(request, form)
    try:
        outcome = services.connection_test(
            actor=request.user,
            connector_key=form.connector_cls.key,  # type: ignore[union-attr]
            config=form.config,  # type: ignore[arg-type]
            sync_connection=form.cleaned_data.get("sync_connection"),
            connection=connection,
            kept_secrets=form.kept_secrets,
        )
    except ValidationError as exc:
        _add_service_errors(form, exc)
        return _tested_response(request, form)
    # A test of a saved connection whose row is on the page refreshes that row too.
    row = None
    if outcome.of_saved and connection is not None and request.POST.get("row_on_page"):
        query = ListQuery.from_params(request.POST)
        row = {
            "connection": selectors.connection_row(pk=connection.pk),
            "oob": True,
            "query": query,
            "query_string": urlencode(query.params()),
            "list_path": reverse("connections:list"),
            "list_query": _list_query(query),
        }
    return _tested_response(request, form, outcome, row=row)


def _dialog_save(request: HtmxHttpRequest, connection: ERPConnection | None) -> HttpResponse:
    form = _posted_form(request, connection)
    if form.errors or form.config is None:
        return _errors_response(form)
    arguments = form.service_arguments()
    proof = form.cleaned_data.get("proof") or None
    try:
        if connection is None:
            saved = services.connection_create(actor=request.user, proof=proof, **arguments)
        else:
            saved = services.connection_update(
                actor=request.user,
                connection=connection,
                proof=proof,
                kept_secrets=form.kept_secrets,
                **arguments,
            )
    except ValidationError as exc:
        _add_service_errors(form, exc)
        return _errors_response(form)
    messages.success(request, _('Saved "%(name)s".') % {"name": saved.name})
    query = ListQuery.from_params(request.POST)
    if not _is_partial(request):
        return redirect(_list_url(query))
    response = render(request, "connections/list.html#results", _list_context(query))
    response = retarget(response, "#results")
    response = reswap(response, "outerHTML")
    return _focus(response, f"#connection-{saved.pk} a.edit-link")


def _focus(response: HttpResponse, selector: str = "#results .messages") -> HttpResponse:
    """After the swap: close an open dialog and put the focus on ``selector`` (or, when it
    is not on the page, on the list's message)."""
    return trigger_client_event(response, "erp:focus", {"selector": selector}, after="settle")


@require_GET
@manager_required
def connection_add(request: HtmxHttpRequest) -> HttpResponse:
    return _render_dialog(request, None)


@require_POST
@manager_required
def connection_add_test(request: HtmxHttpRequest) -> HttpResponse:
    return _dialog_test(request, None)


@require_POST
@manager_required
def connection_add_save(request: HtmxHttpRequest) -> HttpResponse:
    return _dialog_save(request, None)


@require_GET
@manager_required
def connection_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _render_dialog(request, _connection_or_404(pk))


@require_POST
@manager_required
def connection_edit_test(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _dialog_test(request, _connection_or_404(pk))


@require_POST
@manager_required
def connection_edit_save(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _dialog_save(request, _connection_or_404(pk))


@require_GET
@manager_required
def connection_edit_selected(request: HtmxHttpRequest) -> HttpResponse:
    """*Edit* on the list: the first selected connection's dialog, or a message in the page."""
    selected = selectors.connections_by_ids(ids=_selected_ids(request), deleted=False).first()
    query = ListQuery.from_params(request.GET)
    if selected is None:
        messages.warning(request, _("Select a connection to edit first."))
        response = render(request, "connections/list.html#results", _list_context(query))
        return _focus(reswap(retarget(response, "#results"), "outerHTML"))
    url = reverse("connections:edit", args=[selected.pk])
    params = urlencode(query.params())
    return push_url(_render_dialog(request, selected), f"{url}?{params}" if params else url)


@require_GET
@manager_required
def connection_delete_confirm(request: HtmxHttpRequest) -> HttpResponse:
    """The small *Delete* dialog naming the selected connections, or a message in the page."""
    selected = list(selectors.connections_by_ids(ids=_selected_ids(request), deleted=False))
    query = ListQuery.from_params(request.GET)
    if not selected:
        messages.warning(request, _("Select one or more connections first."))
        response = render(request, "connections/list.html#results", _list_context(query))
        return _focus(reswap(retarget(response, "#results"), "outerHTML"))
    return render(
        request,
        "connections/confirm_delete.html",
        {"connections": selected, "query": query},
    )


@require_GET
@manager_required
def connection_history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The history of a connection, deleted ones included, as a small dialog."""
    connection = get_object_or_404(ERPConnection.all_objects.all(), pk=pk)
    context = {
        "connection": connection,
        "history": history.connection_history(connection=connection),
        "back_url": _list_url(ListQuery.from_params(request.GET)),
    }
    if _is_partial(request):
        return render(request, "connections/history.html#dialog", context)
    return render(request, "connections/history.html", {**context, "active_tab": "erp"})


@require_GET
@manager_required
def connection_history_entries(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The entries of the edit dialog's *History*, loaded when it is first opened."""
    connection = get_object_or_404(ERPConnection.all_objects.all(), pk=pk)
    context = {"history": history.connection_history(connection=connection)}
    return render(request, "connections/history.html#entries", context)


@require_GET
@manager_required
def principal_picks(request: HtmxHttpRequest) -> HttpResponse:
    """The access dialog's OK: the picked users and groups as chips (``dialog.html#picked``)."""
    picked = selectors.principals_by_ids(
        user_ids=_ids(request.GET, "users"), group_ids=_ids(request.GET, "groups")
    )
    return render(
        request, "connections/dialog.html#picked", {"chips": renderers.chips_html(picked)}
    )


def _ids(params: Any, name: str) -> list[int]:
    ids = []
    for raw in params.getlist(name):
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    return ids


@require_GET
@manager_required
def connector_fields(request: HtmxHttpRequest) -> HttpResponse:
    """The connector-dependent block (sync connection and configuration fields)."""
    connection = None
    if request.GET.get("connection"):
        try:
            connection = ERPConnection.objects.filter(pk=int(request.GET["connection"])).first()
        except ValueError:
            connection = None
    form = ConnectionForm(connection=connection, connector_key=request.GET.get("connector") or None)
    return render(request, "connections/dialog.html#connector_fields", {"form": form})


@require_GET
@manager_required
def principal_search(request: HtmxHttpRequest) -> HttpResponse:
    """Users and groups for the access dialog: searched, paginated."""
    q = request.GET.get("q", "").strip()[:100]
    try:
        page_number = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page_number = 1
    page = selectors.principal_search(q=q, page=page_number)
    # The picks so far travel with every search: checked here, hidden inputs for the rest.
    users, groups = set(_ids(request.GET, "users")), set(_ids(request.GET, "groups"))
    shown = {(p.kind, p.id) for p in page}
    picked = {f"user:{u}" for u in users} | {f"group:{g}" for g in groups}
    return HttpResponse(
        renderers.principal_results_html(
            page,
            picked=picked,
            hidden_users=sorted(u for u in users if ("user", u) not in shown),
            hidden_groups=sorted(g for g in groups if ("group", g) not in shown),
        )
    )


@require_POST
@manager_required
def connection_test_selected(request: HtmxHttpRequest) -> HttpResponse:
    """*Test ERP connection* on the selected rows: all at once, each as saved."""
    refused = ""
    selected = _selection(request, deleted=False)
    for tested in services.connections_test_saved(actor=request.user, connections=selected):
        if tested.result is None:
            refused = tested.refused
            continue
        level = messages.SUCCESS if tested.result.succeeded else messages.ERROR
        messages.add_message(request, level, f"{tested.connection.name}: {tested.result.message}")
    if refused:
        messages.error(request, refused)
    return _after_action(request, ListQuery.from_params(request.POST))


@require_POST
@manager_required
def connector_choices(request: HtmxHttpRequest) -> HttpResponse:
    """The options of a configuration field whose choices come from the ERP (``choices_from``),
    from what the dialog holds so far (a POST: it carries typed secrets)."""
    key = request.POST.get("connector", "")
    field_name = request.POST.get("field", "")
    try:
        connector_cls = registry.get_connector_class(key)
    except registry.UnknownConnector:
        return HttpResponse(status=400)
    connection = None
    if request.POST.get("connection", "").isdigit():
        connection = ERPConnection.objects.filter(pk=int(request.POST["connection"])).first()
    posted = {k.removeprefix("config__"): v for k, v in request.POST.items()}
    stored = services.connection_secrets_for(
        connection=connection, connector_key=key, values=posted
    )
    outcome = config_choices(
        connector=connector_cls(connector_context()),
        field_name=field_name,
        posted=request.POST,
        stored_secrets=stored,
    )
    current = request.POST.get(f"config__{field_name}", "")
    choices = list(outcome.choices)
    if current and current not in {value for value, _label in choices}:
        choices.insert(0, (current, current))  # what is stored is never dropped silently
    return render(
        request,
        "connections/config_field.html#choices",
        {
            "name": f"config__{field_name}",
            "choices": choices,
            "current": current,
            "message": outcome.message,
            "described": request.POST.get("described") == "1",
        },
    )


# --- Preview as user -----------------------------------------------------------------------


def _preview_context(request: HtmxHttpRequest) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    preview = None
    try:
        user_id = int(request.GET.get("user", ""))
    except ValueError:
        user_id = None
    if user_id is not None:
        user = get_user_model().objects.filter(pk=user_id).first()
        if user is not None:
            preview = selectors.connection_preview(user)
    query = ListQuery.from_params(request.GET)
    return {"preview": preview, "query": query, "close_url": _list_url(query)}


@require_GET
@manager_required
def connection_preview(request: HtmxHttpRequest) -> HttpResponse:
    """*Preview as user*: pick a user, see the connections and price lists they would get
    on the quote side, and why the others are missing."""
    context = _preview_context(request)
    if _is_partial(request):
        target = request.htmx.target
        part = "#result" if target == "preview-result" else "#dialog"
        return render(request, "connections/preview.html" + part, context)
    query = context["query"]
    return render(
        request, "connections/list.html", {**_list_context(query), **context, "open_preview": True}
    )


@require_GET
@manager_required
def preview_user_search(request: HtmxHttpRequest) -> HttpResponse:
    """The users to preview as (the access dialog's search, users only)."""
    q = request.GET.get("q", "").strip()[:100]
    try:
        page_number = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page_number = 1
    page = selectors.principal_search(q=q, page=page_number, users_only=True)
    return render(request, "connections/preview.html#users", {"principals": page, "q": q})

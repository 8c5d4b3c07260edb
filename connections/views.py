"""Thin views: parse the request, call a service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection as db_connection
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, reswap, retarget, trigger_client_event
from django_htmx.middleware import HtmxDetails

from connections import crypto, selectors, services
from connections.config_choices import config_choices
from connections.context import connector_context
from connections.forms import ConnectionForm
from connections.models import ERPConnection
from connections.selectors import ListQuery
from connectors import registry

MANAGE_PERMISSION = "connections.manage_erpconnection"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    # These views sit behind login_required and a permission check (manager_required).
    user: User


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
    """Administrators land on the ERP connections tab, everyone else on their quotes."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not (user.is_staff and user.has_perm(MANAGE_PERMISSION)):
        return redirect("quotes:list")
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


def _next_sort(query: ListQuery, key: str) -> str | None:
    """The ``sort`` parameter of a column's link: toggles its direction; None is the default."""
    value = f"-{key}" if query.sort == key and not query.descending else key
    return None if value == "name" else value


def _sort_state(query: ListQuery, key: str) -> str:
    """The column's ``aria-sort``."""
    if query.sort != key:
        return "none"
    return "descending" if query.descending else "ascending"


def _list_context(query: ListQuery) -> dict[str, Any]:
    page = selectors.connection_list(query=query)
    return {
        "query": query,
        "page": page,
        "connections": page.object_list,
        # The template builds its links with {% querystring %} on the list's own path, so
        # they stay right when the list is rendered under a dialog's URL.
        "list_path": reverse("connections:list"),
        "sort_next": {key: _next_sort(query, key) for key in selectors.SORTS},
        "sort_state": {key: _sort_state(query, key) for key in selectors.SORTS},
        "previous_page": page.number - 1 if page.number > 2 else None,
        "query_string": urlencode(query.params()),
        "list_query": f"?{urlencode(query.params())}" if query.params() else "",
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


def _dialog_context(
    request: HttpRequest, form: ConnectionForm, connection: ERPConnection | None
) -> dict[str, Any]:
    query = ListQuery.from_params(request.GET if request.method == "GET" else request.POST)
    return {
        "form": form,
        "connection": connection,
        "query": query,
        "action_url": (
            reverse("connections:edit", args=[connection.pk])
            if connection
            else reverse("connections:add")
        ),
        "close_url": _list_url(query),
        "selected_users": form.initial.get("users", []) if not form.is_bound else [],
        "selected_groups": form.initial.get("groups", []) if not form.is_bound else [],
    }


def _connection_or_404(pk: int) -> ERPConnection:
    return get_object_or_404(ERPConnection.objects.all(), pk=pk)


def _render_dialog(
    request: HtmxHttpRequest, form: ConnectionForm, connection: ERPConnection | None
) -> HttpResponse:
    context = _dialog_context(request, form, connection)
    if _is_partial(request):
        return render(request, "connections/dialog.html#dialog", context)
    # A shared link or a reload: the list with the dialog open on top.
    query = ListQuery.from_params(request.GET)
    return render(
        request, "connections/list.html", {**_list_context(query), **context, "open_dialog": True}
    )


def _errors_response(request: HttpRequest, form: ConnectionForm, **extra: Any) -> HttpResponse:
    """Field errors swapped into place without touching what the user typed."""
    field_names = [name for name in form.fields if name not in ("proof", "users", "groups")]
    errors = {name: [str(e) for e in form.errors.get(name, [])] for name in field_names}
    # The picked users and groups are hidden inputs shown under Scope: their errors go there.
    for name in ("users", "groups"):
        errors["scope"] += [str(e) for e in form.errors.get(name, [])]
    return render(
        request,
        "connections/dialog.html#errors",
        {
            "errors": errors,
            "non_field_errors": form.non_field_errors(),
            "has_errors": bool(form.errors),
            **extra,
        },
    )


def _connection_dialog(request: HtmxHttpRequest, connection: ERPConnection | None) -> HttpResponse:
    if request.method == "GET":
        form = ConnectionForm(
            connection=connection,
            stored_secret_names=services.connection_secret_names(connection=connection),
            connector_key=request.GET.get("connector") or None,
        )
        return _render_dialog(request, form, connection)
    # Posted values may leave a secret blank ("unchanged"): only now are stored ones decrypted.
    try:
        stored = services.connection_stored_secrets(connection=connection)
        unreadable = False
    except crypto.SecretsUnreadable:
        stored, unreadable = {}, True
    form = ConnectionForm(request.POST, connection=connection, stored_secrets=stored)
    form.is_valid()
    if unreadable:  # a key was lost: a secret left blank cannot be kept
        for name in services.connection_secret_names(connection=connection):
            field = f"config__{name}"
            if field in form.fields and not request.POST.get(field):
                form.errors.pop(field, None)  # "required" says less than why
                form.add_error(
                    field,
                    _("The stored value cannot be read with the current keys. Enter it again."),
                )
    if request.POST.get("action") == "test":
        return _dialog_test(request, form, connection)
    return _dialog_save(request, form, connection)


def _dialog_test(
    request: HtmxHttpRequest, form: ConnectionForm, connection: ERPConnection | None
) -> HttpResponse:
    testable = form.config is not None and not any(form.has_error(f) for f in TEST_FIELDS)
    if not testable:
        return _test_refused(request, form)
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
        return _test_refused(request, form)
    response = _errors_response(request, form, outcome=outcome, tested=True)
    return trigger_client_event(
        response, "erp:tested", {"succeeded": outcome.result.succeeded}, after="settle"
    )


def _test_refused(request: HttpRequest, form: ConnectionForm) -> HttpResponse:
    response = _errors_response(request, form, test_refused=True)
    return trigger_client_event(response, "erp:tested", {"succeeded": False}, after="settle")


def _add_service_errors(form: ConnectionForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _dialog_save(
    request: HtmxHttpRequest, form: ConnectionForm, connection: ERPConnection | None
) -> HttpResponse:
    if form.errors or form.config is None:
        return _errors_response(request, form)
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
        return _errors_response(request, form)
    messages.success(request, _('Saved "%(name)s".') % {"name": saved.name})
    query = ListQuery.from_params(request.POST)
    if not _is_partial(request):
        return redirect(_list_url(query))
    response = render(request, "connections/list.html#results", _list_context(query))
    response = retarget(response, "#results")
    response = reswap(response, "outerHTML")
    return trigger_client_event(response, "erp:saved", {"id": saved.pk}, after="settle")


@manager_required
def connection_add(request: HtmxHttpRequest) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    return _connection_dialog(request, None)


@manager_required
def connection_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    return _connection_dialog(request, _connection_or_404(pk))


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
    form = ConnectionForm(
        connection=connection,
        stored_secret_names=services.connection_secret_names(connection=connection),
        connector_key=request.GET.get("connector") or None,
    )
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
    return render(
        request,
        "connections/dialog.html#principals",
        {"principals": page, "q": q},
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

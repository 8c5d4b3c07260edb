"""Thin views of the quote side: parse the request, call a service or selector, render.

Any logged-in, active user may use them (no settings permission); a quote is only ever
found among its owner's quotes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from connections import quoting
from connections.selectors import (
    connection_choice,
    connections_for_user,
    currencies_for_user,
)
from quotes import selectors, services
from quotes.forms import NewQuoteForm
from quotes.models import Quote


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    user: User  # behind login_required


def _is_partial(request: HtmxHttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return 1


def _new_quote_context(request: HtmxHttpRequest, form: NewQuoteForm | None) -> dict[str, Any]:
    connections = [item for item in connections_for_user(request.user) if item.usable]
    currencies = currencies_for_user(request.user, listed=connections) if connections else []
    if connections and not currencies:
        currencies = ["EUR"]  # nothing reachable now: the selection step will say so
    if form is None:
        form = NewQuoteForm(currencies=currencies)
    return {"form": form, "has_connections": bool(connections)}


@require_GET
@login_required
@vary_on_headers("HX-Request")
def quote_list(request: HtmxHttpRequest) -> HttpResponse:
    """*My quotes* (searchable, paginated) and *New quote*."""
    q = request.GET.get("q", "").strip()[:100]
    page = selectors.quote_list(owner=request.user, q=q, page=_page_number(request))
    context = {"page": page, "quotes": page.object_list, "q": q}
    if _is_partial(request):
        return render(request, "quotes/list.html#quote_results", context)
    return render(request, "quotes/list.html", {**context, **_new_quote_context(request, None)})


@require_POST
@login_required
def quote_create(request: HtmxHttpRequest) -> HttpResponse:
    """Create the quote; then the quote page, or *Select ERP connection* when needed."""
    context = _new_quote_context(request, None)
    currencies = [code for code, _label in context["form"].fields["currency"].choices]
    form = NewQuoteForm(request.POST, currencies=currencies)
    if not form.is_valid():
        page = selectors.quote_list(owner=request.user)
        return render(
            request,
            "quotes/list.html",
            {**context, "form": form, "page": page, "quotes": page.object_list, "q": ""},
            status=400,
        )
    try:
        quote, choice = services.quote_create(owner=request.user, **form.cleaned_data)
    except ValidationError as exc:
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        page = selectors.quote_list(owner=request.user)
        return render(
            request,
            "quotes/list.html",
            {**context, "form": form, "page": page, "quotes": page.object_list, "q": ""},
            status=400,
        )
    target = "quotes:detail" if choice.chosen else "quotes:select_connection"
    return _go(request, reverse(target, args=[quote.pk]))


def _go(request: HtmxHttpRequest, url: str) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_http_methods(["GET", "POST"])
@login_required
def quote_select_connection(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """*Select ERP connection*: pick one of the user's connections for this quote."""
    quote = selectors.quote_for_user(user=request.user, pk=pk)
    error = ""
    if request.method == "POST":
        try:
            connection_id = int(request.POST.get("connection", ""))
            services.quote_connect(quote=quote, user=request.user, connection_id=connection_id)
        except (ValueError, ValidationError):
            error = _("Choose one of the connections shown.")
        else:
            return _go(request, reverse("quotes:detail", args=[quote.pk]))
    choice = connection_choice(request.user, currency=quote.currency)
    return render(
        request,
        "quotes/select_connection.html",
        {"quote": quote, "choice": choice, "error": error},
        status=400 if error else 200,
    )


def _quote_context(request: HtmxHttpRequest, quote: Quote, **extra: Any) -> dict[str, Any]:
    state = selectors.quote_connection(quote=quote, user=request.user)
    lines = list(quote.lines.all())
    rules = state.handle.rules if state.handle else None
    context: dict[str, Any] = {
        "quote": quote,
        "state": state,
        "handle": state.handle,
        "lines": lines,
        "total": selectors.quote_total(quote, lines, rules),
        "decimals": rules.price_decimals if rules else 2,
        "max_discount": rules.max_discount if rules else None,
        "typed": {},
        "line_errors": {},
        "q": request.GET.get("q", "").strip()[:100],
    }
    context.update(extra)
    for line in lines:  # refused values as typed, with their errors, on their own line
        line.typed = context["typed"].get(line.pk, {})  # type: ignore[attr-defined]
        line.errors = context["line_errors"].get(line.pk, {})  # type: ignore[attr-defined]
    return context


def _price_lists(context: dict[str, Any]) -> None:
    handle = context["handle"]
    context["price_lists"], context["price_list_error"] = [], ""
    if handle is None:
        return
    try:
        context["price_lists"] = quoting.price_lists(handle, currency=context["quote"].currency)
    except quoting.UseError as exc:
        context["price_list_error"] = exc.message


def _search(context: dict[str, Any]) -> None:
    handle, q = context["handle"], context["q"]
    context["search"], context["search_error"] = None, ""
    if handle is None or not q:
        return
    try:
        context["search"] = quoting.search_products(
            handle, q=q, price_list=context["quote"].price_list or None
        )
    except quoting.UseError as exc:
        context["search_error"] = exc.message


@require_GET
@login_required
@vary_on_headers("HX-Request")
def quote_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The quote: price list, product search (``?q=`` in the URL), lines and totals."""
    quote = selectors.quote_for_user(user=request.user, pk=pk)
    context = _quote_context(request, quote)
    _search(context)
    if _is_partial(request) and request.htmx.target == "products":
        return render(request, "quotes/quote.html#products", context)
    _price_lists(context)
    return render(request, "quotes/quote.html", context)


def _lines_response(request: HtmxHttpRequest, quote: Quote, **extra: Any) -> HttpResponse:
    context = _quote_context(request, quote, **extra)
    if _is_partial(request):
        return render(request, "quotes/quote.html#lines", context)
    return redirect(reverse("quotes:detail", args=[quote.pk]))


def _usable_handle(request: HtmxHttpRequest, quote: Quote) -> quoting.Handle | None:
    """The quote's connection, or None with the reason as an error message."""
    state = selectors.quote_connection(quote=quote, user=request.user)
    if state.handle is None:
        messages.error(request, _unavailable_text(quote, state))
    return state.handle


def _unavailable_text(quote: Quote, state: selectors.QuoteConnection) -> str:
    if state.message:  # in the user's scope, but unavailable (a failed check) or unusable
        return _('The ERP connection "%(name)s" is unavailable: %(message)s') % {
            "name": quote.connection_name,
            "message": state.message,
        }
    if state.error is not None:
        return str(state.error.message)
    return _("The ERP connection of this quote is no longer available to you.")


@require_POST
@login_required
def quote_price_list(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Choose the price list new lines are priced from."""
    quote = selectors.quote_for_user(user=request.user, pk=pk)
    handle = _usable_handle(request, quote)
    if handle is not None:
        try:
            kept = services.quote_set_price_list(
                quote=quote, handle=handle, price_list=request.POST.get("price_list", "")
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except quoting.UseError as exc:
            messages.error(request, exc.message)
        else:
            if kept:
                messages.warning(
                    request,
                    _("Not on this price list, so their price was kept: %(codes)s.")
                    % {"codes": ", ".join(kept)},
                )
    url = reverse("quotes:detail", args=[quote.pk])
    q = request.POST.get("q", "").strip()[:100]
    return _go(request, f"{url}?{urlencode({'q': q})}" if q else url)


@require_POST
@login_required
def quote_line_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """*Add*: the product with this code as a new line (quantity 1)."""
    quote = selectors.quote_for_user(user=request.user, pk=pk)
    handle = _usable_handle(request, quote)
    if handle is not None:
        try:
            services.quote_line_add(quote=quote, handle=handle, code=request.POST.get("code", ""))
        except quoting.UseError as exc:
            messages.error(request, exc.message)
    return _lines_response(request, quote)


@require_POST
@login_required
def quote_lines_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Save the lines' quantities and discounts as edited; refused values stay as typed."""
    quote = selectors.quote_for_user(user=request.user, pk=pk)
    handle = _usable_handle(request, quote)
    typed: dict[int, dict[str, str]] = {}
    errors: dict[int, dict[str, str]] = {}
    if handle is None:
        return _lines_response(request, quote)
    for line in quote.lines.all():
        quantity = request.POST.get(f"quantity-{line.pk}")
        discount = request.POST.get(f"discount-{line.pk}")
        if quantity is None and discount is None:
            continue
        edit = services.quote_line_update(
            line=line, handle=handle, quantity=quantity, discount=discount
        )
        if edit.errors:
            typed[line.pk], errors[line.pk] = edit.typed, edit.errors
    return _lines_response(request, quote, typed=typed, line_errors=errors)


@require_POST
@login_required
def quote_line_remove(request: HtmxHttpRequest, pk: int, line_pk: int) -> HttpResponse:
    quote = selectors.quote_for_user(user=request.user, pk=pk)
    line = selectors.quote_line(quote=quote, pk=line_pk)
    if _usable_handle(request, quote) is not None:
        services.quote_line_remove(line=line)
    return _lines_response(request, quote)

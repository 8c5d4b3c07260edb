"""The quote JSON API (PRODUCT.md section 10), built with django-ninja on pydantic schemas.

Session login (the browser's), CSRF on writes. Every error is JSON of one shape,
``{"error": {"code": ..., "message": ..., "field": ...}}``, and is declared in the OpenAPI
document at ``/api/quote/openapi.json`` (interactive docs at ``/api/quote/docs``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import django_auth

from connections import quoting
from connections.selectors import (
    UserConnection,
    connection_choice,
    connection_for_user,
    connections_for_user,
    with_price_lists,
)
from quotes import services

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Quote API",
    version="1",
    description=(
        "The quote side of the ERP connections: the connections a logged-in user may use, "
        "their price lists and products, and prices with the connection's business rules. "
        "Session login; send the CSRF token (header X-CSRFToken) on POST. Amounts are "
        "decimal strings rounded by the connection's rule."
    ),
    urls_namespace="quote_api",
    auth=django_auth,
    docs_decorator=login_required,
)


# --- schemas -----------------------------------------------------------------------------


class ErrorDetail(Schema):
    code: str = Field(
        description="not_found, invalid, discount_too_high, not_authenticated, "
        "csrf_failed, unavailable, or the connector's own error code (502)",
        examples=["not_found"],
    )
    message: str = Field(description="For the user, in the request's language.")
    field: str | None = Field(
        None, description="The input the error is about, e.g. lines.0.discount_percent"
    )


class ErrorOut(Schema):
    error: ErrorDetail


class ConnectionOut(Schema):
    id: int
    name: str
    description: str
    connector: str = Field(examples=["rest_json"])
    capabilities: list[str] = Field(examples=[["price_lists", "product_search"]])
    price_list_count: int = Field(
        description="Price lists in the asked currency (all currencies without one)."
    )
    available: bool = Field(description="False: in the user's scope but not usable now.")
    message: str = Field(
        "",
        description="Why it is not available (its last health check's message); empty when it is.",
    )


class ConnectionsOut(Schema):
    connections: list[ConnectionOut]
    select_required: bool = Field(
        description="False when exactly one usable connection has price lists in the "
        "currency (it is taken without asking); true when several or none have."
    )


class PriceListOut(Schema):
    id: str
    name: str
    currency: str = Field(examples=["EUR"])
    valid_from: str | None = Field(None, description="ISO date or null")
    valid_to: str | None = Field(None, description="ISO date or null")


class PriceListsOut(Schema):
    price_lists: list[PriceListOut]


class ProductOut(Schema):
    code: str
    name: str
    price: str = Field(examples=["12.50"], description="Rounded by the connection's rule.")
    currency: str = Field(examples=["EUR"])
    vat: str | None = Field(examples=["21"], description="VAT percentage, null if unknown.")
    unit: str = Field(examples=["pcs"])


class ProductsOut(Schema):
    products: list[ProductOut]
    notice: str = Field(
        description="Empty, or the fallback notice when the product register answered "
        "for an ERP that cannot be reached."
    )


class PriceLineIn(Schema):
    code: str = Field(min_length=1, max_length=100)
    quantity: str = Field("1", max_length=30, examples=["2"], description="Decimal, > 0")
    discount_percent: str = Field(
        "0", max_length=30, examples=["10"], description="0 up to the connection's maximum"
    )


class PriceIn(Schema):
    price_list: str = Field("", max_length=100, description="A price list id; empty: default")
    lines: list[PriceLineIn] = Field(min_length=1, max_length=100)


class PricedLineOut(Schema):
    code: str
    name: str
    quantity: str = Field(examples=["2"])
    unit_price: str = Field(examples=["12.50"])
    discount_percent: str = Field(examples=["10"])
    total: str = Field(examples=["22.50"])


class PriceOut(Schema):
    lines: list[PricedLineOut]
    total: str = Field(examples=["22.50"])
    currency: str = Field(examples=["EUR"])


READ_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 502: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 403: ErrorOut}


# --- errors ------------------------------------------------------------------------------


def error_response(
    request: HttpRequest, status: int, code: str, message: str, field: str | None = None
) -> HttpResponse:
    body = {"error": {"code": code, "message": str(message), "field": field}}
    return api.create_response(request, body, status=status)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(request, exc.status, exc.code, exc.message, exc.field)


@api.exception_handler(quoting.UseError)
def _use_error(request: HttpRequest, exc: quoting.UseError) -> HttpResponse:
    return error_response(request, 502, exc.code, exc.message)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    location = [str(part) for part in first.get("loc", ())]
    if location[:1] == ["body"]:
        location = location[2:]  # "body", the parameter's name
    elif location[:1] in (["query"], ["path"]):
        location = location[1:]
    message = first.get("msg", "") or _("The input is not valid.")
    return error_response(request, 400, "invalid", message, ".".join(location) or None)


@api.exception_handler(AuthenticationError)
def _not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "not_authenticated", _("Log in first."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 403:  # the session auth's CSRF check
        return error_response(
            request,
            403,
            "csrf_failed",
            _("The CSRF token is missing or wrong. Reload and try again."),
        )
    return error_response(request, exc.status_code, "invalid", str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", _("No such ERP connection."))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("quote API failed")
    return error_response(request, 500, "server_error", _("Something went wrong. Try again."))


def not_found_view(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under /api/quote/: JSON, like the API's own errors."""
    body = {"error": {"code": "not_found", "message": _("No such API endpoint."), "field": None}}
    return JsonResponse(body, status=404)


# --- endpoints ---------------------------------------------------------------------------


def _connection_out(item: UserConnection) -> dict[str, Any]:
    connection = item.connection
    try:
        from connectors import registry

        capabilities = sorted(
            str(c) for c in registry.get_connector_class(connection.connector_key).capabilities
        )
    except KeyError:
        capabilities = []
    return {
        "id": connection.pk,
        "name": connection.name,
        "description": connection.description,
        "connector": connection.connector_key,
        "capabilities": capabilities,
        "price_list_count": item.price_list_count,
        "available": item.usable,
        "message": item.message,
    }


def _clean_currency(currency: str | None) -> str | None:
    if currency is None or not currency.strip():
        return None
    code = currency.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ApiError(400, "invalid", _("A currency is three letters, e.g. EUR."), "currency")
    return code


@api.get(
    "/connections/",
    response={200: ConnectionsOut, **READ_ERRORS},
    summary="The user's ERP connections",
    description="The live connections whose scope includes the user (All, the user listed, "
    "or a group of the user listed), with their price lists in `currency` counted. Without "
    "a currency, `select_required` is false only when the user has exactly one usable "
    "connection.",
)
def list_connections(request: HttpRequest, currency: str | None = None) -> dict[str, Any]:
    code = _clean_currency(currency)
    if code is None:
        found = with_price_lists(connections_for_user(request.user), currency=None)
        select_required = sum(1 for item in found if item.usable) != 1
    else:
        choice = connection_choice(request.user, currency=code)
        found, select_required = choice.connections, choice.select_required
    return {
        "connections": [_connection_out(item) for item in found],
        "select_required": select_required,
    }


def _handle(request: HttpRequest, connection_id: int) -> quoting.Handle:
    """The user's connection as a handle: 404 when it is not in the user's scope (or deleted,
    or unknown), 502 when it is in scope but cannot be used."""
    item = connection_for_user(request.user, pk=connection_id)
    if item is None:
        raise Http404
    if not item.usable:
        raise quoting.UseError(item.message, code="unavailable")
    return quoting.handle_for(item.connection)


@api.get(
    "/connections/{connection_id}/price-lists/",
    response={200: PriceListsOut, **READ_ERRORS},
    summary="A connection's price lists",
)
def list_price_lists(
    request: HttpRequest, connection_id: int, currency: str | None = None
) -> dict[str, Any]:
    handle = _handle(request, connection_id)
    lists = quoting.price_lists(handle, currency=_clean_currency(currency))
    return {
        "price_lists": [
            {
                "id": pl.id,
                "name": pl.name,
                "currency": pl.currency,
                "valid_from": pl.valid_from,
                "valid_to": pl.valid_to,
            }
            for pl in lists
        ]
    }


class ProductQuery(Schema):
    q: str = Field("", max_length=100, description="Text in the code or name")
    price_list: str | None = Field(None, max_length=100, description="A price list id")
    limit: int = Field(quoting.SEARCH_LIMIT, ge=1, le=quoting.MAX_SEARCH_LIMIT)


@api.get(
    "/connections/{connection_id}/products/",
    response={200: ProductsOut, **READ_ERRORS},
    summary="Search a connection's products",
)
def search_products(
    request: HttpRequest, connection_id: int, filters: Query[ProductQuery]
) -> dict[str, Any]:
    handle = _handle(request, connection_id)
    found = quoting.search_products(
        handle, q=filters.q, price_list=filters.price_list, limit=filters.limit
    )
    return {
        "products": [
            {
                "code": p.code,
                "name": p.name,
                "price": quoting.money(p.price, handle.rules),
                "currency": p.currency,
                "vat": quoting.plain(p.vat) if p.vat is not None else None,
                "unit": p.unit,
            }
            for p in found.products
        ],
        "notice": found.notice,
    }


@api.post(
    "/connections/{connection_id}/price/",
    response={200: PriceOut, **WRITE_ERRORS},
    summary="Price quote lines",
    description="Prices lines from a price list with the connection's rules; nothing is "
    "saved. A discount above the connection's maximum is a 400 `discount_too_high`.",
)
def price(request: HttpRequest, connection_id: int, payload: PriceIn) -> dict[str, Any]:
    handle = _handle(request, connection_id)
    try:
        priced = services.quote_price(
            handle=handle,
            price_list=payload.price_list,
            lines=[line.dict() for line in payload.lines],
        )
    except services.LineInvalid as exc:
        raise ApiError(400, exc.code, exc.message, exc.field) from None
    rules = handle.rules
    return {
        "lines": [
            {
                "code": line.code,
                "name": line.name,
                "quantity": quoting.plain(line.quantity),
                "unit_price": quoting.money(line.unit_price, rules),
                "discount_percent": quoting.plain(line.discount_percent),
                "total": quoting.money(line.total, rules),
            }
            for line in priced.lines
        ],
        "total": quoting.money(priced.total, rules),
        "currency": priced.currency,
    }

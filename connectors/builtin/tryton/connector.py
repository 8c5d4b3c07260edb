"""The Tryton connector: test, price lists, products and prices (facts in TRYTON.md).

Talks to a Tryton server (7.x/8.x) through its REST API with a user application key
(:mod:`.api`). A price list's price is the server's own ``sale_price_uom`` (module
``sale_price_list``) read with the price list in the context; a server without that field
gives the list price, with a notice on each product.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext, gettext_lazy as _, ngettext, ngettext_lazy

from connectors.base import Capability, PriceList, Product, TestResult, TestStatus
from connectors.builtin.tryton.api import TrytonSession, _decimal, _field, _like, _text
from connectors.builtin.tryton.config import ErrorCode, TrytonConfig, TrytonError
from connectors.http_connector import DEFAULT_FAILURE_WORDING, Failure, HttpConnector
from connectors.rules import QuotePricing, check_search_limit, round_price

#: The most products one search asks for; a larger ``limit`` is refused.
MAX_SEARCH_LIMIT = 200

_UNREACHABLE = (
    _("Cannot reach %(host)s. Check the Server URL and that the Tryton server is running."),
    ErrorCode.UNREACHABLE,
)
_TIMEOUT = (
    ngettext_lazy(
        "No answer within %(seconds)s second from %(host)s. Check that Tryton is running, "
        "or raise the timeout.",
        "No answer within %(seconds)s seconds from %(host)s. Check that Tryton is running, "
        "or raise the timeout.",
        "seconds",
    ),
    ErrorCode.TIMEOUT,
)
_TLS = (
    _(
        "TLS certificate problem: no trusted secure connection could be made with "
        "%(host)s. Install a valid certificate on the Tryton server, check http or https "
        "in the Server URL, or switch off Verify TLS certificates for testing only."
    ),
    ErrorCode.TLS_CERTIFICATE,
)
_UNEXPECTED = (
    _("Unexpected response from the Tryton server at %(host)s."),
    ErrorCode.UNEXPECTED_RESPONSE,
)


class TrytonConnector(QuotePricing, HttpConnector[TrytonConfig]):
    """Price lists, product search, product details and price-list prices from Tryton."""

    key = "tryton"
    label = _("Tryton ERP")
    vendor = "Tryton"
    version = "1.0"
    description = _(
        "Tryton 7.x/8.x through its REST API with an API key: price lists, products and, with "
        "the module sale_price_list, prices calculated from a price list."
    )
    Config = TrytonConfig
    capabilities = frozenset(
        {
            Capability.PRICE_LISTS,
            Capability.PRODUCT_SEARCH,
            Capability.PRODUCT_DETAILS,
            Capability.PRICE_CALCULATION,
        }
    )
    sync_connection = "none"
    user_agent = "erpsettings-tryton/1.0"
    Error = TrytonError
    failure_wording = {
        **DEFAULT_FAILURE_WORDING,
        **dict.fromkeys([Failure.TIMEOUT, Failure.TOTAL_TIMEOUT], _TIMEOUT),
        **dict.fromkeys([Failure.TLS_CERTIFICATE, Failure.TLS_HANDSHAKE], _TLS),
        **dict.fromkeys([Failure.TOO_MANY_REDIRECTS, Failure.BAD_RESPONSE], _UNEXPECTED),
        **dict.fromkeys(
            [Failure.HOST_NOT_FOUND, Failure.CONNECTION_REFUSED, Failure.UNREACHABLE], _UNREACHABLE
        ),
        Failure.RESPONSE_TOO_LARGE: (
            _("Unexpected response: the answer of %(host)s is larger than allowed."),
            ErrorCode.UNEXPECTED_RESPONSE,
        ),
        Failure.PROTOCOL_ERROR: (
            _("%(host)s does not answer like a Tryton server. Check the Server URL."),
            ErrorCode.NOT_TRYTON,
        ),
        Failure.CONNECTION_LOST: (
            _("Cannot reach %(host)s: the connection was interrupted. Try again later."),
            ErrorCode.UNREACHABLE,
        ),
    }

    #: Records asked for per ``Range`` request when reading whole lists.
    page_size = 100

    # -- public contract

    def server_url(self, config: TrytonConfig) -> str:
        return str(config.server_url)

    def test_details(self, config: TrytonConfig) -> dict[str, Any]:
        return {
            "server_url": str(config.server_url),
            "database": config.database,
            "company_id": config.company,
        }

    def check(self, cfg: TrytonConfig) -> TestResult:
        """Check that the server is Tryton, the database exists, the key is accepted and the
        company is readable; ``ok`` with the counts, ``ok_with_info`` when something limits
        quotes (no price lists or products, no server-side pricing), ``error`` otherwise."""
        with self._session(cfg) as api:
            version = api.server_version()
            price_list_count = api.count("product.price_list", [["company", "=", cfg.company]])
            company = api.company()
            product_count = api.count("product.product")
            price_list = api.price_list(cfg.price_list) if cfg.price_list else None
            calculates = api.calculates_prices()
        details = {
            **self.test_details(cfg),
            "server_version": version,
            "company": company.name,
            "currency": company.currency,
            "price_list_count": price_list_count,
            "product_count": product_count,
            "price_calculation": calculates,
        }
        if price_list is not None:
            details["price_list"] = {"id": str(price_list.id), "name": price_list.name}
        message = gettext("Connection OK: %(price_lists)s, %(products)s available") % {
            "price_lists": ngettext(
                "%(count)s price list", "%(count)s price lists", price_list_count
            )
            % {"count": price_list_count},
            "products": ngettext("%(count)s product", "%(count)s products", product_count)
            % {"count": product_count},
        }
        notes = []
        if product_count == 0:
            notes.append(gettext("Tryton has no products for quotes yet."))
        if price_list_count == 0:
            notes.append(gettext("Quotes use list prices until Tryton has a price list."))
        elif not calculates:
            notes.append(
                gettext(
                    "This Tryton server does not calculate prices from price lists (module "
                    "sale_price_list); quotes use list prices."
                )
            )
        technical = (
            f"Tryton {version} at {api.base}, database {cfg.database}: "
            f"{price_list_count} price lists, {product_count} products; company "
            f"{company.id} {company.name!r} ({company.currency}); price calculation "
            f"{'sale_price_uom' if calculates else 'not available'}"
        )
        if price_list is not None:
            technical += f"; price list for quotes {price_list.id} {price_list.name!r}"
        return TestResult(
            TestStatus.OK_WITH_INFO if notes else TestStatus.OK,
            " ".join([f"{message}.", *notes]) if notes else message,
            technical_message=self.redact(cfg, technical),
            details=details,
        )

    def price_lists(self, cfg: TrytonConfig, *, currency: str | None = None) -> list[PriceList]:
        """The company's active price lists (in ``currency`` when given), by name.

        Raises :class:`TrytonError`; when Tryton is unreachable and the fallback rule is on,
        answers from the product register instead.
        """
        try:
            with self._session(cfg) as api:
                records = api.price_lists()
        except TrytonError as exc:
            return self.fallback(cfg, exc).price_lists(currency=currency)
        wanted = currency.strip().upper() if currency else None
        lists = [
            PriceList(
                id=str(record["id"]),
                name=_text(record.get("name")),
                currency=_text(_field(record, "company.currency.code")).upper(),
            )
            for record in records
        ]
        return [pl for pl in lists if wanted is None or pl.currency == wanted]

    def search_products(
        self, cfg: TrytonConfig, *, q: str, price_list: str | None = None, limit: int = 20
    ) -> list[Product]:
        """Products whose code or name contains ``q``, at most ``limit``, priced from
        ``price_list`` (an id or name; default: the price list for quotes, else list prices)
        and rounded by the connection's rounding rule.

        Raises :class:`TrytonError`; when Tryton is unreachable and the fallback rule is on,
        answers from the product register, each product with a ``notice`` saying so.
        """
        check_search_limit(limit, MAX_SEARCH_LIMIT, TrytonError)
        text = q.strip()
        domain = [["rec_name", "ilike", _like(text)]] if text else []
        reference = cfg.price_list if price_list is None else price_list.strip()
        try:
            with self._session(cfg) as api:
                return self._priced(api, cfg, domain=domain, reference=reference, limit=limit)
        except TrytonError as exc:
            register_ = self.fallback(cfg, exc)
            found = register_.search_products(q=q, price_list=price_list, limit=limit)
            return [_from_register(product, cfg) for product in found]

    def product_details(
        self,
        cfg: TrytonConfig,
        *,
        code: str,
        price_list: str | None = None,
        quantity: Decimal | int = 1,
    ) -> Product:
        """The product with exactly this ``code``, priced for ``quantity`` from
        ``price_list`` as in :meth:`search_products`.

        Raises :class:`TrytonError` (``product_not_found`` when there is none); when Tryton is
        unreachable and the fallback rule is on, answers from the product register.
        """
        reference = cfg.price_list if price_list is None else price_list.strip()
        try:
            with self._session(cfg) as api:
                found = self._priced(
                    api,
                    cfg,
                    domain=[["code", "=", code]],
                    reference=reference,
                    limit=1,
                    quantity=Decimal(quantity),
                )
        except TrytonError as exc:
            register_ = self.fallback(cfg, exc)
            matches = register_.search_products(q=code, price_list=price_list, limit=20)
            found = [_from_register(p, cfg) for p in matches if p.code == code][:1]
        if not found:
            raise TrytonError(
                gettext('Tryton has no product with the code "%(code)s".') % {"code": code},
                code=ErrorCode.PRODUCT_NOT_FOUND,
                technical=f"product.product code={code!r} -> no record",
            )
        return found[0]

    # -- choices from the ERP (the dialog's Company and Price list for quotes)

    def company_choices(self, config: TrytonConfig) -> list[tuple[Any, str]]:
        """The companies the API key's user may read, as ``(id, "name (currency)")``."""
        with self._session(config) as api:
            companies = api.companies()
        return [(c.id, f"{c.name} ({c.currency})" if c.currency else c.name) for c in companies]

    def price_list_choices(self, config: TrytonConfig) -> list[tuple[Any, str]]:
        """The company's active price lists as ``(id, name)``, after "use list prices"."""
        with self._session(config) as api:
            records = api.price_lists()
        choices = [(str(r["id"]), _text(r.get("name"))) for r in records]
        return [("", gettext("None: use list prices")), *choices]

    # -- helpers

    @contextmanager
    def _session(self, cfg: TrytonConfig) -> Iterator[TrytonSession]:
        with self.client(cfg) as client:
            yield TrytonSession(self, cfg, client)

    def _priced(
        self,
        api: TrytonSession,
        cfg: TrytonConfig,
        *,
        domain: list[Any],
        reference: str,
        limit: int,
        quantity: Decimal | None = None,
    ) -> list[Product]:
        """Products matching ``domain`` with the price of the price list ``reference``
        (server-side when the server can, else the list price with a notice)."""
        fields = ["code", "name", "list_price_used", "default_uom.symbol"]
        context: dict[str, Any] = {}
        if quantity is not None:
            context["quantity"] = float(quantity)
        price_list = None
        calculates = False
        if reference:
            calculates = api.calculates_prices()
            price_list = api.price_list(reference)
            currency = price_list.currency
            if calculates:
                fields.append("sale_price_uom")
                context["price_list"] = price_list.id
        else:
            currency = api.company().currency
        records = api.search(
            "product.product",
            fields=fields,
            domain=domain,
            order=[("code", "ASC"), ("id", "ASC")],
            limit=limit,
            context=context,
        )
        products = []
        for record in records:
            list_price = _decimal(_field(record, "list_price_used"))
            price, notice = list_price, ""
            if price_list is not None and not calculates:
                notice = gettext(
                    "List price: this Tryton server does not calculate prices from price lists."
                )
            elif price_list is not None:
                price = _decimal(_field(record, "sale_price_uom"))
                if price is None:
                    price = list_price
                    notice = gettext("List price: the price list gives no price for this product.")
            if price is None:
                price = Decimal(0)
                notice = gettext("Tryton has no price for this product.")
            products.append(
                Product(
                    code=_text(record.get("code")),
                    name=_text(record.get("name")),
                    price=round_price(price, cfg),
                    currency=currency,
                    vat=None,
                    unit=_text(_field(record, "default_uom.symbol")),
                    notice=notice,
                )
            )
        return products


def _from_register(product: Product, cfg: TrytonConfig) -> Product:
    return dataclasses.replace(
        product,
        price=round_price(product.price, cfg),
        notice=gettext("Tryton could not be reached; this comes from the product register."),
    )

"""Using a saved connection on the quote side: its connector, configuration and business rules,
and the connector's data methods (price lists, product search, prices) with every failure
turned into a :class:`UseError` a person understands.

Connectors know nothing of Django; this module is where the application hands them a saved
connection. The quote pages, the JSON API and *Preview as user* all go through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from pydantic import BaseModel, ValidationError as PydanticValidationError

from connections import crypto
from connections.context import connector_context
from connections.models import ERPConnection
from connections.register import DjangoProductRegister
from connectors import registry
from connectors.base import (
    Capability,
    Connector,
    ConnectorError,
    Context,
    PriceList,
    Product,
    ProductRegister,
)
from connectors.rules import BusinessRulesConfig, round_price
from connectors.schema import merge_config, upgraded_values

if TYPE_CHECKING:
    from connections.selectors import ConnectionSummary

SEARCH_LIMIT = 20
MAX_SEARCH_LIMIT = 100


class UseError(Exception):
    """A connection that cannot answer right now: a stable ``code`` and a user ``message``."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class DiscountTooHigh(ValueError):
    """A discount above the connection's maximum (or below zero); ``message`` says the limit."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def fallback_notice() -> str:
    return _("The ERP cannot be reached; prices come from the product register.")


class RecordingRegister:
    """The product register as connectors see it, remembering whether a call used it (a
    fallback) and reading each currency's price lists once per request."""

    def __init__(self, inner: ProductRegister | None = None) -> None:
        self.inner = inner or DjangoProductRegister()
        self.used = False
        self._lists: dict[str | None, list[PriceList]] = {}

    def price_lists(self, *, currency: str | None = None) -> list[PriceList]:
        self.used = True
        if currency not in self._lists:
            self._lists[currency] = self.inner.price_lists(currency=currency)
        return list(self._lists[currency])

    def search_products(self, *, q: str, price_list: str | None, limit: int) -> list[Product]:
        self.used = True
        return self.inner.search_products(q=q, price_list=price_list, limit=limit)

    def active_price_list_count(self) -> int:
        return self.inner.active_price_list_count()


def rules_of(config: BaseModel) -> BusinessRulesConfig:
    """The business rules a connection's configuration declares (defaults when it has none)."""
    if isinstance(config, BusinessRulesConfig):
        return config
    as_rules = getattr(config, "rules", None)
    if callable(as_rules):
        rules = as_rules()
        if isinstance(rules, BusinessRulesConfig):
            return rules
    names = BusinessRulesConfig.model_fields.keys()
    values = {name: getattr(config, name) for name in names if hasattr(config, name)}
    try:
        return BusinessRulesConfig.model_validate(values)
    except PydanticValidationError:
        return BusinessRulesConfig.model_validate({})


@dataclass
class Handle:
    """A connection ready to use: its connector, validated configuration and rules."""

    connection: ERPConnection
    connector: Connector
    config: BaseModel
    rules: BusinessRulesConfig
    register: RecordingRegister = field(default_factory=RecordingRegister)

    @property
    def capabilities(self) -> list[str]:
        return sorted(str(c) for c in type(self.connector).capabilities)

    @property
    def falls_back(self) -> bool:
        return bool(getattr(self.config, "fallback_to_register", False))


def handle_for(
    connection: ERPConnection | ConnectionSummary, *, register: RecordingRegister | None = None
) -> Handle:
    """Build the connection's connector with its saved configuration (secrets decrypted here);
    a summary's full connection is read first (one query).

    Raises :class:`UseError` when the connector is not installed or the saved configuration
    does not validate (or cannot be decrypted) any more, or the connection is gone.
    """
    register = register or RecordingRegister()
    if not isinstance(connection, ERPConnection):
        full = ERPConnection.objects.filter(pk=connection.pk).first()
        if full is None:
            raise UseError(_("No such ERP connection."), code="not_found")
        connection = full
    try:
        connector_cls = registry.get_connector_class(connection.connector_key)
    except registry.UnknownConnector:
        raise UseError(
            _("The quote connector of this connection is not installed."),
            code="connector_missing",
        ) from None
    try:
        secrets = crypto.decrypt_secrets(connection.secrets) if connection.secrets else {}
        # A connector upgraded since the last save: its migration applies in memory only.
        values = upgraded_values(connector_cls, connection.config, connection.config_version)
        config = merge_config(connector_cls.Config, values, secrets)
    except (PydanticValidationError, crypto.SecretsUnreadable):
        raise UseError(
            _(
                "The configuration of this connection is not valid any more. "
                "Ask your administrator."
            ),
            code="config_invalid",
        ) from None
    base = connector_context()
    connector = connector_cls(Context(http=base.http, register=register))
    return Handle(connection, connector, config, rules_of(config), register)


def _call(handle: Handle, method: str, **kwargs: Any) -> Any:
    handle.register.used = False
    try:
        return getattr(handle.connector, method)(handle.config, **kwargs)
    except ConnectorError as exc:
        raise UseError(str(exc.message), code=exc.code) from None
    except Exception:  # a plugin's bug must not break the page
        raise UseError(_("The connector failed unexpectedly."), code="connector_crashed") from None


def price_lists(handle: Handle, *, currency: str | None = None) -> list[PriceList]:
    """The connection's price lists (only those in ``currency`` when given)."""
    wanted = currency.strip().upper() if currency else None
    if Capability.PRICE_LISTS not in type(handle.connector).capabilities:
        return []
    found = _call(handle, "price_lists", currency=wanted)
    return [pl for pl in found if wanted is None or pl.currency.upper() == wanted]


@dataclass(frozen=True)
class ProductSearch:
    products: list[Product]
    notice: str = ""


def search_products(
    handle: Handle, *, q: str, price_list: str | None, limit: int = SEARCH_LIMIT
) -> ProductSearch:
    """Products found through the connector, prices rounded by the connection's rule; the
    fallback notice when the product register answered for an unreachable ERP."""
    if Capability.PRODUCT_SEARCH not in type(handle.connector).capabilities:
        raise UseError(_("This connection offers no product search."), code="not_supported")
    found = _call(handle, "search_products", q=q, price_list=price_list or None, limit=limit)
    notice = fallback_notice() if handle.register.used and handle.falls_back else ""
    products = [_rounded(product, handle.rules) for product in found]
    return ProductSearch(products, notice)


def product_by_code(handle: Handle, *, code: str, price_list: str | None) -> Product:
    """The product with exactly this code, priced from ``price_list``."""
    code = code.strip()
    details = getattr(handle.connector, "product_details", None)
    if callable(details) and Capability.PRODUCT_DETAILS in type(handle.connector).capabilities:
        product = _call(handle, "product_details", code=code, price_list=price_list or None)
        return _rounded(product, handle.rules)
    found = search_products(handle, q=code, price_list=price_list, limit=MAX_SEARCH_LIMIT)
    for product in found.products:
        if product.code == code:
            return product
    raise UseError(
        _('The ERP has no product with the code "%(code)s".') % {"code": code},
        code="product_not_found",
    )


def _rounded(product: Product, rules: BusinessRulesConfig) -> Product:
    from dataclasses import replace

    return replace(product, price=round_price(Decimal(product.price), rules))


# --- amounts -----------------------------------------------------------------------------


def parse_decimal(value: Any) -> Decimal | None:
    """A decimal from what a person typed ("2", "2.5", "2,5"); None when it is not one."""
    text = str(value if value is not None else "").strip().replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def check_discount(discount: Decimal, rules: BusinessRulesConfig) -> None:
    """Refuse a discount below zero or above the connection's maximum."""
    if discount < 0:
        raise DiscountTooHigh(_("A discount cannot be negative."))
    if discount > rules.max_discount:
        raise DiscountTooHigh(
            _("The maximum discount for this connection is %(maximum)s %%.")
            % {"maximum": number_format(rules.max_discount.normalize(), use_l10n=True)}
        )


def line_total(
    unit_price: Decimal, quantity: Decimal, discount: Decimal, rules: BusinessRulesConfig
) -> Decimal:
    """Quantity times the unit price less the discount, rounded by the connection's rule
    (the discount is checked where it is entered: :func:`check_discount`)."""
    return round_price(unit_price * quantity * (Decimal(100) - discount) / Decimal(100), rules)


def plain(value: Decimal) -> str:
    """A decimal as a plain string without exponent or trailing zeros ("2", "12.5")."""
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def money(value: Decimal, rules: BusinessRulesConfig) -> str:
    """An amount as a decimal string with the connection's number of decimals."""
    return format(round_price(value, rules), "f")


def round_total(value: Decimal, rules: BusinessRulesConfig) -> Decimal:
    """A sum of line totals, rounded by the connection's rule."""
    return round_price(value, rules)

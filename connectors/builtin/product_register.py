"""The built-in product register connector (PRODUCT.md section 4.3).

No external system: the application's own price lists and products, reached through the
:class:`~connectors.base.ProductRegister` injected in the context. Its configuration holds
the pricing rules (decimals, rounding, maximum discount) but not *fall back to the product
register*, which means nothing when the register is the source.
"""

from __future__ import annotations

import copy
import dataclasses
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext, gettext_lazy as _, ngettext
from pydantic import BaseModel

from connectors.base import (
    Capability,
    Connector,
    ConnectorError,
    PriceList,
    Product,
    ProductRegister,
    TestResult,
    TestStatus,
)
from connectors.rules import BusinessRulesConfig, RoundingMode, round_price
from connectors.schema import static_label


def _rule(name: str) -> Any:
    """The rule field as ``BusinessRulesConfig`` declares it (same label, bounds, order)."""
    return copy.copy(BusinessRulesConfig.model_fields[name])


class ProductRegisterConfig(BaseModel):
    """The pricing rules of ``BusinessRulesConfig`` without the register fallback."""

    about: None = static_label(
        _("Uses the application's own price lists and products, managed in the administration."),
        order=0,
    )
    price_decimals: int = _rule("price_decimals")
    rounding_mode: RoundingMode = _rule("rounding_mode")
    max_discount: Decimal = _rule("max_discount")

    def rules(self) -> BusinessRulesConfig:
        """These rules as the ``BusinessRulesConfig`` the rule functions take."""
        return BusinessRulesConfig(
            price_decimals=self.price_decimals,
            rounding_mode=self.rounding_mode,
            max_discount=self.max_discount,
            fallback_to_register=False,
        )


class ProductRegisterConnector(Connector[ProductRegisterConfig]):
    """Quotes from the built-in product register; needs ``context.register``."""

    key = "product_register"
    label = _("Built-in product register")
    vendor = "erpsettings"
    version = "1.0"
    description = _("The application's own price lists and products; no external system.")
    Config = ProductRegisterConfig
    capabilities = frozenset(
        {Capability.PRICE_LISTS, Capability.PRODUCT_SEARCH, Capability.PRODUCT_DETAILS}
    )
    sync_connection = "none"

    def _register(self) -> ProductRegister:
        if self.context.register is None:
            raise ConnectorError(
                gettext("The product register is not available."),
                code="register_unavailable",
                technical="Context.register is None",
            )
        return self.context.register

    def check(self, config: BaseModel) -> TestResult:
        """Read the register and report how many active price lists it has."""
        register_ = self._register()
        try:
            count = register_.active_price_list_count()
        except Exception as exc:
            raise ConnectorError(
                gettext("The product register cannot be read."),
                code="register_unreadable",
                technical=f"{type(exc).__name__}: {exc}",
            ) from exc
        message = ngettext(
            "Product register OK: %(count)d active price list",
            "Product register OK: %(count)d active price lists",
            count,
        ) % {"count": count}
        return TestResult(
            TestStatus.OK if count else TestStatus.OK_WITH_INFO,
            message,
            technical_message=f"Product register readable: {count} active price lists.",
            details={"price_lists": count},
        )

    def price_lists(self, config: BaseModel, *, currency: str | None = None) -> list[PriceList]:
        """The register's active, currently valid price lists (in ``currency`` if given)."""
        return self._register().price_lists(currency=currency)

    def search_products(
        self, config: BaseModel, *, q: str, price_list: str | None = None, limit: int = 20
    ) -> list[Product]:
        """Products whose code or name contains ``q``, prices rounded by the rules."""
        if not isinstance(config, ProductRegisterConfig):
            config = ProductRegisterConfig.model_validate(config, from_attributes=True)
        rules = config.rules()
        return [
            dataclasses.replace(product, price=round_price(product.price, rules))
            for product in self._register().search_products(q=q, price_list=price_list, limit=limit)
        ]

    def product_details(
        self, config: BaseModel, *, code: str, price_list: str | None = None, quantity: Any = 1
    ) -> Product:
        """The product with exactly this ``code``, priced by the rules."""
        for product in self.search_products(config, q=code, price_list=price_list, limit=20):
            if product.code == code:
                return product
        raise ConnectorError(
            gettext('The product register has no product with the code "%(code)s".')
            % {"code": code},
            code="product_not_found",
            technical=f"register code={code!r} -> no product",
        )

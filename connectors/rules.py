"""Business rules shared by ERP connectors: rounding, maximum discount, fallback.

A connector's ``Config`` inherits :class:`BusinessRulesConfig` to get the rule fields with
their fixed labels (PRODUCT.md section 4.3); its data methods apply them with the functions
below.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any, Literal

from django.utils.translation import gettext, gettext_lazy as _
from pydantic import BaseModel, Field

from connectors.base import ConnectorError

#: The section of the rule fields.
BUSINESS_RULES = _("Business rules")

RoundingMode = Literal["half_up", "half_even", "down"]

_ROUNDING = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}


class BusinessRulesConfig(BaseModel):
    """The rule fields; ``order`` values from 100 keep them after a connector's own fields."""

    price_decimals: int = Field(
        2,
        ge=0,
        le=4,
        title=_("Price decimals"),
        description=_("Number of decimals prices are rounded to."),
        json_schema_extra={"order": 100, "group": BUSINESS_RULES},
    )
    rounding_mode: RoundingMode = Field(
        "half_up",
        title=_("Rounding mode"),
        description=_("How prices are rounded to the price decimals."),
        json_schema_extra={
            "order": 101,
            "group": BUSINESS_RULES,
            "choice_labels": {
                "half_up": _("Half up"),
                "half_even": _("Half even"),
                "down": _("Down"),
            },
        },
    )
    max_discount: Decimal = Field(
        Decimal("100"),
        ge=0,
        le=100,
        decimal_places=2,
        title=_("Maximum discount (%)"),
        description=_("Discounts above this percentage are refused."),
        json_schema_extra={"order": 102, "group": BUSINESS_RULES},
    )
    fallback_to_register: bool = Field(
        False,
        title=_("Fall back to the product register when the ERP is unreachable"),
        description=_("Use the built-in product register when the ERP does not answer."),
        json_schema_extra={"order": 103, "group": BUSINESS_RULES},
    )


def round_price(value: Decimal, rules: BusinessRulesConfig) -> Decimal:
    """Round a price by the connection's rule."""
    quantum = Decimal(1).scaleb(-rules.price_decimals)
    return Decimal(value).quantize(quantum, rounding=_ROUNDING[rules.rounding_mode])


def apply_discount(price: Decimal, percent: Decimal, rules: BusinessRulesConfig) -> Decimal:
    """The discounted, rounded price; a discount above the maximum is refused."""
    percent = Decimal(percent)
    if percent < 0:
        raise ConnectorError(gettext("A discount cannot be negative."), code="discount_negative")
    if percent > rules.max_discount:
        raise ConnectorError(
            gettext("A discount of %(percent)s%% is above the maximum of %(maximum)s%%.")
            % {"percent": percent, "maximum": rules.max_discount},
            code="discount_too_high",
            technical=f"discount {percent} > max_discount {rules.max_discount}",
        )
    return round_price(Decimal(price) * (Decimal(100) - percent) / Decimal(100), rules)


def check_search_limit(limit: int, maximum: int, error: type[ConnectorError]) -> None:
    """Refuse a product search for fewer than 1 or more than ``maximum`` products."""
    if not 1 <= limit <= maximum:
        raise error(
            gettext("Ask for between 1 and %(maximum)s products.") % {"maximum": maximum},
            code="invalid_limit",
            technical=f"limit {limit} outside 1..{maximum}",
        )


class QuotePricing:
    """``quote_price`` for a connector whose ``Config`` holds the business rules."""

    def quote_price(self, config: Any, *, price: Decimal, discount: Decimal) -> Decimal:
        """The price after ``discount`` percent, rounded by the connection's rule.

        Raises ``ConnectorError`` (``discount_too_high``, ``discount_negative``) when the
        discount breaks the connection's maximum.
        """
        return apply_discount(Decimal(price), Decimal(discount), config)

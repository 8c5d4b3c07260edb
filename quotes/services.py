"""Writes for quotes: create, choose the connection and price list, add and edit lines.

Every amount is computed here with the connection's business rules (rounding, maximum
discount); views and the API only parse and render.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from connections import quoting
from connections.selectors import ConnectionChoice, connection_choice
from quotes.models import Quote, QuoteLine

MAX_QUANTITY = Decimal("999999999")


@transaction.atomic
def quote_create(
    *, owner: Any, title: str, customer: str, currency: str
) -> tuple[Quote, ConnectionChoice]:
    """A new quote of ``owner``; its connection is taken when the selection rule allows
    (exactly one connection with price lists in the currency), else left for the user."""
    errors: dict[str, list[str]] = {}
    title, customer, currency = title.strip(), customer.strip(), currency.strip().upper()
    if not title:
        errors["title"] = [_("Enter a title.")]
    if not customer:
        errors["customer"] = [_("Enter the customer's name.")]
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = [_("Choose a currency.")]
    if errors:
        raise ValidationError(errors)
    quote = Quote.objects.create(
        owner=owner, title=title[:200], customer=customer[:200], currency=currency
    )
    choice = connection_choice(owner, currency=currency)
    if choice.chosen is not None:
        _connect(quote, choice.chosen.connection, choice.chosen.price_lists or [])
    return quote, choice


def _connect(quote: Quote, connection: Any, price_lists: list[Any]) -> None:
    quote.connection_id = connection.pk  # a summary of the connection is enough
    quote.connection_name = connection.name
    first = price_lists[0] if price_lists else None
    quote.price_list = first.id if first else ""
    quote.price_list_name = first.name if first else ""
    quote.save(
        update_fields=[
            "connection",
            "connection_name",
            "price_list",
            "price_list_name",
            "updated_at",
        ]
    )


def quote_connect(*, quote: Quote, user: Any, connection_id: int) -> Quote:
    """Use this connection for the quote; it must be one of the user's usable connections."""
    choice = connection_choice(user, currency=quote.currency)
    for item in choice.connections:
        if item.usable and item.connection.pk == connection_id:
            _connect(quote, item.connection, item.price_lists or [])
            return quote
    raise ValidationError({"connection": [_("Choose one of the connections shown.")]})


@transaction.atomic
def quote_set_price_list(*, quote: Quote, handle: quoting.Handle, price_list: str) -> list[str]:
    """Price the quote from one of the connection's price lists in the quote's currency: the
    lines are priced again from it. Returns the codes of the lines that kept their price
    because the new list does not have them."""
    chosen = next(
        (pl for pl in quoting.price_lists(handle, currency=quote.currency) if pl.id == price_list),
        None,
    )
    if chosen is None:
        raise ValidationError({"price_list": [_("Choose one of the price lists shown.")]})
    kept = []
    for line in quote.lines.all():
        try:
            product = quoting.product_by_code(handle, code=line.code, price_list=chosen.id)
        except quoting.UseError as exc:
            if exc.code != "product_not_found":
                raise
            kept.append(line.code)
            continue
        line.unit_price = product.price
        line.total = quoting.line_total(
            product.price, line.quantity, line.discount_percent, handle.rules
        )
        line.save(update_fields=["unit_price", "total"])
    quote.price_list, quote.price_list_name = chosen.id, chosen.name
    quote.save(update_fields=["price_list", "price_list_name", "updated_at"])
    return kept


@transaction.atomic
def quote_line_add(*, quote: Quote, handle: quoting.Handle, code: str) -> QuoteLine:
    """Put the product with this code on the quote: quantity 1, no discount, priced now by
    the connection (never from what the browser sent)."""
    product = quoting.product_by_code(handle, code=code, price_list=quote.price_list or None)
    Quote.objects.select_for_update().filter(pk=quote.pk).first()
    position = (quote.lines.aggregate(last=Max("position"))["last"] or 0) + 1
    line = QuoteLine.objects.create(
        quote=quote,
        position=position,
        code=product.code[:100],
        name=product.name[:300],
        unit=(product.unit or "")[:30],
        vat=product.vat,
        unit_price=product.price,
        quantity=Decimal(1),
        discount_percent=Decimal(0),
        total=quoting.line_total(product.price, Decimal(1), Decimal(0), handle.rules),
    )
    quote.save(update_fields=["updated_at"])
    return line


@dataclass
class LineEdit:
    """What became of an edit of a line: the saved line, and per field the refused value
    (as typed) with its error."""

    line: QuoteLine
    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def parse_quantity(raw: Any) -> Decimal:
    quantity = quoting.parse_decimal(raw)
    if quantity is None or quantity <= 0 or quantity > MAX_QUANTITY:
        raise ValueError(_("Enter a quantity greater than 0."))
    if quantity != quantity.quantize(Decimal("0.001")):
        raise ValueError(_("Enter a quantity with at most 3 decimals."))
    return quantity


def parse_discount(raw: Any, rules: Any) -> Decimal:
    discount = quoting.parse_decimal(raw if str(raw).strip() else "0")
    if discount is None:
        raise ValueError(_("Enter a discount as a number, for example 10."))
    if discount != discount.quantize(Decimal("0.01")):
        raise ValueError(_("Enter a discount with at most 2 decimals."))
    try:
        quoting.check_discount(discount, rules)
    except quoting.DiscountTooHigh as exc:
        raise ValueError(exc.message) from None
    return discount


@transaction.atomic
def quote_line_update(
    *, line: QuoteLine, handle: quoting.Handle, quantity: Any = None, discount: Any = None
) -> LineEdit:
    """Save the quantity and the discount that are valid; a refused one keeps the saved
    value and comes back, as typed, with its error (e.g. above the maximum discount)."""
    edit = LineEdit(line=line)
    if quantity is not None:
        try:
            line.quantity = parse_quantity(quantity)
        except ValueError as exc:
            edit.typed["quantity"], edit.errors["quantity"] = str(quantity), str(exc)
    if discount is not None:
        try:
            line.discount_percent = parse_discount(discount, handle.rules)
        except ValueError as exc:
            edit.typed["discount_percent"], edit.errors["discount_percent"] = (
                str(discount),
                str(exc),
            )
    line.total = quoting.line_total(
        line.unit_price, line.quantity, line.discount_percent, handle.rules
    )
    line.save(update_fields=["quantity", "discount_percent", "total"])
    line.quote.save(update_fields=["updated_at"])
    return edit


def quote_line_remove(*, line: QuoteLine) -> None:
    quote = line.quote
    line.delete()
    quote.save(update_fields=["updated_at"])


class LineInvalid(ValueError):
    """A priced line refused: ``code`` (``invalid`` or ``discount_too_high``) and ``field``."""

    def __init__(self, message: str, *, code: str, field: str) -> None:
        super().__init__(message)
        self.message, self.code, self.field = message, code, field


@dataclass(frozen=True)
class PricedLine:
    code: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    total: Decimal


@dataclass(frozen=True)
class PricedQuote:
    lines: list[PricedLine]
    total: Decimal
    currency: str


def quote_price(
    *, handle: quoting.Handle, price_list: str, lines: list[dict[str, Any]], currency: str = ""
) -> PricedQuote:
    """Price lines (code, quantity, discount) from a price list without saving anything.

    Raises :class:`LineInvalid` for a bad quantity or discount (the field named as
    ``lines.N.quantity``), :class:`quoting.UseError` when the connector cannot answer.
    """
    parsed = []
    for index, raw in enumerate(lines):
        try:
            quantity = parse_quantity(raw.get("quantity", "1"))
        except ValueError as exc:
            raise LineInvalid(str(exc), code="invalid", field=f"lines.{index}.quantity") from None
        try:
            discount = parse_discount(raw.get("discount_percent", "0"), handle.rules)
        except ValueError as exc:
            typed = quoting.parse_decimal(raw.get("discount_percent"))
            too_high = typed is not None and typed > handle.rules.max_discount
            raise LineInvalid(
                str(exc),
                code="discount_too_high" if too_high else "invalid",
                field=f"lines.{index}.discount_percent",
            ) from None
        code = str(raw.get("code", "")).strip()
        if not code:
            raise LineInvalid(
                _("Enter a product code."), code="invalid", field=f"lines.{index}.code"
            )
        parsed.append((code, quantity, discount))
    priced = []
    found_currency = currency
    for code, quantity, discount in parsed:
        product = quoting.product_by_code(handle, code=code, price_list=price_list or None)
        found_currency = found_currency or product.currency
        priced.append(
            PricedLine(
                code=product.code,
                name=product.name,
                quantity=quantity,
                unit_price=product.price,
                discount_percent=discount,
                total=quoting.line_total(product.price, quantity, discount, handle.rules),
            )
        )
    total = quoting.round_total(sum((line.total for line in priced), Decimal(0)), handle.rules)
    return PricedQuote(lines=priced, total=total, currency=found_currency)

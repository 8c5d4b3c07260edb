"""Reads for quotes: a user's quotes, one quote, and whether its connection can still be used."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404

from connections import quoting
from connections.selectors import connection_for_user
from connectors.rules import round_price
from quotes.models import Quote, QuoteLine

PAGE_SIZE = 25


def quote_list(*, owner: Any, q: str = "", page: int = 1) -> Page:
    """The user's quotes, newest change first, with their line count and total."""
    quotes = Quote.objects.filter(owner=owner)
    if q:
        quotes = quotes.filter(Q(title__icontains=q) | Q(customer__icontains=q))
    quotes = quotes.annotate(line_count=Count("lines"), amount=Sum("lines__total")).order_by(
        "-updated_at", "-pk"
    )
    return Paginator(quotes, PAGE_SIZE).get_page(page)


def quote_for_user(*, user: Any, pk: int) -> Quote:
    """The user's own quote; another user's or an unknown one is a 404."""
    quote = Quote.objects.filter(owner_id=user.pk, pk=pk).first() if user.is_authenticated else None
    if quote is None:
        raise Http404("No such quote.")
    return quote


def quote_line(*, quote: Quote, pk: int) -> QuoteLine:
    line = quote.lines.filter(pk=pk).first()
    if line is None:
        raise Http404("No such line.")
    return line


@dataclass(frozen=True)
class QuoteConnection:
    """Whether the quote's connection is still usable by its owner, and the handle if so."""

    handle: quoting.Handle | None
    unavailable: bool  # a connection was chosen but the user cannot use it (any more)
    error: quoting.UseError | None = None  # usable in scope, but it cannot be built now
    message: str = ""  # why it cannot be used, when the user may know (in scope, unusable)


def quote_connection(*, quote: Quote, user: Any) -> QuoteConnection:
    """The quote's connection if it is live, in the user's scope and usable."""
    if quote.connection_id is None:
        return QuoteConnection(None, unavailable=False)
    item = connection_for_user(user, pk=quote.connection_id)
    if item is None:
        return QuoteConnection(None, unavailable=True)
    if not item.usable:
        return QuoteConnection(None, unavailable=True, message=item.message)
    try:
        return QuoteConnection(quoting.handle_for(item.connection), unavailable=False)
    except quoting.UseError as exc:
        return QuoteConnection(None, unavailable=True, error=exc)


def quote_total(quote: Quote, lines: list[QuoteLine], rules: Any | None) -> Decimal:
    """The sum of the line totals (rounded by the rules when the connection is known)."""
    total = sum((line.total for line in lines), Decimal(0))
    return round_price(total, rules) if rules is not None else total

"""The built-in product register over the Django models (``ProductRegister`` protocol).

A price list is *active* when its ``active`` flag is set and today (in the project's time
zone) lies within ``valid_from``..``valid_to`` (either end may be open). Only active lists
and their products are visible to connectors.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from connections.models import PriceList as PriceListModel, Product as ProductModel
from connectors.base import PriceList, Product

MAX_LIMIT = 200


class DjangoProductRegister:
    """``connectors.base.ProductRegister`` backed by ``connections.models``.

    ``today`` returns the date validity is judged on (default: the local date now).
    Each method runs one query.
    """

    def __init__(self, *, today: Callable[[], date] | None = None) -> None:
        self._today = today or timezone.localdate

    def _active_lists(self) -> QuerySet[PriceListModel]:
        today = self._today()
        return PriceListModel.objects.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=today),
            Q(valid_to__isnull=True) | Q(valid_to__gte=today),
            active=True,
        )

    def price_lists(self, *, currency: str | None = None) -> list[PriceList]:
        """The active price lists, by name; only those in ``currency`` when given."""
        lists = self._active_lists()
        if currency:
            lists = lists.filter(currency=currency.strip().upper())
        return [
            PriceList(
                id=str(row["pk"]),
                name=row["name"],
                currency=row["currency"],
                valid_from=row["valid_from"].isoformat() if row["valid_from"] else None,
                valid_to=row["valid_to"].isoformat() if row["valid_to"] else None,
            )
            for row in lists.order_by("name", "pk").values(
                "pk", "name", "currency", "valid_from", "valid_to"
            )
        ]

    def search_products(self, *, q: str, price_list: str | None, limit: int) -> list[Product]:
        """Products of active lists whose code or name contains ``q`` (case-insensitive).

        ``price_list`` (an id from :meth:`price_lists`) narrows to one list; an unknown or
        malformed id finds nothing. At most ``limit`` products (capped at 200), by code.
        """
        limit = min(int(limit), MAX_LIMIT)
        if limit <= 0:
            return []
        products = ProductModel.objects.filter(price_list__in=self._active_lists())
        if price_list not in (None, ""):
            try:
                products = products.filter(price_list_id=int(str(price_list)))
            except ValueError:
                return []
        q = (q or "").strip()
        if q:
            products = products.filter(Q(code__icontains=q) | Q(name__icontains=q))
        rows = products.order_by("code", "price_list__name", "pk").values(
            "code", "name", "price", "vat", "unit", "price_list__currency"
        )[:limit]
        return [
            Product(
                code=row["code"],
                name=row["name"],
                price=row["price"],
                currency=row["price_list__currency"],
                vat=row["vat"],
                unit=row["unit"],
            )
            for row in rows
        ]

    def active_price_list_count(self) -> int:
        """How many price lists are active today."""
        return self._active_lists().count()

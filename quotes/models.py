"""Quotes of sales users: a customer, a currency, the ERP connection and price list the
prices come from, and lines with quantity, discount and total."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from connections.models import ERPConnection


class Quote(models.Model):
    """A quote (offer) that belongs to one user.

    The connection's and price list's names are kept beside the references, so a quote stays
    readable when its connection is deleted or taken out of the user's scope.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="quotes",
        verbose_name=_("Owner"),
    )
    title = models.CharField(_("Title"), max_length=200)
    customer = models.CharField(_("Customer"), max_length=200)
    currency = models.CharField(_("Currency"), max_length=3)
    connection = models.ForeignKey(
        ERPConnection,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
        verbose_name=_("ERP connection"),
    )
    connection_name = models.CharField(_("ERP connection name"), max_length=100, blank=True)
    price_list = models.CharField(_("Price list"), max_length=100, blank=True)
    price_list_name = models.CharField(_("Price list name"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("Created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("Updated at"), auto_now=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-updated_at", "-pk"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="quote_owner_updated")]

    def __str__(self) -> str:
        return self.title


class QuoteLine(models.Model):
    """A product on a quote: its price as the connection gave it, quantity and discount."""

    quote = models.ForeignKey(
        Quote, on_delete=models.CASCADE, related_name="lines", verbose_name=_("quote")
    )
    position = models.PositiveIntegerField(_("Position"), default=0)
    code = models.CharField(_("Code"), max_length=100)
    name = models.CharField(_("Name"), max_length=300)
    unit = models.CharField(_("Unit"), max_length=30, blank=True)
    vat = models.DecimalField(_("VAT (%)"), max_digits=6, decimal_places=2, null=True, blank=True)
    unit_price = models.DecimalField(_("Unit price"), max_digits=18, decimal_places=4)
    quantity = models.DecimalField(
        _("Quantity"), max_digits=14, decimal_places=3, default=Decimal(1)
    )
    discount_percent = models.DecimalField(
        _("Discount (%)"), max_digits=5, decimal_places=2, default=Decimal(0)
    )
    total = models.DecimalField(_("Total"), max_digits=20, decimal_places=4)

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

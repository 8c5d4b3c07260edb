from __future__ import annotations

from django.contrib import admin

from quotes.models import Quote, QuoteLine


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    extra = 0
    can_delete = False
    fields = [
        "position",
        "code",
        "name",
        "unit",
        "unit_price",
        "quantity",
        "discount_percent",
        "total",
    ]
    readonly_fields = [
        "position",
        "code",
        "name",
        "unit",
        "unit_price",
        "quantity",
        "discount_percent",
        "total",
    ]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    """Quotes are written on the quote side; the admin shows them for support."""

    list_display = ["title", "customer", "owner", "currency", "connection_name", "updated_at"]
    list_filter = ["currency"]
    search_fields = ["title", "customer", "owner__username"]
    readonly_fields = [
        "owner",
        "title",
        "customer",
        "currency",
        "connection",
        "connection_name",
        "price_list",
        "price_list_name",
        "created_at",
        "updated_at",
    ]
    inlines = [QuoteLineInline]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

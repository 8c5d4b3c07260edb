from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class NewQuoteForm(forms.Form):
    """*New quote*: a title, the customer's name and one of the user's currencies."""

    title = forms.CharField(label=_("Title"), max_length=200)
    customer = forms.CharField(label=_("Customer"), max_length=200)
    currency = forms.ChoiceField(label=_("Currency"))

    def __init__(self, *args: Any, currencies: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["currency"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(code, code) for code in currencies]
        if currencies:
            field.initial = currencies[0]

"""Connection names: which characters a name may hold, and the key that makes it unique.

Uniqueness is decided on a key stored in its own column (``name_key``), so that the
database constraint means the same on SQLite (whose ``lower()`` folds ASCII only) and on
PostgreSQL: Unicode compatibility caseless matching (NFKC, case folding, NFKC), with runs
of white space read as one space.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# Control (Cc) and format (Cf) characters: ANSI escapes, bidirectional overrides,
# zero-width spaces and joiners. A name holding one may look like another name, or like
# something else entirely ("\u202etxt.exe").
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf"})

# NFKC may expand a character (U+FDFA becomes 18 letters); the key column has room for
# every name of at most 100 characters that a person would type, and refuses the rest.
NAME_KEY_MAX_LENGTH = 400


def name_key(name: str) -> str:
    """The key two names share exactly when they read the same, ignoring case."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())


def validate_name(name: str) -> None:
    """Refuse a name with characters that cannot be shown, or one too long to compare."""
    if any(unicodedata.category(char) in HIDDEN_CATEGORIES for char in name):
        raise ValidationError(
            _("The name contains characters that cannot be shown."), code="hidden_characters"
        )
    if len(name_key(name)) > NAME_KEY_MAX_LENGTH:
        raise ValidationError(_("This name is too long."), code="name_too_long")


class NameKeyField(models.CharField):
    """The :func:`name_key` of another field (``source``), set on every save that writes
    it, like ``auto_now`` sets a date: rows made by any path carry the right key."""

    def __init__(self, *args: Any, source: str = "name", **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", NAME_KEY_MAX_LENGTH)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if kwargs.get("max_length") == NAME_KEY_MAX_LENGTH:
            del kwargs["max_length"]
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = name_key(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value

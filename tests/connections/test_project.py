"""Project-level guarantees: migrations are complete, translations are compiled."""

from __future__ import annotations

import gettext
import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


def _po_entries(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (singular entries, non-fuzzy, translated)."""
    entries: dict[str, str] = {}
    text = path.read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        if "#, fuzzy" in block or "msgid_plural" in block:
            continue
        match = re.search(r'^msgid ((?:".*"\n?)+)^msgstr ((?:".*"\n?)+)', block, re.M)
        if not match:
            continue

        def unquote(chunk: str) -> str:
            parts = re.findall(r'"((?:[^"\\]|\\.)*)"', chunk)
            return "".join(parts).encode("latin-1", "backslashreplace").decode("unicode_escape")

        msgid, msgstr = unquote(match.group(1)), unquote(match.group(2))
        if msgid and msgstr:
            entries[msgid] = msgstr
    return entries


@pytest.mark.parametrize("language", [lang for lang, _ in settings.LANGUAGES if lang != "en"])
def test_compiled_translations_match_the_po_file(language):
    po = LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `make messages`"
    with mo.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    entries = _po_entries(po)
    assert entries, "the .po file has no translations"
    drift = {k: v for k, v in entries.items() if catalog.gettext(k) != v}
    assert not drift, f"{mo.name} is out of date with {po.name} (run `make messages`): {drift}"

"""Project-level guarantees: migrations are complete, translations are compiled."""

from __future__ import annotations

import gettext
import os
import re
import subprocess
import sys
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


def _deploy_check(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL"}
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {
    "SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-0123456789",
    "ERP_SECRET_KEYS": "Jk1bU0bq9zXKM2k0o7v2dF9pW3lq8c4mTnV5rY6sA1E=",
    "ALLOWED_HOSTS": "erp.example.com",
}


def test_deploy_check_is_clean_with_production_settings():
    result = _deploy_check(**PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_secret_keys():
    result = _deploy_check(**{**PRODUCTION, "ERP_SECRET_KEYS": ""})
    assert result.returncode != 0
    assert "ERP_SECRET_KEYS" in result.stdout + result.stderr


def test_every_translatable_string_of_the_sources_has_a_dutch_translation(tmp_path):
    """Runs makemessages on a copy of the project: a new or changed string that nobody
    translated shows up there as an empty or fuzzy entry."""
    import shutil

    if shutil.which("xgettext") is None:
        if os.environ.get("CI"):
            pytest.fail("GNU gettext (xgettext) is needed to check the translations")
        pytest.skip("GNU gettext is not installed")
    base = Path(settings.BASE_DIR)
    copy = tmp_path / "project"
    for name in ["erpsettings", "connections", "connectors", "templates", "examples", "locale"]:
        shutil.copytree(base / name, copy / name, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(base / "manage.py", copy / "manage.py")
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "nl", "--no-location"]
        + ["--no-obsolete", "--ignore=build", "--ignore=*.egg-info"],
        cwd=copy,
        env=environment,
        check=True,
        capture_output=True,
        timeout=120,
    )
    text = (copy / "locale" / "nl" / "LC_MESSAGES" / "django.po").read_text()
    blocks = text.split("\n\n")[1:]  # the first block is the header
    untranslated = [
        block
        for block in blocks
        if "#, fuzzy" in block or re.search(r'^msgstr(?:\[\d\])? ""$(?!\n")', block, re.M)
    ]
    assert not untranslated, "run `make messages` and translate:\n" + "\n\n".join(untranslated)

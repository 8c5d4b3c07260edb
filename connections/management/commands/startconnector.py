"""``python manage.py startconnector NAME [--directory DIR]``: a ready-to-install plugin."""

from __future__ import annotations

import re
from pathlib import Path
from string import Template
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import connectors.scaffold

SCAFFOLD = Path(connectors.scaffold.__file__).parent
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


class Command(BaseCommand):
    help = (
        "Write a quote connector plugin package (pyproject.toml with the "
        "erpsettings.quote_connectors entry point, a connector on the HTTP base, a README and "
        "tests that use the conformance kit)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The connector key: a lowercase identifier, e.g. acme.")
        parser.add_argument(
            "--directory", help="Where to write the package (default: ./erpsettings-<name>)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        if not _NAME.match(name):
            raise CommandError(
                f"{name!r} is not a valid connector name: use a lowercase identifier "
                "(a-z, 0-9, _), starting with a letter."
            )
        dist = f"erpsettings-{name.replace('_', '-')}"
        target = Path(options["directory"] or dist).resolve()
        if target.exists() and any(target.iterdir()):
            raise CommandError(f"{target} exists and is not empty; choose another --directory.")
        words = "".join(part.capitalize() for part in name.split("_"))
        package = f"erpsettings_{name}"
        values = {
            "key": name,
            "dist": dist,
            "package": package,
            "cls": f"{words}Connector",
            "cls_prefix": words,
            "label": f"{words} ERP",
            "directory": str(target),
        }
        files = {
            "pyproject.toml": "pyproject.toml.tmpl",
            "README.md": "README.md.tmpl",
            f"src/{package}/__init__.py": "package_init.py.tmpl",
            f"tests/test_{name}.py": "test_package.py.tmpl",
        }
        for path, template in files.items():
            text = Template((SCAFFOLD / template).read_text()).substitute(values)
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            (target / path).write_text(text)
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {dist} in {target}.")
            + f"\nNext: pip install -e {target} and restart the application."
        )

"""``manage.py startconnector``: the package installs, is discovered and passes the kit."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

PYTHON = sys.executable


def test_startconnector_writes_an_installable_package(tmp_path: Path) -> None:
    target = tmp_path / "acme"
    call_command("startconnector", "acme", directory=str(target))
    pyproject = tomllib.loads((target / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["erpsettings.quote_connectors"] == {
        "acme": "erpsettings_acme:AcmeConnector"
    }
    assert (target / "src/erpsettings_acme/__init__.py").exists()
    assert "ConnectorConformance" in (target / "tests/test_acme.py").read_text()
    assert "pip install -e" in (target / "README.md").read_text()


def test_startconnector_refuses_a_name_that_is_not_an_identifier(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="lowercase identifier"):
        call_command("startconnector", "Acme-ERP", directory=str(tmp_path / "x"))


def test_startconnector_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "taken.txt").write_text("mine")
    with pytest.raises(CommandError, match="not empty"):
        call_command("startconnector", "acme", directory=str(tmp_path))
    assert (tmp_path / "taken.txt").read_text() == "mine"


def test_a_fresh_package_installs_is_discovered_and_passes_its_tests(tmp_path: Path) -> None:
    target = tmp_path / "globex_erp"
    call_command("startconnector", "globex_erp", directory=str(target))
    site = tmp_path / "site"
    subprocess.run(
        [
            PYTHON,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--disable-pip-version-check",
            "--target",
            str(site),
            str(target),
        ],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(site), "DJANGO_SETTINGS_MODULE": "erpsettings.settings"}
    env.pop("DATABASE_URL", None)
    discovered = subprocess.run(
        [
            PYTHON,
            "-c",
            "import django; django.setup()\n"
            "from connections import selectors; from connectors import registry\n"
            "print(registry.get_connector_class('globex_erp').label)\n"
            "print('globex_erp' in [c.key for c in selectors.quote_connector_list()])\n"
            "print(dict(registry.connector_choices())['globex_erp'])",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert discovered.stdout.split("\n")[:3] == ["GlobexErp ERP", "True", "GlobexErp ERP"]
    tests = subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target / "tests")],
        cwd=target,
        env=env,
        capture_output=True,
        text=True,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "8 passed" in tests.stdout

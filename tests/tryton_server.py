"""A real, seeded Tryton 8.2 server for the test suite and for ``make run``.

The session fixture :func:`tryton_server` creates a SQLite database in a temporary
directory, activates ``product_price_list`` and ``sale_price_list``, seeds it with proteus
(in a child process, so that trytond's global configuration never enters the test process),
starts ``trytond`` bound to 127.0.0.1 on a free port and stops it by PID afterwards. The
packages come from the project's ``test`` extra; when ``trytond`` is not installed the
fixture fails under ``CI=true`` and skips elsewhere.

Run ``python -m tests.tryton_server --port 8010`` for a demo server that stays up until
interrupted; it prints the URL, database name and API key to put into a connection.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
MODULES = ("product_price_list", "sale_price_list")
DATABASE = "erpsettings"
READY_TIMEOUT = 30.0


@dataclass
class TrytonServer:
    """A running trytond process and what the seed put into its database."""

    url: str
    database: str
    api_key: str
    data_dir: Path
    process: subprocess.Popen[bytes] | None
    seed: dict = field(default_factory=dict)

    @property
    def company_id(self) -> int:
        return int(self.seed["company"])

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].rstrip("/"))

    def start_another(self) -> TrytonServer:
        """A second server on the same database and a new port (for the "stopped" case)."""
        port = free_port()
        process = _start_trytond(self.data_dir, self.database, port)
        other = TrytonServer(
            url=f"http://127.0.0.1:{port}",
            database=self.database,
            api_key=self.api_key,
            data_dir=self.data_dir,
            process=process,
            seed=self.seed,
        )
        try:
            other.wait_ready()
        except BaseException:
            other.stop()
            raise
        return other

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        body = {"method": "common.server.version", "params": [], "id": 1}
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"trytond exited with code {self.process.returncode}; "
                    f"see {self.data_dir / 'trytond.log'}"
                )
            try:
                response = httpx.post(f"{self.url}/rpc/", json=body, timeout=2)
                if response.status_code == 200 and "result" in response.json():
                    return
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"trytond did not answer on {self.url} within {timeout} s")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the process by its PID; waits for it to end."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def trytond_available() -> bool:
    """Whether trytond, the modules and proteus are installed (without importing them)."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("proteus", "trytond", *(f"trytond.modules.{m}" for m in MODULES))
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(data_dir: Path, port: int | None = None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TRYTON") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        TRYTOND_DATABASE__URI="sqlite://",
        TRYTOND_DATABASE__PATH=str(data_dir),
    )
    if port is not None:
        env["TRYTOND_WEB__LISTEN"] = f"127.0.0.1:{port}"
    return env


def _run(command: list[str], env: dict[str, str], log: Path) -> str:
    completed = subprocess.run(
        command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180
    )
    with log.open("a") as stream:
        stream.write(f"$ {' '.join(command)}\n{completed.stdout}\n{completed.stderr}\n")
    if completed.returncode:
        raise RuntimeError(
            f"{' '.join(command[:2])} failed with code {completed.returncode}:\n"
            f"{completed.stderr[-3000:]}"
        )
    return completed.stdout


def create_database(
    data_dir: Path, database: str = DATABASE, api_key: str | None = None
) -> tuple[str, dict]:
    """Create, activate and seed a SQLite database; returns the REST API key and the seed.

    One child process does both (activating the modules with ``trytond.admin`` and seeding
    with proteus), so that Tryton's modules are imported and registered only once.
    """
    (data_dir / f"{database}.sqlite").touch()
    passfile = data_dir / "admin-password"
    passfile.write_text(secrets.token_hex(16))
    api_key = api_key or secrets.token_hex(32)
    output = _run(
        [sys.executable, "-m", "tests.tryton_server", "--setup", database, "--key", api_key],
        dict(_environment(data_dir), TRYTONPASSFILE=str(passfile)),
        data_dir / "setup.log",
    )
    return api_key, json.loads(output.strip().splitlines()[-1])


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, get SIGTERM when the test process dies, so that
    a killed test run leaves no server behind."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _start_trytond(data_dir: Path, database: str, port: int) -> subprocess.Popen[bytes]:
    with (data_dir / "trytond.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "trytond.cli", "-d", database],
            env=_environment(data_dir, port),
            cwd=data_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() reaches it and only it
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )


@contextlib.contextmanager
def running_server(
    data_dir: Path, port: int | None = None, api_key: str | None = None
) -> Iterator[TrytonServer]:
    """Create a seeded database in ``data_dir``, start trytond, stop it on exit."""
    api_key, seed = create_database(data_dir, api_key=api_key)
    port = port or free_port()
    server = TrytonServer(
        url=f"http://127.0.0.1:{port}",
        database=DATABASE,
        api_key=api_key,
        data_dir=data_dir,
        process=_start_trytond(data_dir, DATABASE, port),
        seed=seed,
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def tryton_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonServer]:
    """A seeded Tryton 8.2 server on 127.0.0.1 for the whole test session."""
    if not trytond_available():
        message = (
            "Tryton is not installed: install the project's test extra "
            "(pip install -e '.[test]') to get trytond, its modules and proteus."
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    with running_server(tmp_path_factory.mktemp("tryton")) as server:
        yield server


# --- seeding (runs in a child process with trytond's configuration in its environment) ---

PRICE_LISTS = {
    # name: [(formula, minimum quantity or None, product code or None)]; first match wins
    "Retail": [("unit_price", None, None)],
    "Wholesale": [("unit_price * 0.8", 10, None), ("unit_price * 0.85", None, None)],
    "Partner": [("unit_price * 0.8", None, "DESK-01"), ("unit_price", None, None)],
}
PRODUCTS = [
    # code, name, list price
    ("DESK-01", "Standing desk", "499.95"),
    ("CHAIR-01", "Office chair", "189.00"),
    ("LAMP-01", "Desk lamp", "34.99"),
    ("CABLE-01", "Cable tray", "12.50"),
    ("MAT-01", "Chair mat", "41.00"),
]


def _setup(database: str, api_key: str) -> dict:
    """Activate the modules in ``database`` and seed it (in the child process)."""
    from trytond import admin, commandline, config as trytond_config

    started = time.monotonic()
    options = commandline.get_parser_admin().parse_args(
        ["-d", database, "-u", *MODULES, "--activate-dependencies", "--email", "a@example.com"]
    )
    options.indexes = False  # a few records: the indexes are not worth their creation time
    trytond_config.update_etc(options.configfile)
    admin.run(options)
    activated = time.monotonic()
    seed = _seed(database, api_key)
    print(
        f"activated in {activated - started:.1f} s, seeded in {time.monotonic() - activated:.1f} s",
        file=sys.stderr,
    )
    return seed


def _seed(database: str, api_key: str) -> dict:
    import datetime
    from decimal import Decimal

    from proteus import Model, Wizard, config

    cfg = config.set_trytond(database=database)
    Currency = Model.get("currency.currency")
    Rate = Model.get("currency.currency.rate")
    Party = Model.get("party.party")
    User = Model.get("res.user")
    Group = Model.get("res.group")
    Application = Model.get("res.user.application")
    Uom = Model.get("product.uom")
    Template = Model.get("product.template")
    PriceList = Model.get("product.price_list")
    Company = Model.get("company.company")

    eur = Currency(name="Euro", code="EUR", symbol="€", rounding=Decimal("0.01"))
    eur.save()
    Rate(date=datetime.date(2000, 1, 1), rate=Decimal(1), currency=eur).save()
    party = Party(name="Demo Office Supplies")
    party.save()
    wizard = Wizard("company.company.config")
    wizard.execute("company")
    wizard.form.party = party
    wizard.form.currency = eur
    wizard.execute("add")
    cfg._context = User.get_preferences(True, {})
    company_id = cfg._context["company"]

    (unit,) = Uom.find([("name", "=", "Unit")])
    products = {}
    for code, name, price in PRODUCTS:
        template = Template(
            name=name,
            code=code,
            type="goods",
            default_uom=unit,
            salable=True,
            sale_uom=unit,
            list_price=Decimal(price),
        )
        template.save()
        products[code] = template.products[0]

    price_lists = {}
    for name, lines in PRICE_LISTS.items():
        price_list = PriceList(name=name, price="list_price")
        for formula, quantity, product in lines:
            line = price_list.lines.new(formula=formula)
            if quantity is not None:
                line.quantity = quantity
            if product is not None:
                line.product = products[product]
        price_list.save()
        price_lists[name] = price_list.id
    archived = PriceList(name="Archived 2019", price="list_price")
    archived.lines.new(formula="unit_price * 2")
    archived.save()
    archived.active = False
    archived.save()

    user = User(name="Quotes", login="quotes")
    user.groups.extend(Group.find([("name", "in", ["Product Administration", "Sales"])]))
    company = Company(company_id)
    user.companies.append(company)
    user.company = company
    user.save()
    Application(user=user, application="rest", key=api_key).save()
    return {
        "company": company_id,
        "currency": "EUR",
        "products": {code: product.id for code, product in products.items()},
        "price_lists": price_lists,
        "user": user.id,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument(
        "--api-key", help="the REST API key to create (default: a random one)", default=None
    )
    parser.add_argument("--setup", metavar="DATABASE", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.setup:
        print(json.dumps(_setup(options.setup, options.key)))
        return
    if not trytond_available():
        sys.exit("Tryton is not installed: pip install -e '.[test]'")
    # Stop cleanly on SIGTERM too, and on SIGINT even when started in the background.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    started = time.monotonic()
    print("Creating a seeded Tryton database (about half a minute)...", flush=True)
    with (
        contextlib.suppress(KeyboardInterrupt),
        tempfile.TemporaryDirectory(prefix="tryton-demo-") as data_dir,
        running_server(Path(data_dir), options.port, options.api_key) as server,
    ):
        print(f"Tryton demo server ready in {time.monotonic() - started:.1f} s")
        print(f"Server URL: {server.url}")
        print(f"Database:   {server.database}")
        print(f"API key:    {server.api_key}")
        print(f"Company:    {server.company_id}")
        print("Press Ctrl+C to stop.", flush=True)
        while server.process is not None and server.process.poll() is None:
            time.sleep(1)


if __name__ == "__main__":
    main()

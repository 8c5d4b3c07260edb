"""Shared fixtures: users with and without the manage permission, connection factories,
and the Chromium launch settings for the browser tests (RECIPES.md)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

import pytest

from tests.tryton_server import tryton_server  # noqa: F401  (session fixture: a real Tryton)

# Playwright's sync API runs an event loop in the test thread; Django must allow DB access.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_executable() -> str | None:
    """CHROMIUM_EXECUTABLE, else Debian's chromium; None lets Playwright use its own."""
    explicit = os.environ.get("CHROMIUM_EXECUTABLE")
    if explicit:
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    executable = chromium_executable()
    args = {**browser_type_launch_args, "args": CHROMIUM_ARGS}
    if executable:
        args["executable_path"] = executable
    return args


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``@pytest.mark.postgres`` tests need row locks and concurrent transactions, which
    SQLite does not have; CI (.ci/run) runs the suite on PostgreSQL, where they run."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """On SQLite the test database is a file, as the embedded deployment's is: threads then
    wait for the write lock (transaction_mode=IMMEDIATE, busy timeout) as workers do, where
    an in-memory shared-cache database answers "database table is locked" at once."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("database") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(path)


@pytest.fixture
def password() -> str:
    return "a-long-test-password"


@pytest.fixture
def make_user(django_user_model: Any, password: str) -> Callable[..., Any]:
    def make(username: str, *, staff: bool = False, manage: bool = False, **fields: Any) -> Any:
        from django.contrib.auth.models import Permission

        user = django_user_model.objects.create_user(
            username=username, password=password, is_staff=staff, **fields
        )
        if manage:
            user.user_permissions.add(
                Permission.objects.get(
                    content_type__app_label="connections", codename="manage_erpconnection"
                )
            )
        return user

    return make


@pytest.fixture
def manager(make_user: Callable[..., Any]) -> Any:
    """A staff user with the permission to manage ERP connections."""
    return make_user("manager", staff=True, manage=True)


@pytest.fixture
def manager_client(client: Any, manager: Any) -> Any:
    client.force_login(manager)
    return client


@pytest.fixture
def make_connection(manager: Any) -> Callable[..., Any]:
    from connections.models import ERPConnection

    def make(name: str = "Main ERP", **fields: Any) -> ERPConnection:
        values: dict[str, Any] = {
            "connector_key": "rest_json",
            "config": {"base_url": "https://erp.example.com/", "auth": "none"},
            "created_by": manager,
            **fields,
        }
        return ERPConnection.objects.create(name=name, **values)

    return make


@pytest.fixture(autouse=True)
def fast_password_hasher(settings: Any) -> None:
    """Hashing with the production hasher costs ~0.3 s per user; tests need no security."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def erp_secret_keys(settings: Any) -> None:
    """A fixed test key ring (a passphrase; crypto derives the Fernet key)."""
    settings.ERP_SECRET_KEYS = ["test-erp-secret-key-one-for-the-whole-suite"]


@pytest.fixture
def demo_erp(settings: Any) -> Any:
    """The project's demo ERP on 127.0.0.1 (bearer token ``demo-token``); private networks
    allowed so the guarded client may reach it."""
    from connectors.demo_erp import make_server, serve_in_thread

    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    server = make_server(port=0, token="demo-token")
    serve_in_thread(server)
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _clear_rate_limit() -> Any:
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _reset_language() -> Any:
    """A request in Dutch leaves Dutch active in the thread (LocaleMiddleware never resets
    it); tests that validate forms without a request must not inherit it."""
    from django.utils import translation

    yield
    translation.deactivate()

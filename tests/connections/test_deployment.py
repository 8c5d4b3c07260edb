"""The deployment's memory settings: gunicorn.conf.py and the SQLite page cache (README,
Deployment). The figures themselves come from ``make bench``, never from a test."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def gunicorn_config() -> dict[str, Any]:
    config: dict[str, Any] = {}
    exec(GUNICORN_CONF.read_text(), config)
    return config


@pytest.fixture
def collector_state() -> Iterator[None]:
    """Put the garbage collector back as it was after a test that changes it."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_workers_are_forked_from_a_preloaded_master_and_replaced_now_and_then():
    config = gunicorn_config()
    assert config["preload_app"] is True
    assert config["max_requests"] > 0
    assert 0 < config["max_requests_jitter"] < config["max_requests"]


def test_the_master_freezes_the_import_and_raises_the_first_collection_threshold(
    collector_state: None,
):
    gc.unfreeze()
    gunicorn_config()["when_ready"](None)
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == 10_000


def test_each_sqlite_connection_keeps_a_small_page_cache(tmp_path):
    """Asked of a real SQLite connection made from the settings, whatever the suite runs on."""
    script = (
        "import django; django.setup(); from django.db import connection; "
        "cursor = connection.cursor(); cursor.execute('PRAGMA cache_size'); "
        "print(cursor.fetchone()[0])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "erpsettings.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    found = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert found.stdout.split()[-1] == "-512"  # KiB


def test_postgresql_connections_use_no_server_side_cursors():
    """Read from the settings a PostgreSQL URL gives (nothing connects), whatever the suite
    runs on: a select of model choices then costs one round trip, not three."""
    script = (
        "import django; django.setup(); from django.db import connection; "
        "print(connection.vendor, connection.settings_dict['DISABLE_SERVER_SIDE_CURSORS'])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "erpsettings.settings",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nothing",
    }
    found = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert found.stdout.split()[-2:] == ["postgresql", "True"]


@pytest.mark.django_db
def test_a_session_is_read_from_the_cache_and_survives_losing_it(manager_client: Any):
    """Every signed-in request reads its session: from the cache, without a query of the
    session table. It is written through to the database, so an emptied cache logs nobody
    out."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("connections:list")
    assert manager_client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert manager_client.get(url).status_code == 200
    assert not [q for q in queries if "django_session" in q["sql"]]
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert manager_client.get(url).status_code == 200  # still signed in
    assert [q for q in queries if "django_session" in q["sql"]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def gunicorn_server(tmp_path: Path) -> Iterator[str]:
    """The application under gunicorn with the repository's configuration (one worker) on
    127.0.0.1, on an empty SQLite database (``/healthz`` needs no tables)."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "erpsettings.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "false",
        "SECRET_KEY": "deployment-test-" + "x" * 40,
        "ERP_SECRET_KEYS": "deployment-test-passphrase-of-enough-length",
        "SECURE_SSL_REDIRECT": "false",
        "WEB_CONCURRENCY": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "--bind",
         f"127.0.0.1:{port}", "erpsettings.wsgi"],
        cwd=GUNICORN_CONF.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(30)


def test_clients_that_keep_their_socket_open_do_not_stall_the_worker(gunicorn_server):
    """gunicorn (26 and later) waits up to 2 s for each closed connection's client to close
    its side too. Ten clients that read their answer and keep the socket open would hold
    the worker's main thread for 20 s; with erpsettings.gunicorn_worker another client is
    answered while they linger (the bound below is ten times what that takes, not a target)."""
    host, port = gunicorn_server.removeprefix("http://").split(":")
    lingering = []
    try:
        for _ in range(10):
            client = socket.create_connection((host, int(port)), timeout=10)
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            lingering.append(client)
        for client in lingering:  # each has its answer and keeps the socket open
            assert client.recv(65536).startswith(b"HTTP/1.1 200")
        answer = httpx.get(f"{gunicorn_server}/healthz", timeout=10)
        assert answer.json() == {"status": "ok", "database": "ok"}
    finally:
        for client in lingering:
            client.close()

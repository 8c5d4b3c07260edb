"""The deployment: gunicorn.conf.py, its worker (erpsettings/gunicorn_worker.py), the
sessions and the SQLite page cache (README, Deployment). The figures themselves come from
``make bench``, never from a test."""

from __future__ import annotations

import gc
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.tryton_server import free_port

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
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "--bind",
             f"127.0.0.1:{port}", "erpsettings.wsgi"],
            cwd=GUNICORN_CONF.parent, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, log.read_text()
                time.sleep(0.1)
        else:
            pytest.fail(f"gunicorn did not answer within 30 s:\n{log.read_text()}")
        yield url
    finally:
        server.terminate()
        server.wait(30)


def test_clients_that_keep_their_socket_open_do_not_stall_the_worker(gunicorn_server):
    """gunicorn (26 and later) waits up to 2 s for each closed connection's client to close
    its side too. Ten clients that read their answer and keep the socket open would hold
    the worker's main thread for 20 s; with erpsettings.gunicorn_worker another client is
    answered while they linger (its 10 s timeout is half that stall, not a target)."""
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


class _Workers:
    """Workers of erpsettings.gunicorn_worker running their real loop in threads of this
    process, on one listening socket, serving a WSGI app whose ``/slow`` waits for ``release``
    (the stand-in for a test waiting on a dead ERP)."""

    def __init__(self, threads: int) -> None:
        from gunicorn.config import Config
        from gunicorn.glogging import Logger

        self.cfg = Config()
        self.cfg.set("threads", threads)
        self.cfg.set("keepalive", 30)
        self.cfg.set("worker_connections", 4 * threads)
        self.log = Logger(self.cfg)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.release = threading.Event()
        self.running: list[tuple[Any, threading.Thread]] = []

    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/slow":
            self.release.wait(30)
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    def start(self) -> Any:
        from concurrent.futures import ThreadPoolExecutor

        from erpsettings.gunicorn_worker import ThreadWorker

        # Its own descriptor of the listener, as a forked worker has (it closes it on exit).
        listener = self.listener.dup()
        worker = ThreadWorker(1, os.getppid(), [listener], None, 30, self.cfg, self.log)
        worker.wsgi = self.app
        worker.tpool = worker.get_thread_pool()
        worker.poller = selectors.DefaultSelector()
        worker.method_queue.init()
        worker.closer = ThreadPoolExecutor(1)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        self.running.append((worker, thread))
        return worker

    def stop(self) -> None:
        self.release.set()
        for worker, thread in self.running:
            worker.handle_exit(None, None)
            thread.join(30)
        self.listener.close()


def _get(port: int, path: str) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    client.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return client


def _answer(client: socket.socket) -> bytes:
    """One whole answer of ``_Workers.app`` (its headers and body may come apart)."""
    data = b""
    while not data.endswith(b"\r\n\r\nok"):
        chunk = client.recv(4096)
        assert chunk, data
        data += chunk
    return data


def _wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("the worker never got there")


def test_a_worker_whose_threads_are_all_busy_leaves_new_connections_to_the_others():
    """Both threads of worker A wait (on a dead ERP, say): A stops accepting, so a page
    reaches worker B instead of queueing behind them, and A closes its idle kept-alive
    connection, whose client then reconnects to a worker with a thread free."""
    workers = _Workers(threads=2)
    try:
        a = workers.start()
        kept = _get(workers.port, "/fast")
        assert _answer(kept).startswith(b"HTTP/1.1 200")  # and kept alive
        _wait_until(lambda: len(a.keepalived_conns) == 1)
        waiting = [_get(workers.port, "/slow") for _ in range(2)]
        _wait_until(lambda: a.busy == 2)
        assert kept.recv(4096) == b""  # A closed its idle connection

        b = workers.start()
        pages = []
        for _ in range(10):  # a worker that took one would leave it waiting on its threads
            pages.append(_get(workers.port, "/fast"))
            assert _answer(pages[-1]).startswith(b"HTTP/1.1 200")  # while A is still busy
        assert (a.busy, b.nr) == (2, 10)

        workers.release.set()  # A's threads free again: it takes connections once more
        for client in waiting:
            assert _answer(client).startswith(b"HTTP/1.1 200")
        _wait_until(lambda: a.busy == 0 and a._accepting)
        for client in [kept, *pages, *waiting]:
            client.close()
    finally:
        workers.stop()

"""*Test ERP connection* on several selected rows runs them side by side, so a request
against hanging ERPs takes about one timeout, not their sum. Concurrency is shown by how
many connections the hanging server holds open at once, never by a clock."""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Iterator

import pytest
from django.urls import reverse
from django.utils import translation

from connections import services
from connections.models import ERPConnection
from connectors.builtin.rest_json import RestJsonConfig
from connectors.schema import split_config

pytestmark = pytest.mark.django_db


class HangingServer:
    """Accepts connections on 127.0.0.1, never answers, and counts how many are open."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setblocking(False)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/"
        self.open = self.most_open = self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.listener, selectors.EVENT_READ)
        while not self._stop.is_set():
            for key, _ in selector.select(timeout=0.05):
                if key.fileobj is self.listener:
                    conn, _ = self.listener.accept()
                    conn.setblocking(False)
                    selector.register(conn, selectors.EVENT_READ)
                    self.accepted += 1
                    self.open += 1
                    self.most_open = max(self.most_open, self.open)
                    continue
                conn = key.fileobj  # type: ignore[assignment]
                try:
                    data = conn.recv(65536)
                except OSError:
                    data = b""
                if not data:  # the client gave up waiting and closed
                    selector.unregister(conn)
                    conn.close()
                    self.open -= 1
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def hanging_server(settings) -> Iterator[HangingServer]:
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    server = HangingServer()
    yield server
    server.close()


def hanging_connections(url: str, count: int) -> list[ERPConnection]:
    public, _ = split_config(RestJsonConfig.model_validate({"base_url": url, "timeout": 1}))
    return [
        ERPConnection.objects.create(name=f"Hanging {i}", connector_key="rest_json", config=public)
        for i in range(count)
    ]


def test_three_selected_rows_wait_on_the_erp_at_the_same_time(manager, hanging_server):
    rows = hanging_connections(hanging_server.url, 3)
    tested = services.connections_test_saved(actor=manager, connections=rows)
    assert hanging_server.most_open == 3  # one after another would never hold more than 1
    assert [t.connection for t in tested] == rows
    assert all(
        t.result is not None and t.result.error_code in {"timeout", "total_timeout"} for t in tested
    )
    for row in rows:
        row.refresh_from_db()
        assert row.last_test_status == "error" and row.last_test_by == manager
        assert row.events.filter(action="test").count() == 1


def test_the_list_action_tests_the_selected_rows_together(manager_client, hanging_server):
    rows = hanging_connections(hanging_server.url, 3)
    response = manager_client.post(
        reverse("connections:test_selected"),
        {"ids": [r.pk for r in rows]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert hanging_server.most_open == 3
    html = response.content.decode()
    for row in rows:
        assert f"{row.name}: No answer within 1 second" in html


def test_results_come_in_the_language_of_the_request(manager, hanging_server):
    rows = hanging_connections(hanging_server.url, 2)
    with translation.override("nl"):
        tested = services.connections_test_saved(actor=manager, connections=rows)
    assert all(t.result and t.result.message.startswith("Geen antwoord binnen") for t in tested)


def test_rows_beyond_the_rate_limit_are_not_run(manager, hanging_server, settings):
    settings.ERP_TESTS_PER_MINUTE = 2
    rows = hanging_connections(hanging_server.url, 3)
    tested = services.connections_test_saved(actor=manager, connections=rows)
    assert [t.result is not None for t in tested] == [True, True, False]
    assert "Too many tests" in tested[2].refused
    assert hanging_server.accepted == 2
    rows[2].refresh_from_db()
    assert rows[2].last_test_at is None


def test_the_worker_timeout_exceeds_the_longest_connector_timeout():
    """gunicorn.conf.py: a test waiting the longest timeout (both REST/JSON calls at 60 s)
    ends in its own message, not in a killed worker and a 500."""
    import importlib
    from pathlib import Path

    from gunicorn.workers import gthread

    from connectors.support import timeout_field

    config: dict[str, object] = {}
    exec((Path(__file__).resolve().parents[2] / "gunicorn.conf.py").read_text(), config)
    longest = next(m.le for m in timeout_field("").metadata if hasattr(m, "le"))
    assert config["timeout"] > 2 * longest
    module, name = str(config["worker_class"]).rsplit(".", 1)
    assert issubclass(getattr(importlib.import_module(module), name), gthread.ThreadWorker)
    assert isinstance(config["threads"], int) and config["threads"] > 1

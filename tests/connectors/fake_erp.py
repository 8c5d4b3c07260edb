"""A real, per-test configurable fake ERP on 127.0.0.1 and an in-memory product register.

``FakeErp`` serves the REST/JSON contract from a thread; each test changes what a path answers
with :meth:`FakeErp.reply` (a status and JSON, a raw body, a hang that never answers, bytes
that are not HTTP) and reads what the connector sent from :attr:`FakeErp.received`.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.base import PriceList, Product

HEALTH = {"status": "ok", "name": "Fake ERP", "version": "9.9"}
PRICE_LISTS = [
    {
        "id": "PL-EUR",
        "name": "Standard EUR",
        "currency": "EUR",
        "valid_from": None,
        "valid_to": None,
    },
    {
        "id": "PL-USD",
        "name": "Export USD",
        "currency": "USD",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    },
]
PRODUCTS = [
    {
        "code": "A-1",
        "name": "Half-way widget",
        "price": "12.345",
        "currency": "EUR",
        "vat": "21",
        "unit": "pcs",
    },
    {
        "code": "B-2",
        "name": "Small bolt",
        "price": "0.129",
        "currency": "EUR",
        "vat": "21",
        "unit": "pcs",
    },
]


@dataclass(frozen=True)
class Received:
    """One request as the fake ERP saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass(frozen=True)
class Reply:
    """What a path answers: JSON (``json``) or raw ``body``; ``hang`` never answers;
    ``raw`` is written to the socket as is (not HTTP)."""

    status: int = 200
    json: Any = None
    body: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    raw: bytes | None = None


Answer = Reply | Callable[[Received], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeErp

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-answer (a refused large body) is not a failure


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        fake = self.server.fake
        parts = urlsplit(self.path)
        received = Received(
            method="GET",
            path=parts.path,
            query={key: values[-1] for key, values in parse_qs(parts.query).items()},
            headers={key.lower(): value for key, value in self.headers.items()},
        )
        fake.received.append(received)
        route = parts.path
        if fake.prefix and route.startswith(fake.prefix + "/"):
            route = route[len(fake.prefix) :]
        elif fake.prefix:
            route = "(outside prefix)"
        answer = fake.replies.get(route, Reply(404, {"error": "not found"}))
        reply = answer(received) if callable(answer) else answer
        if reply.hang:
            fake.release.wait(timeout=30)
            self.close_connection = True
            return
        if reply.raw is not None:
            self.wfile.write(reply.raw)
            self.close_connection = True
            return
        body = reply.body if reply.body is not None else json.dumps(reply.json).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass


class FakeErp:
    """A threaded fake ERP on 127.0.0.1; use as a context manager.

    ``prefix`` makes it answer only below that path (a Base URL with a path prefix);
    ``tls`` is a ``(certfile, keyfile)`` pair to serve HTTPS.
    """

    def __init__(self, *, prefix: str = "", tls: tuple[Path, Path] | None = None) -> None:
        self.prefix = prefix.rstrip("/")
        self.replies: dict[str, Answer] = {
            "/health": Reply(json=HEALTH),
            "/price-lists": Reply(json={"price_lists": PRICE_LISTS}),
            "/products": Reply(json={"products": PRODUCTS}),
        }
        self.received: list[Received] = []
        self.release = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The Base URL of this fake, prefix included."""
        return f"{self._scheme}://127.0.0.1:{self.port}{self.prefix}"

    def reply(self, path: str, answer: Answer | None = None, **reply: Any) -> None:
        """Make ``path`` (relative to the prefix) answer with ``answer`` or ``Reply(**reply)``."""
        self.replies[path] = answer if answer is not None else Reply(**reply)

    def paths(self) -> list[str]:
        return [request.path for request in self.received]

    def __enter__(self) -> FakeErp:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeRegister:
    """An in-memory product register (the ``ProductRegister`` protocol)."""

    def __init__(self) -> None:
        self.lists = [PriceList("REG-EUR", "Register EUR", "EUR")]
        self.products = [
            Product("REG-1", "Register widget", Decimal("9.999"), "EUR", Decimal("21"), "pcs"),
            Product("REG-2", "Register bolt", Decimal("1.005"), "EUR", Decimal("21"), "pcs"),
        ]
        self.calls: list[str] = []

    def price_lists(self, *, currency: str | None = None) -> list[PriceList]:
        self.calls.append("price_lists")
        return [pl for pl in self.lists if currency is None or pl.currency == currency]

    def search_products(self, *, q: str, price_list: str | None, limit: int) -> list[Product]:
        self.calls.append("search_products")
        text = q.casefold()
        found = [p for p in self.products if text in p.code.casefold() or text in p.name.casefold()]
        return found[:limit]

    def active_price_list_count(self) -> int:
        return len(self.lists)

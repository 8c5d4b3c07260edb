"""A tiny demo ERP that speaks the REST/JSON contract (PRODUCT.md section 4.3).

It ships with the project so that a first run can define and test a working ``rest_json``
connection without other software. It listens on 127.0.0.1 only and keeps its catalogue in
memory::

    python -m connectors.demo_erp --port 8001 --token demo-token

Embed it in a thread (tests, ``make run``)::

    server = make_server(port=0, token="demo-token")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ... server.url ...
    server.shutdown(); server.server_close()
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import json
import sys
import threading
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DEFAULT_TOKEN = "demo-token"
DEFAULT_PORT = 8001
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
NAME = "Demo ERP"
VERSION = "1.0"


@dataclass(frozen=True)
class DemoPriceList:
    """A price list; ``factor`` turns a product's base EUR price into this list's price."""

    id: str
    name: str
    currency: str
    factor: Decimal
    valid_from: str | None = None
    valid_to: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "currency": self.currency,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
        }


@dataclass(frozen=True)
class DemoProduct:
    code: str
    name: str
    base_price: Decimal  # EUR, before a price list's factor
    vat: str
    unit: str


PRICE_LISTS: tuple[DemoPriceList, ...] = (
    DemoPriceList("EUR-STD", "Standard prices (EUR)", "EUR", Decimal("1")),
    DemoPriceList("USD-STD", "Standard prices (USD)", "USD", Decimal("1.0825")),
    DemoPriceList(
        "EUR-SPRING",
        "Spring promotion (EUR)",
        "EUR",
        Decimal("0.90"),
        valid_from="2026-03-01",
        valid_to="2026-05-31",
    ),
)

PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct("CHR-300", "Office chair Ergo 300", Decimal("289.00"), "21", "pcs"),
    DemoProduct("CHR-150", "Visitor chair Basic 150", Decimal("79.95"), "21", "pcs"),
    DemoProduct("DSK-1680", "Standing desk 160 x 80 cm", Decimal("649.00"), "21", "pcs"),
    DemoProduct("MON-27Q", "Monitor 27 inch QHD", Decimal("319.475"), "21", "pcs"),
    DemoProduct("ARM-2", "Monitor arm, double", Decimal("119.99"), "21", "pcs"),
    DemoProduct("KBD-WL-NL", "Wireless keyboard (NL layout)", Decimal("49.995"), "21", "pcs"),
    DemoProduct("MSE-WL", "Wireless mouse", Decimal("24.50"), "21", "pcs"),
    DemoProduct("DCK-USBC", "USB-C docking station", Decimal("189.00"), "21", "pcs"),
    DemoProduct("HST-NC", "Headset with noise cancelling", Decimal("139.125"), "21", "pcs"),
    DemoProduct("LMP-LED", "LED desk lamp", Decimal("39.90"), "21", "pcs"),
    DemoProduct("WBD-12090", "Whiteboard 120 x 90 cm", Decimal("94.00"), "21", "pcs"),
    DemoProduct("CBL-C6-5", "Network cable Cat6, 5 m", Decimal("6.4449"), "21", "pcs"),
    DemoProduct("PAP-A4-5", "Copy paper A4 80 g, box of 5 reams", Decimal("27.50"), "21", "box"),
    DemoProduct("COF-1KG", "Coffee beans, 1 kg", Decimal("18.75"), "9", "kg"),
    DemoProduct("SRV-INST", "Installation service", Decimal("85.00"), "21", "hour"),
    DemoProduct("SRV-MNT", "Maintenance contract", Decimal("480.00"), "21", "year"),
)


def price_in(product: DemoProduct, price_list: DemoPriceList) -> str:
    """The product's price in a price list, as the contract's decimal string (4 decimals)."""
    price = (product.base_price * price_list.factor).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP
    )
    whole, _, fraction = f"{price:f}".partition(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"


class DemoErpServer(ThreadingHTTPServer):
    """The demo ERP: a threaded HTTP server on a loopback address with an optional token."""

    daemon_threads = True
    verbose = False  # log requests to stderr

    def __init__(self, address: tuple[str, int], token: str | None) -> None:
        super().__init__(address, DemoErpHandler)
        self.token = token

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up early is normal; only report other errors."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        """The Base URL to configure in a ``rest_json`` connection."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class DemoErpHandler(BaseHTTPRequestHandler):
    server: DemoErpServer
    server_version = "DemoERP/" + VERSION

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        if not self._authorized():
            self._send(
                HTTPStatus.UNAUTHORIZED,
                {"error": "missing or wrong bearer token"},
                {"WWW-Authenticate": 'Bearer realm="demo-erp"'},
            )
            return
        route = parts.path.rstrip("/") or "/"
        if route == "/health":
            self._send(HTTPStatus.OK, {"status": "ok", "name": NAME, "version": VERSION})
        elif route == "/price-lists":
            self._send(HTTPStatus.OK, {"price_lists": [pl.as_json() for pl in PRICE_LISTS]})
        elif route == "/products":
            self._products(query)
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such resource: {route}"})

    def _products(self, query: dict[str, str]) -> None:
        price_list_id = query.get("price_list") or PRICE_LISTS[0].id
        price_list = next((pl for pl in PRICE_LISTS if pl.id == price_list_id), None)
        if price_list is None:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such price list: {price_list_id}"})
            return
        try:
            limit = int(query.get("limit") or DEFAULT_LIMIT)
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            self._send(HTTPStatus.BAD_REQUEST, {"error": f"limit must be 1..{MAX_LIMIT}"})
            return
        text = (query.get("q") or "").strip().casefold()
        found = [
            {
                "code": product.code,
                "name": product.name,
                "price": price_in(product, price_list),
                "currency": price_list.currency,
                "vat": product.vat,
                "unit": product.unit,
            }
            for product in PRODUCTS
            if text in product.code.casefold() or text in product.name.casefold()
        ]
        self._send(HTTPStatus.OK, {"products": found[:limit]})

    def _authorized(self) -> bool:
        if not self.server.token:
            return True
        expected = f"Bearer {self.server.token}".encode()
        given = self.headers.get("Authorization", "").encode("utf-8", errors="replace")
        return hmac.compare_digest(given, expected)

    def _send(
        self, status: HTTPStatus, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        if self.server.verbose:
            super().log_message(format, *args)


def make_server(
    host: str = "127.0.0.1", port: int = 0, token: str | None = DEFAULT_TOKEN
) -> DemoErpServer:
    """A demo ERP bound to ``host:port`` (port 0 picks a free one), not yet serving.

    ``token`` is the bearer token every request must carry; ``None`` or ``""`` switches the
    check off. Only loopback IPv4 addresses are accepted: the demo never listens on a network.
    """
    address = "127.0.0.1" if host == "localhost" else host
    if not ipaddress.IPv4Address(address).is_loopback:
        raise ValueError(f"the demo ERP listens on loopback only, not on {host!r}")
    return DemoErpServer((address, port), token or None)


def serve_in_thread(server: DemoErpServer, poll_interval: float = 0.05) -> threading.Thread:
    """Serve ``server`` from a daemon thread; stop with ``server.shutdown()``.

    ``poll_interval`` is how often the loop checks for shutdown (and so how long it takes).
    """
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": poll_interval},
        name="demo-erp",
        daemon=True,
    )
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> None:
    """Serve the demo ERP on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(description="Serve the demo ERP on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--token", default=DEFAULT_TOKEN, help='bearer token to require ("" for none)'
    )
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    server = make_server(port=args.port, token=args.token)
    server.verbose = not args.quiet
    print(f"Demo ERP on {server.url} (bearer token: {args.token or 'none'})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

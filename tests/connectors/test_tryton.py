"""The Tryton ERP connector: against a real Tryton 8.2 server on 127.0.0.1 (``tryton``
marker, see ``tests/tryton_server.py``), and with ``httpx.MockTransport`` for the quirks that
the real server does not produce here."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from connectors.base import (
    Capability,
    ConnectorError,
    Context,
    PriceList,
    Product,
    TestStatus as Status,
    run_test,
)
from connectors.builtin.tryton import ErrorCode, TrytonConfig, TrytonConnector, TrytonError
from connectors.http import AddressNotAllowed, GuardPolicy, client_factory
from connectors.registry import get_connector_class
from tests.tryton_server import TrytonServer

if not any(
    hasattr(sys.modules.get(conftest), "tryton_server")
    for conftest in ("tests.conftest", "tests.connectors.conftest")
):
    # Until a conftest provides the session fixture, take it from its module (importing it
    # in both places would start a second server).
    from tests.tryton_server import tryton_server  # noqa: F401


class Recorder:
    """A client factory for tests: plain httpx (no address policy) that records requests."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.calls: list[dict[str, Any]] = []

    def __call__(self, *, timeout: float, verify: bool = True) -> httpx.Client:
        self.calls.append({"timeout": timeout, "verify": verify})
        return httpx.Client(
            timeout=timeout, verify=verify, event_hooks={"request": [self.requests.append]}
        )

    def ranges(self, model: str) -> list[str]:
        return [
            r.headers.get("Range", "")
            for r in self.requests
            if r.method == "GET" and r.url.path.endswith(f"/rest/model/{model}")
        ]


class FakeRegister:
    """An in-memory product register (the ``ProductRegister`` protocol)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def price_lists(self, *, currency: str | None = None) -> list[PriceList]:
        self.calls.append("price_lists")
        return [PriceList("REG", "Register", "EUR")]

    def search_products(self, *, q: str, price_list: str | None, limit: int) -> list[Product]:
        self.calls.append("search_products")
        return [Product("DESK-01", "Register desk", Decimal("1.005"), "EUR")][:limit]

    def active_price_list_count(self) -> int:
        return 1


def settings_for(server: TrytonServer, **values: Any) -> TrytonConfig:
    return TrytonConfig.model_validate(
        {
            "server_url": server.url,
            "database": server.database,
            "api_key": server.api_key,
            "company": server.company_id,
            **values,
        }
    )


def assert_no_key(result_or_error: Any, key: str) -> None:
    for text in (result_or_error.message, getattr(result_or_error, "technical_message", "")):
        assert key not in str(text)
    assert key not in str(getattr(result_or_error, "technical", ""))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def connector(recorder: Recorder) -> TrytonConnector:
    return TrytonConnector(Context(http=recorder))


@pytest.fixture(scope="module")
def stopped_server(tryton_server: TrytonServer) -> str:
    """The URL of a second Tryton server on the same database, started and then stopped."""
    other = tryton_server.start_another()
    try:
        body = {"method": "common.server.version", "params": []}
        assert httpx.post(f"{other.url}/rpc/", json=body).is_success
    finally:
        other.stop()
    return other.url


# =========================================================== against a real Tryton server


@pytest.mark.tryton
def test_connection_ok_counts_price_lists_and_products(tryton_server, connector):
    result = run_test(connector, settings_for(tryton_server))

    assert result.status is Status.OK
    assert result.message == "Connection OK: 3 price lists, 5 products available"
    assert result.error_code == ""
    assert result.details["server_version"] == "8.2"
    assert result.details["company"] == "Demo Office Supplies"
    assert result.details["currency"] == "EUR"
    assert result.details["price_calculation"] is True
    assert_no_key(result, tryton_server.api_key)


@pytest.mark.tryton
def test_connection_uses_timeout_and_tls_setting_through_the_factory(
    tryton_server, connector, recorder
):
    run_test(connector, settings_for(tryton_server, timeout=7, verify_tls=False))

    assert recorder.calls == [{"timeout": 7.0, "verify": False}]
    assert all(r.url.host == "127.0.0.1" for r in recorder.requests)


@pytest.mark.tryton
def test_connection_reports_the_price_list_for_quotes_found_by_name(tryton_server, connector):
    result = run_test(connector, settings_for(tryton_server, price_list="wholesale"))

    assert result.status is Status.OK
    assert result.details["price_list"] == {
        "id": str(tryton_server.seed["price_lists"]["Wholesale"]),
        "name": "Wholesale",
    }


@pytest.mark.tryton
def test_connection_refuses_a_wrong_key(tryton_server, connector):
    wrong = "0" * 64
    result = run_test(connector, settings_for(tryton_server, api_key=wrong))

    assert result.status is Status.ERROR
    assert result.error_code == ErrorCode.KEY_REFUSED == "key_refused"
    assert result.message.startswith("Tryton refused the API key.")
    assert "HTTP 401" in result.technical_message
    assert_no_key(result, wrong)


@pytest.mark.tryton
def test_connection_reports_an_unknown_database(tryton_server, connector):
    result = run_test(connector, settings_for(tryton_server, database="no_such_db"))

    assert result.error_code == "unknown_database"
    assert result.message == (
        'The Tryton server has no database "no_such_db". Check the database name.'
    )
    assert "HTTP 404" in result.technical_message


@pytest.mark.tryton
def test_connection_reports_a_missing_company(tryton_server, connector):
    result = run_test(connector, settings_for(tryton_server, company=42))

    assert result.error_code == "company_missing"
    assert result.message.startswith("Company 42 was not found in database erpsettings")


@pytest.mark.tryton
def test_connection_reports_a_missing_price_list_for_quotes(tryton_server, connector):
    result = run_test(connector, settings_for(tryton_server, price_list="Clearance"))

    assert result.error_code == "price_list_missing"
    assert '"Clearance"' in result.message


@pytest.mark.tryton
def test_connection_reports_a_stopped_server_as_unreachable(
    tryton_server, stopped_server, connector
):
    port = stopped_server.rsplit(":", 1)[1]
    result = run_test(connector, settings_for(tryton_server, server_url=stopped_server))

    assert result.status is Status.ERROR
    assert result.error_code == "unreachable"
    assert result.message == (
        f"Cannot reach 127.0.0.1:{port}. Check the Server URL and that the Tryton server is "
        "running."
    )
    assert "ConnectError" in result.technical_message


@pytest.mark.tryton
def test_connection_reports_no_answer_in_time(tryton_server, silent_server, connector):
    result = run_test(connector, settings_for(tryton_server, server_url=silent_server, timeout=1))

    assert result.error_code == "timeout"
    assert result.message.startswith("No answer within 1 second from 127.0.0.1:")


@pytest.mark.tryton
def test_connection_through_the_guarded_client_when_private_networks_are_allowed(
    tryton_server,
):
    guarded = TrytonConnector(Context(http=client_factory(GuardPolicy(allow_private=True))))

    result = run_test(guarded, settings_for(tryton_server))

    assert result.status is Status.OK


@pytest.mark.tryton
def test_the_guarded_client_refuses_a_loopback_server(tryton_server):
    guarded = TrytonConnector(Context(http=client_factory(GuardPolicy())))

    result = run_test(guarded, settings_for(tryton_server))

    assert result.error_code == "address_not_allowed"
    assert result.message.startswith("This address is not allowed: 127.0.0.1:")


@pytest.mark.tryton
def test_price_lists_are_the_active_ones_of_the_company_by_name(tryton_server, connector):
    lists = connector.price_lists(settings_for(tryton_server))

    ids = tryton_server.seed["price_lists"]
    assert lists == [
        PriceList(str(ids["Partner"]), "Partner", "EUR"),
        PriceList(str(ids["Retail"]), "Retail", "EUR"),
        PriceList(str(ids["Wholesale"]), "Wholesale", "EUR"),
    ]  # "Archived 2019" is inactive


@pytest.mark.tryton
def test_price_lists_are_read_in_pages_with_range(tryton_server, connector, recorder):
    connector.page_size = 2

    lists = connector.price_lists(settings_for(tryton_server))

    assert [pl.name for pl in lists] == ["Partner", "Retail", "Wholesale"]
    assert recorder.ranges("product.price_list") == ["records=0-2", "records=2-4"]


@pytest.mark.tryton
def test_price_lists_in_another_currency_are_left_out(tryton_server, connector):
    assert connector.price_lists(settings_for(tryton_server), currency="usd") == []
    assert len(connector.price_lists(settings_for(tryton_server), currency="eur")) == 3


@pytest.mark.tryton
def test_search_finds_products_by_name_with_list_prices(tryton_server, connector):
    products = connector.search_products(settings_for(tryton_server), q="desk")

    assert products == [
        Product("DESK-01", "Standing desk", Decimal("499.95"), "EUR", None, "u"),
        Product("LAMP-01", "Desk lamp", Decimal("34.99"), "EUR", None, "u"),
    ]


@pytest.mark.tryton
def test_search_finds_products_by_code_and_respects_the_limit(tryton_server, connector):
    cfg = settings_for(tryton_server)

    assert [p.code for p in connector.search_products(cfg, q="cable-")] == ["CABLE-01"]
    assert [p.code for p in connector.search_products(cfg, q="", limit=2)] == [
        "CABLE-01",
        "CHAIR-01",
    ]


@pytest.mark.tryton
def test_search_treats_wildcards_as_plain_text(tryton_server, connector):
    assert connector.search_products(settings_for(tryton_server), q="%") == []
    assert connector.search_products(settings_for(tryton_server), q="_") == []


@pytest.mark.tryton
def test_search_prices_from_a_price_list_on_the_server(tryton_server, connector):
    partner = str(tryton_server.seed["price_lists"]["Partner"])

    products = connector.search_products(settings_for(tryton_server), q="desk", price_list=partner)

    # Partner's first line applies to DESK-01 only (unit_price * 0.8); LAMP-01 keeps its price.
    assert [(p.code, p.price, p.notice) for p in products] == [
        ("DESK-01", Decimal("399.96"), ""),
        ("LAMP-01", Decimal("34.99"), ""),
    ]


@pytest.mark.tryton
def test_search_uses_the_price_list_for_quotes_by_default(tryton_server, connector):
    cfg = settings_for(tryton_server, price_list="Wholesale")

    (cable,) = connector.search_products(cfg, q="CABLE-01")

    assert cable.price == Decimal("10.63")  # 12.50 * 0.85 = 10.625, half up


@pytest.mark.tryton
@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({}, "10.63"),
        ({"rounding_mode": "half_even"}, "10.62"),
        ({"rounding_mode": "down"}, "10.62"),
        ({"price_decimals": 3}, "10.625"),
        ({"price_decimals": 0}, "11"),
    ],
)
def test_search_rounds_server_prices_by_the_rounding_rule(
    tryton_server, connector, rules, expected
):
    cfg = settings_for(tryton_server, price_list="Wholesale", **rules)

    (cable,) = connector.search_products(cfg, q="CABLE-01")

    assert cable.price == Decimal(expected)
    assert str(cable.price) == expected


@pytest.mark.tryton
def test_product_details_price_follows_the_quantity(tryton_server, connector):
    cfg = settings_for(tryton_server, price_list="Wholesale")

    assert connector.product_details(cfg, code="CABLE-01").price == Decimal("10.63")
    assert connector.product_details(cfg, code="CABLE-01", quantity=10).price == Decimal("10.00")


@pytest.mark.tryton
def test_product_details_of_an_unknown_code_is_an_error(tryton_server, connector):
    with pytest.raises(TrytonError) as caught:
        connector.product_details(settings_for(tryton_server), code="NOPE-1")

    assert caught.value.code == "product_not_found"


@pytest.mark.tryton
def test_search_with_an_unknown_price_list_is_an_error(tryton_server, connector):
    with pytest.raises(TrytonError) as caught:
        connector.search_products(settings_for(tryton_server), q="desk", price_list="999")

    assert caught.value.code == "price_list_missing"


@pytest.mark.tryton
def test_search_falls_back_to_the_register_when_tryton_is_stopped(
    tryton_server, stopped_server, recorder
):
    register = FakeRegister()
    connector = TrytonConnector(Context(http=recorder, register=register))
    cfg = settings_for(tryton_server, server_url=stopped_server, fallback_to_register=True)

    (product,) = connector.search_products(cfg, q="desk")

    assert product.price == Decimal("1.01")  # rounded by the connection's rule
    assert product.notice == "Tryton could not be reached; this comes from the product register."
    assert connector.price_lists(cfg) == [PriceList("REG", "Register", "EUR")]
    assert register.calls == ["search_products", "price_lists"]


@pytest.mark.tryton
def test_no_fallback_without_the_rule(tryton_server, stopped_server, recorder):
    register = FakeRegister()
    connector = TrytonConnector(Context(http=recorder, register=register))
    cfg = settings_for(tryton_server, server_url=stopped_server)

    with pytest.raises(TrytonError) as caught:
        connector.search_products(cfg, q="desk")

    assert caught.value.code == "unreachable"
    assert register.calls == []


@pytest.mark.tryton
def test_no_fallback_when_tryton_refuses_the_key(tryton_server, recorder):
    register = FakeRegister()
    connector = TrytonConnector(Context(http=recorder, register=register))
    cfg = settings_for(tryton_server, api_key="wrong-key", fallback_to_register=True)

    with pytest.raises(TrytonError) as caught:
        connector.price_lists(cfg)

    assert caught.value.code == "key_refused"
    assert register.calls == []


# =========================================================== quirks, with MockTransport

URL = "http://tryton.test:8000"
KEY = "k3y-0123456789abcdef"
Handler = Callable[[httpx.Request], httpx.Response]


def mock_connector(handler: Handler, *, register: Any = None) -> TrytonConnector:
    def factory(*, timeout: float, verify: bool = True) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(handler), timeout=timeout)

    return TrytonConnector(Context(http=factory, register=register))


def mock_config(**values: Any) -> TrytonConfig:
    return TrytonConfig.model_validate(
        {"server_url": URL, "database": "db", "api_key": KEY, **values}
    )


def decoded(request: httpx.Request, param: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(request.url.params[param]))


def tryton_context(request: httpx.Request) -> Any:
    return json.loads(base64.urlsafe_b64decode(request.headers["X-Tryton-Context"]))


def html(status: int, title: str, text: str) -> httpx.Response:
    body = f"<!doctype html>\n<title>{title}</title>\n<h1>{title}</h1>\n<p>{text}</p>\n"
    return httpx.Response(status, text=body, headers={"Content-Type": "text/html; charset=utf-8"})


class FakeTryton:
    """Answers like Tryton 8.2; ``routes`` maps "METHOD model[/action]" to a responder."""

    def __init__(self, **routes: Callable[[httpx.Request], httpx.Response]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/rpc/":
            return httpx.Response(200, json={"id": 1, "result": "8.2"})
        assert path.startswith("/db/rest/model/"), path
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        name = f"{request.method} {path.removeprefix('/db/rest/model/')}"
        if name in self.routes:
            return self.routes[name](request)
        if name == "GET company.company":
            return httpx.Response(
                200,
                json=[{"id": 1, "rec_name": "ACME", "currency": {"id": 1, "code": "EUR"}}],
            )
        if name == "GET ir.model.field":
            return httpx.Response(200, json=[{"id": 9, "name": "sale_price_uom"}])
        if name == "GET product.price_list":
            return httpx.Response(
                200, json=[{"id": 4, "name": "Net", "company": {"currency": {"code": "EUR"}}}]
            )
        if name.endswith("/search_count"):
            return httpx.Response(200, json=2)
        raise AssertionError(f"unexpected request {name}")


def dec(value: str) -> dict[str, str]:
    return {"__class__": "Decimal", "decimal": value}


def test_decimal_encodings_and_nested_dotted_fields_are_read():
    products = [
        {"id": 1, "code": "A", "name": "Dict", "list_price_used": dec("12.345"),
         "default_uom": {"id": 1, "symbol": "u"}},
        {"id": 2, "code": "B", "name": "Float", "list_price_used": 7.5, "default_uom.symbol": "kg"},
        {"id": 3, "code": "C", "name": "Text", "list_price_used": "3.10",
         "default_uom.": {"symbol": "m"}},
    ]  # fmt: skip
    fake = FakeTryton(**{"GET product.product": lambda r: httpx.Response(200, json=products)})

    found = mock_connector(fake).search_products(mock_config(price_decimals=2), q="")

    assert [(p.code, p.price, p.unit) for p in found] == [
        ("A", Decimal("12.35"), "u"),
        ("B", Decimal("7.50"), "kg"),
        ("C", Decimal("3.10"), "m"),
    ]
    assert all(p.currency == "EUR" for p in found)


def test_requests_carry_key_company_context_fields_and_domain():
    fake = FakeTryton(**{"GET product.product": lambda r: httpx.Response(200, json=[])})

    mock_connector(fake).search_products(mock_config(company=3), q="50%_off", limit=5)

    request = fake.requests[-1]
    assert tryton_context(request) == {"company": 3}
    assert request.url.params.get_list("f") == [
        "code",
        "name",
        "list_price_used",
        "default_uom.symbol",
    ]
    assert decoded(request, "d") == [["rec_name", "ilike", "%50\\%\\_off%"]]
    assert decoded(request, "o") == [["code", "ASC"], ["id", "ASC"]]
    assert request.headers["Range"] == "records=0-5"


def test_price_list_price_is_read_with_the_price_list_in_the_context():
    products = [{"id": 1, "code": "A", "name": "A", "list_price_used": dec("10"),
                 "sale_price_uom": dec("8.5000")}]  # fmt: skip
    fake = FakeTryton(**{"GET product.product": lambda r: httpx.Response(200, json=products)})

    (product,) = mock_connector(fake).search_products(mock_config(), q="", price_list="4")

    assert product.price == Decimal("8.50")
    assert product.notice == ""
    request = fake.requests[-1]
    assert tryton_context(request) == {"company": 1, "price_list": 4}
    assert "sale_price_uom" in request.url.params.get_list("f")


def test_list_price_with_a_notice_when_the_server_does_not_calculate():
    products = [{"id": 1, "code": "A", "name": "A", "list_price_used": dec("10")}]
    fake = FakeTryton(
        **{
            "GET ir.model.field": lambda r: httpx.Response(200, json=[]),
            "GET product.product": lambda r: httpx.Response(200, json=products),
        }
    )

    (product,) = mock_connector(fake).search_products(mock_config(price_list="Net"), q="")

    assert product.price == Decimal("10.00")
    assert product.notice == (
        "List price: this Tryton server does not calculate prices from price lists."
    )
    assert "sale_price_uom" not in fake.requests[-1].url.params.get_list("f")
    assert "price_list" not in tryton_context(fake.requests[-1])


def test_list_price_with_a_notice_when_the_price_list_gives_none():
    products = [{"id": 1, "code": "A", "name": "A", "list_price_used": dec("10"),
                 "sale_price_uom": None}]  # fmt: skip
    fake = FakeTryton(**{"GET product.product": lambda r: httpx.Response(200, json=products)})

    (product,) = mock_connector(fake).search_products(mock_config(price_list="4"), q="")

    assert product.price == Decimal("10.00")
    assert product.notice == "List price: the price list gives no price for this product."


def test_connection_ok_with_info_when_the_server_does_not_calculate():
    fake = FakeTryton(**{"GET ir.model.field": lambda r: httpx.Response(200, json=[])})

    result = run_test(mock_connector(fake), mock_config())

    assert result.status is Status.OK_WITH_INFO
    assert result.message == (
        "Connection OK: 2 price lists, 2 products available. This Tryton server does not "
        "calculate prices from price lists (module sale_price_list); quotes use list prices."
    )
    assert result.details["price_calculation"] is False


def test_connection_ok_with_info_when_there_are_no_price_lists():
    fake = FakeTryton(
        **{"POST product.price_list/search_count": lambda r: httpx.Response(200, json=0)}
    )

    result = run_test(mock_connector(fake), mock_config())

    assert result.status is Status.OK_WITH_INFO
    assert result.message == (
        "Connection OK: 0 price lists, 2 products available. Quotes use list prices until "
        "Tryton has a price list."
    )


def test_booleans_as_0_and_1_are_understood():
    lists = [
        {"id": 1, "name": "On", "active": 1, "company": {"currency": {"code": "EUR"}}},
        {"id": 2, "name": "Off", "active": 0, "company": {"currency": {"code": "EUR"}}},
        {"id": 3, "name": "True", "active": True, "company": {"currency": {"code": "EUR"}}},
    ]
    fake = FakeTryton(**{"GET product.price_list": lambda r: httpx.Response(200, json=lists)})

    found = mock_connector(fake).price_lists(mock_config())

    assert [pl.name for pl in found] == ["On", "True"]


def paged(records: list[dict[str, Any]], *, total_known: bool = True) -> Handler:
    """Tryton's Range handling: exclusive end, Content-Range, 416 past the end."""

    def respond(request: httpx.Request) -> httpx.Response:
        start, end = map(int, request.headers["Range"].removeprefix("records=").split("-"))
        page = records[start:end]
        if not page and start:
            return html(416, "416 Requested Range Not Satisfiable", "Cannot provide the range.")
        total = str(len(records)) if total_known else "*"
        content_range = f"records {start}-{start + len(page)}/{total}"
        return httpx.Response(200, json=page, headers={"Content-Range": content_range})

    return respond


def price_list_records(count: int) -> list[dict[str, Any]]:
    return [
        {"id": i, "name": f"L{i:02d}", "active": 1, "company": {"currency": {"code": "EUR"}}}
        for i in range(1, count + 1)
    ]


@pytest.mark.parametrize(
    ("count", "total_known", "expected_ranges"),
    [
        (5, True, ["records=0-2", "records=2-4", "records=4-6"]),
        (4, True, ["records=0-2", "records=2-4"]),
        (4, False, ["records=0-2", "records=2-4", "records=4-6"]),  # ends with a 416
        (0, True, ["records=0-2"]),
    ],
)
def test_paging_with_range_reads_every_record(count, total_known, expected_ranges):
    fake = FakeTryton(
        **{"GET product.price_list": paged(price_list_records(count), total_known=total_known)}
    )
    connector = mock_connector(fake)
    connector.page_size = 2

    found = connector.price_lists(mock_config())

    assert [pl.id for pl in found] == [str(i) for i in range(1, count + 1)]
    assert [r.headers["Range"] for r in fake.requests] == expected_ranges


def test_a_server_that_ignores_range_is_read_once():
    fake = FakeTryton(
        **{"GET product.price_list": lambda r: httpx.Response(200, json=price_list_records(5))}
    )
    connector = mock_connector(fake)
    connector.page_size = 2

    assert len(connector.price_lists(mock_config())) == 5
    assert len(fake.requests) == 1


def test_an_html_500_body_becomes_a_readable_technical_message():
    fake = FakeTryton(
        **{
            "GET product.product": lambda r: html(
                500, "500 Internal Server Error", "&#39;sale_price_uom&#39; is broken"
            )
        }
    )

    with pytest.raises(TrytonError) as caught:
        mock_connector(fake).search_products(mock_config(), q="x")

    error = caught.value
    assert error.code == "server_error"
    assert error.message.startswith("The Tryton server reported an error (HTTP 500).")
    assert error.technical.endswith(
        "-> HTTP 500; \"500 Internal Server Error 500 Internal Server Error 'sale_price_uom' is "
        'broken"'
    )
    assert "<" not in error.technical


def test_an_unknown_model_means_the_module_is_not_activated():
    fake = FakeTryton(
        **{
            "POST product.price_list/search_count": lambda r: html(
                500, "500 Internal Server Error", "&#39;product.price_list&#39;"
            )
        }
    )

    result = run_test(mock_connector(fake), mock_config())

    assert result.error_code == "module_missing"
    assert result.message == "The Tryton module product_price_list is not activated in database db."


def test_a_tryton_user_error_is_shown_with_its_message():
    body = {"status": 400, "message": "You are not allowed to read Company.", "description": ""}
    fake = FakeTryton(**{"GET company.company": lambda r: httpx.Response(400, json=body)})

    result = run_test(mock_connector(fake), mock_config())

    assert result.error_code == "tryton_refused"
    assert result.message == "Tryton refused the request: You are not allowed to read Company."


def test_forbidden_is_access_denied():
    fake = FakeTryton(**{"POST product.product/search_count": lambda r: html(403, "403", "No")})

    assert run_test(mock_connector(fake), mock_config()).error_code == "access_denied"


@pytest.mark.parametrize(
    "response",
    [
        html(200, "Welcome", "nginx"),
        html(404, "404 Not Found", "Not here"),
        httpx.Response(200, json={"status": "ok"}),
        httpx.Response(405, text="Method Not Allowed"),
    ],
)
def test_something_that_is_not_tryton_is_reported(response):
    result = run_test(mock_connector(lambda request: response), mock_config())

    assert result.error_code == "not_tryton"
    assert result.message == (
        "http://tryton.test:8000 does not answer like a Tryton server. Check the Server URL: it "
        "is the address of the Tryton server itself, without a database name."
    )


def test_a_server_that_does_not_answer_in_time_is_a_timeout():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    result = run_test(mock_connector(handler), mock_config(timeout=3))

    assert result.error_code == "timeout"
    assert result.message == (
        "No answer within 3 seconds from tryton.test:8000. Check that Tryton is running, or "
        "raise the timeout."
    )


def test_a_timeout_is_unreachable_for_the_fallback():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    register = FakeRegister()
    connector = mock_connector(handler, register=register)

    found = connector.search_products(mock_config(fallback_to_register=True), q="desk")

    assert [p.code for p in found] == ["DESK-01"]
    assert register.calls == ["search_products"]


def test_an_address_the_policy_refuses_is_reported_as_such():
    def handler(request: httpx.Request) -> httpx.Response:
        raise AddressNotAllowed("10.0.0.1 is private", request=request)

    result = run_test(mock_connector(handler), mock_config())

    assert result.error_code == "address_not_allowed"
    assert result.message.startswith("This address is not allowed: tryton.test:8000")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>proxy login</html>"),
        httpx.Response(200, json={"count": 2}),
        httpx.Response(418, text="teapot"),
    ],
)
def test_an_unexpected_answer_is_reported(response):
    fake = FakeTryton(**{"POST product.price_list/search_count": lambda r: response})

    result = run_test(mock_connector(fake), mock_config())

    assert result.error_code == "unexpected_response"
    assert result.message.startswith("Unexpected response from the Tryton server")


def test_no_message_contains_the_key():
    def echo_key(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text=f"bad key {KEY}")

    fake = FakeTryton(**{"POST product.price_list/search_count": echo_key})

    result = run_test(mock_connector(fake), mock_config())

    assert result.error_code == "server_error"
    assert KEY not in result.technical_message
    assert "***" in result.technical_message


def test_a_limit_out_of_bounds_is_refused():
    with pytest.raises(TrytonError) as caught:
        mock_connector(FakeTryton()).search_products(mock_config(), q="x", limit=0)

    assert caught.value.code == "invalid_limit"


def test_quote_price_applies_the_maximum_discount():
    connector = mock_connector(FakeTryton())
    cfg = mock_config(max_discount=Decimal("20"))

    assert connector.quote_price(cfg, price=Decimal("10.625"), discount=Decimal("10")) == Decimal(
        "9.56"
    )
    with pytest.raises(ConnectorError) as caught:
        connector.quote_price(cfg, price=Decimal("10"), discount=Decimal("25"))
    assert caught.value.code == "discount_too_high"


# =========================================================== configuration and registration


def test_config_fields_have_the_product_labels_in_order():
    fields = TrytonConfig.model_fields
    own = sorted(
        (name for name in fields if name not in {"price_decimals", "rounding_mode",
                                                   "max_discount", "fallback_to_register"}),
        key=lambda name: fields[name].json_schema_extra["order"],
    )  # fmt: skip

    assert [str(fields[name].title) for name in own] == [
        "Server URL",
        "Database",
        "API key",
        "Company",
        "Price list for quotes",
        "Timeout (seconds)",
        "Verify TLS certificates",
    ]


def test_config_defaults():
    cfg = mock_config()

    assert (cfg.company, cfg.price_list, cfg.timeout, cfg.verify_tls) == (1, "", 10, True)
    assert isinstance(cfg.api_key, SecretStr)
    assert cfg.fallback_to_register is False


@pytest.mark.parametrize(
    "values",
    [
        {"database": "my db"},
        {"database": "a/b"},
        {"api_key": "   "},
        {"company": 0},
        {"timeout": 61},
        {"server_url": "ftp://tryton.test"},
        {"server_url": "http://user:pw@tryton.test"},
    ],
)
def test_config_refuses_bad_values(values):
    with pytest.raises(ValidationError):
        mock_config(**values)


def test_connector_is_registered_with_its_attributes():
    assert get_connector_class("tryton") is TrytonConnector
    assert str(TrytonConnector.label) == "Tryton ERP"
    assert TrytonConnector.vendor == "Tryton"
    assert TrytonConnector.sync_connection == "none"
    assert TrytonConnector.capabilities == {
        Capability.PRICE_LISTS,
        Capability.PRODUCT_SEARCH,
        Capability.PRODUCT_DETAILS,
        Capability.PRICE_CALCULATION,
    }


# ----------------------------------------------------------------- the kit and the dialog's choices


@pytest.mark.tryton
def test_tryton_answers_in_the_shapes_the_kit_documents(tryton_server):
    from connectors.testing import check_capabilities

    check_capabilities(TrytonConnector, settings_for(tryton_server).model_dump(mode="python"))


@pytest.mark.tryton
def test_company_choices_come_from_the_server(tryton_server, connector):
    choices = connector.company_choices(settings_for(tryton_server))
    assert (tryton_server.company_id, "Demo Office Supplies (EUR)") in choices


@pytest.mark.tryton
def test_price_list_choices_start_with_list_prices(tryton_server, connector):
    choices = connector.price_list_choices(settings_for(tryton_server))
    assert choices[0] == ("", "None: use list prices")
    assert len(choices) > 1 and all(value.isdigit() for value, _label in choices[1:])

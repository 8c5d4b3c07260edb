"""The REST/JSON ERP connector against a real fake ERP on 127.0.0.1 (and the demo ERP)."""

from __future__ import annotations

import base64
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from connectors import demo_erp
from connectors.base import (
    Capability,
    ConnectorError,
    Context,
    TestStatus as Status,  # aliased: pytest would collect Test*
    run_test,
)
from connectors.builtin.rest_json import ErrorCode, RestJsonConfig, RestJsonConnector
from connectors.http import (
    AddressNotAllowed,
    GuardPolicy,
    ResponseTooLarge,
    TotalTimeout,
    client_factory,
)
from tests.connectors.fake_erp import (
    FakeErp,
    FakeRegister,
    Received,
    Reply,
    closed_port,
)

# Every test here talks to 127.0.0.1 only; anything else fails the test (conftest.py).
pytestmark = pytest.mark.usefixtures("loopback_only_network")

TOKEN = "s3cret-Token-0123456789"
PASSWORD = "pa55-Word-!xyz"


# Built once: httpx would load the CA bundle again for every client (about 50 ms each).
VERIFYING = ssl.create_default_context()


def plain_client(*, timeout: float, verify: bool = True) -> httpx.Client:
    """The client factory for tests: plain httpx, no address policy."""
    return httpx.Client(timeout=timeout, verify=VERIFYING if verify else False)


def mock_factory(handler: Callable[[httpx.Request], httpx.Response]) -> Any:
    def factory(*, timeout: float, verify: bool = True) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(handler), timeout=timeout)

    return factory


def config(base_url: str, **values: Any) -> RestJsonConfig:
    return RestJsonConfig.model_validate({"base_url": base_url, **values})


@pytest.fixture
def erp() -> Iterator[FakeErp]:
    with FakeErp() as server:
        yield server


@pytest.fixture
def connector() -> RestJsonConnector:
    return RestJsonConnector(Context(http=plain_client))


@pytest.fixture
def register() -> FakeRegister:
    return FakeRegister()


# ----------------------------------------------------------------- test_connection outcomes


def test_connection_ok_reports_price_list_count_and_server(erp, connector):
    result = run_test(connector, config(erp.url))

    assert result.status is Status.OK
    assert result.message == "Connection OK: 2 price lists available"
    assert result.error_code == ""
    assert result.details["price_list_count"] == 2
    assert result.details["server_name"] == "Fake ERP"
    assert result.details["server_version"] == "9.9"
    assert erp.paths() == ["/health", "/price-lists"]


def test_connection_with_one_price_list_uses_singular(erp, connector):
    erp.reply("/price-lists", json={"price_lists": [{"id": "1", "name": "N", "currency": "EUR"}]})

    result = run_test(connector, config(erp.url))

    assert result.message == "Connection OK: 1 price list available"


def test_connection_without_price_lists_is_ok_with_info(erp, connector):
    erp.reply("/price-lists", json={"price_lists": []})

    result = run_test(connector, config(erp.url))

    assert result.status is Status.OK_WITH_INFO
    assert result.succeeded
    assert result.message.startswith("Connection OK: 0 price lists available")
    assert result.details["price_list_count"] == 0


@pytest.mark.parametrize(
    ("path", "status", "prefix", "code"),
    [
        ("/health", 401, "Authentication failed: ", ErrorCode.AUTHENTICATION_FAILED),
        ("/price-lists", 403, "Authentication failed: ", ErrorCode.ACCESS_DENIED),
        ("/health", 404, "Not found: ", ErrorCode.NOT_FOUND),
        ("/health", 500, "The ERP server reported an error (HTTP 500) ", ErrorCode.SERVER_ERROR),
        ("/price-lists", 502, "The ERP server reported an error (HTTP 502) ", "server_error"),
        ("/health", 418, "Unexpected response: ", ErrorCode.UNEXPECTED_STATUS),
    ],
)
def test_connection_http_status_becomes_error(erp, connector, path, status, prefix, code):
    erp.reply(path, status=status, json={"error": "no"})

    result = run_test(connector, config(erp.url))

    assert result.status is Status.ERROR
    assert result.message.startswith(prefix)
    assert result.error_code == code
    assert result.details["http_status"] == status
    assert f"HTTP {status}" in result.technical_message


def test_connection_redirect_is_not_followed(erp, connector):
    erp.reply("/health", status=302, headers={"Location": "http://elsewhere.example/"}, json={})

    result = run_test(connector, config(erp.url))

    assert result.error_code == ErrorCode.UNEXPECTED_REDIRECT
    assert result.message.startswith("Unexpected response: ")
    assert "elsewhere.example" in result.technical_message


def test_connection_without_answer_times_out_within_the_limit(erp, connector):
    erp.reply("/health", hang=True)

    started = time.monotonic()
    result = run_test(connector, config(erp.url, timeout=1))
    elapsed = time.monotonic() - started

    assert result.error_code == ErrorCode.TIMEOUT
    assert result.message.startswith("No answer within 1 second")
    assert elapsed < 1 + 3  # the limit plus a generous margin; a sanity bound only


def test_connection_not_json_is_unexpected_response(erp, connector):
    erp.reply("/health", body=b"<html>Welcome to nginx</html>", content_type="text/html")

    result = run_test(connector, config(erp.url))

    assert result.error_code == ErrorCode.INVALID_JSON
    assert result.message.startswith("Unexpected response: ")
    assert "nginx" in result.technical_message


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/health", ["ok"]),
        ("/health", {"name": "no status"}),
        ("/price-lists", {"lists": []}),
        ("/price-lists", {"price_lists": [{"id": "1", "name": "No currency"}]}),
        ("/price-lists", {"price_lists": [{"id": "1", "name": "N", "currency": "EURO"}]}),
        ("/price-lists", {"price_lists": [{"id": 1, "name": "N", "currency": "EUR"}]}),
    ],
)
def test_connection_wrong_json_shape_is_unexpected_response(erp, connector, path, body):
    erp.reply(path, json=body)

    result = run_test(connector, config(erp.url))

    assert result.error_code == ErrorCode.INVALID_RESPONSE
    assert result.message.startswith("Unexpected response: ")


def test_connection_health_not_ok_is_error(erp, connector):
    erp.reply("/health", json={"status": "maintenance", "name": "ERP", "version": "1"})

    result = run_test(connector, config(erp.url))

    assert result.error_code == ErrorCode.ERP_NOT_READY
    assert "maintenance" in result.message


def test_connection_refused_cannot_reach_host(connector):
    port = closed_port()

    result = run_test(connector, config(f"http://127.0.0.1:{port}"))

    assert result.error_code == ErrorCode.CONNECTION_REFUSED
    assert result.message.startswith(f"Cannot reach 127.0.0.1:{port} ")


def test_connection_to_something_that_is_not_http_is_protocol_error(erp, connector):
    erp.reply("/health", raw=b"SSH-2.0-OpenSSH_9.2\r\n\r\n")

    result = run_test(connector, config(erp.url))

    assert result.error_code == ErrorCode.PROTOCOL_ERROR
    assert result.message.startswith("Unexpected response: ")


def test_connection_unresolvable_host_cannot_reach_host():
    def handler(request: httpx.Request) -> httpx.Response:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError("[Errno -2] Name or service not known") from exc

    connector = RestJsonConnector(Context(http=mock_factory(handler)))

    result = run_test(connector, config("https://erp.example.invalid/api"))

    assert result.error_code == ErrorCode.HOST_NOT_FOUND
    assert result.message.startswith("Cannot reach erp.example.invalid ")


@pytest.mark.parametrize(
    ("exception", "prefix", "code"),
    [
        (
            AddressNotAllowed("10.0.0.1 is private"),
            "This address is not allowed: ",
            "address_not_allowed",
        ),
        (ResponseTooLarge("body above 1 MiB"), "Unexpected response: ", "response_too_large"),
        (TotalTimeout("total time limit"), "No answer within 10 seconds ", "total_timeout"),
    ],
)
def test_connection_guard_refusals_become_errors(exception, prefix, code):
    def handler(request: httpx.Request) -> httpx.Response:
        raise exception

    connector = RestJsonConnector(Context(http=mock_factory(handler)))

    result = run_test(connector, config("https://erp.example.com"))

    assert result.status is Status.ERROR
    assert result.message.startswith(prefix)
    assert result.error_code == code


def test_connection_untrusted_certificate_is_tls_problem(self_signed_certificate, connector):
    tls = (self_signed_certificate.cert_file, self_signed_certificate.key_file)
    with FakeErp(tls=tls) as erp:
        result = run_test(connector, config(erp.url))

    assert result.error_code == ErrorCode.TLS_CERTIFICATE
    assert result.message.startswith("TLS certificate problem: ")


def test_connection_untrusted_certificate_passes_when_verification_is_off(
    self_signed_certificate, connector
):
    tls = (self_signed_certificate.cert_file, self_signed_certificate.key_file)
    with FakeErp(tls=tls) as erp:
        result = run_test(connector, config(erp.url, verify_tls=False))

    assert result.status is Status.OK


def test_connection_https_to_plain_http_port_is_tls_problem(erp, connector):
    result = run_test(connector, config(f"https://127.0.0.1:{erp.port}"))

    assert result.error_code == ErrorCode.TLS_HANDSHAKE
    assert result.message.startswith("TLS certificate problem: ")


def test_every_error_code_is_distinct():
    assert len({code.value for code in ErrorCode}) == len(ErrorCode)


# ----------------------------------------------------------------- authentication, base URL


def test_bearer_token_is_sent_as_authorization_header(erp, connector):
    run_test(connector, config(erp.url, authentication="bearer", api_token=TOKEN))

    assert [r.headers.get("authorization") for r in erp.received] == [f"Bearer {TOKEN}"] * 2


def test_basic_credentials_are_sent_as_authorization_header(erp, connector):
    run_test(
        connector, config(erp.url, authentication="basic", username="quotes", password=PASSWORD)
    )

    expected = "Basic " + base64.b64encode(f"quotes:{PASSWORD}".encode()).decode()
    assert [r.headers.get("authorization") for r in erp.received] == [expected] * 2


def test_no_authentication_sends_no_authorization_header(erp, connector):
    # A token left over from an earlier choice is not sent when authentication is "none".
    run_test(connector, config(erp.url, authentication="none", api_token=TOKEN))

    assert all("authorization" not in r.headers for r in erp.received)


@pytest.mark.parametrize("trailing_slash", ["", "/"])
def test_base_url_path_prefix_is_kept(connector, trailing_slash):
    with FakeErp(prefix="/erp/api/v2") as erp:
        result = run_test(connector, config(erp.url + trailing_slash))
        connector.search_products(config(erp.url + trailing_slash), q="bolt")

    assert result.status is Status.OK
    assert erp.paths() == ["/erp/api/v2/health", "/erp/api/v2/price-lists", "/erp/api/v2/products"]


def _echo_secrets(received: Received) -> Reply:
    # A careless ERP that repeats the credentials in its error page.
    return Reply(status=401, body=f"bad credentials: {received.headers}".encode())


@pytest.mark.parametrize(
    "answer",
    [
        _echo_secrets,
        lambda received: Reply(status=500, body=str(received.headers).encode()),
        lambda received: Reply(body=f"not json {received.headers}".encode()),
        lambda received: Reply(json={"status": received.headers.get("authorization", "")}),
    ],
)
@pytest.mark.parametrize(
    "credentials",
    [
        {"authentication": "bearer", "api_token": TOKEN},
        {"authentication": "basic", "username": "quotes", "password": PASSWORD},
    ],
)
def test_test_result_never_contains_a_secret(erp, connector, answer, credentials):
    erp.reply("/health", answer)

    result = run_test(connector, config(erp.url, **credentials))

    assert result.status is Status.ERROR
    exposed = str(result.as_dict())
    basic = base64.b64encode(f"quotes:{PASSWORD}".encode()).decode()
    for secret in (TOKEN, PASSWORD, basic):
        assert secret[:8] not in exposed  # not even the start of one


# ----------------------------------------------------------------- data methods and rules


def test_price_lists_are_parsed(erp, connector):
    lists = connector.price_lists(config(erp.url))

    assert [(pl.id, pl.currency, pl.valid_from, pl.valid_to) for pl in lists] == [
        ("PL-EUR", "EUR", None, None),
        ("PL-USD", "USD", "2026-01-01", "2026-12-31"),
    ]


def test_price_lists_filter_by_currency(erp, connector):
    lists = connector.price_lists(config(erp.url), currency="usd")

    assert [pl.id for pl in lists] == ["PL-USD"]


def test_search_sends_query_price_list_and_limit(erp, connector):
    connector.search_products(config(erp.url), q="widget", price_list="PL-EUR", limit=5)

    assert erp.received[-1].query == {"q": "widget", "price_list": "PL-EUR", "limit": "5"}


@pytest.mark.parametrize(
    ("mode", "decimals", "expected"),
    [
        ("half_up", 2, ["12.35", "0.13"]),
        ("half_even", 2, ["12.34", "0.13"]),
        ("down", 2, ["12.34", "0.12"]),
        ("half_up", 0, ["12", "0"]),
        ("half_up", 4, ["12.3450", "0.1290"]),
    ],
)
def test_search_prices_are_rounded_by_the_rule(erp, connector, mode, decimals, expected):
    products = connector.search_products(
        config(erp.url, rounding_mode=mode, price_decimals=decimals), q=""
    )

    assert [str(p.price) for p in products] == expected
    assert [(p.code, p.currency, p.vat, p.unit) for p in products] == [
        ("A-1", "EUR", Decimal("21"), "pcs"),
        ("B-2", "EUR", Decimal("21"), "pcs"),
    ]


def test_search_returns_at_most_limit_products(erp, connector):
    # The ERP ignores the limit; the connector does not.
    products = connector.search_products(config(erp.url), q="", limit=1)

    assert [p.code for p in products] == ["A-1"]


def test_search_refuses_a_limit_out_of_range(erp, connector):
    with pytest.raises(ConnectorError) as caught:
        connector.search_products(config(erp.url), q="", limit=0)

    assert caught.value.code == "invalid_limit"
    assert erp.received == []


@pytest.mark.parametrize(
    "product",
    [
        {"code": "A", "name": "No price", "currency": "EUR"},
        {"code": "A", "name": "Bad price", "price": "twelve", "currency": "EUR"},
        {"code": "A", "name": "Infinite", "price": "Infinity", "currency": "EUR"},
        {"code": "", "name": "No code", "price": "1", "currency": "EUR"},
    ],
)
def test_search_refuses_products_of_the_wrong_shape(erp, connector, product):
    erp.reply("/products", json={"products": [product]})

    with pytest.raises(ConnectorError) as caught:
        connector.search_products(config(erp.url), q="")

    assert caught.value.code == "invalid_response"
    assert caught.value.message.startswith("Unexpected response: ")


def test_search_unknown_price_list_is_not_found(erp, connector):
    erp.reply("/products", status=404, json={"error": "no such price list"})

    with pytest.raises(ConnectorError) as caught:
        connector.search_products(config(erp.url), q="", price_list="NOPE")

    assert caught.value.code == "not_found"


def test_quote_price_applies_discount_and_rounding(connector):
    cfg = config("http://127.0.0.1:1", max_discount="15", rounding_mode="down")

    assert connector.quote_price(cfg, price=Decimal("99.99"), discount=Decimal("15")) == Decimal(
        "84.99"
    )


def test_quote_price_refuses_discount_above_maximum(connector):
    cfg = config("http://127.0.0.1:1", max_discount="10")

    with pytest.raises(ConnectorError) as caught:
        connector.quote_price(cfg, price=Decimal("100"), discount=Decimal("10.01"))

    assert caught.value.code == "discount_too_high"


# ----------------------------------------------------------------- fallback to the register


def test_search_falls_back_to_register_when_erp_unreachable(register):
    connector = RestJsonConnector(Context(http=plain_client, register=register))
    cfg = config(f"http://127.0.0.1:{closed_port()}", fallback_to_register=True)

    products = connector.search_products(cfg, q="register", price_list="PL-EUR")

    assert [(p.code, str(p.price)) for p in products] == [("REG-1", "10.00"), ("REG-2", "1.01")]
    assert all("product register" in p.notice for p in products)


def test_price_lists_fall_back_to_register_when_erp_unreachable(register):
    connector = RestJsonConnector(Context(http=plain_client, register=register))
    cfg = config(f"http://127.0.0.1:{closed_port()}", fallback_to_register=True)

    assert [pl.id for pl in connector.price_lists(cfg, currency="EUR")] == ["REG-EUR"]


def test_fallback_also_covers_an_unavailable_gateway(erp, register):
    erp.reply("/products", status=503, json={})
    connector = RestJsonConnector(Context(http=plain_client, register=register))

    products = connector.search_products(config(erp.url, fallback_to_register=True), q="bolt")

    assert [p.code for p in products] == ["REG-2"]


def test_no_fallback_when_the_rule_is_off(register):
    connector = RestJsonConnector(Context(http=plain_client, register=register))
    cfg = config(f"http://127.0.0.1:{closed_port()}", fallback_to_register=False)

    with pytest.raises(ConnectorError) as caught:
        connector.search_products(cfg, q="widget")

    assert caught.value.code == "connection_refused"
    assert register.calls == []


def test_no_fallback_without_a_register():
    connector = RestJsonConnector(Context(http=plain_client, register=None))
    cfg = config(f"http://127.0.0.1:{closed_port()}", fallback_to_register=True)

    with pytest.raises(ConnectorError) as caught:
        connector.price_lists(cfg)

    assert caught.value.code == "connection_refused"


def test_no_fallback_when_the_erp_refuses_the_credentials(erp, register):
    erp.reply("/products", status=401, json={})
    connector = RestJsonConnector(Context(http=plain_client, register=register))

    with pytest.raises(ConnectorError) as caught:
        connector.search_products(config(erp.url, fallback_to_register=True), q="")

    assert caught.value.code == "authentication_failed"
    assert register.calls == []


# ----------------------------------------------------------------- configuration


def test_config_defaults():
    cfg = config("https://erp.example.com/api")

    assert (cfg.authentication, cfg.timeout, cfg.verify_tls) == ("none", 10, True)
    assert (cfg.price_decimals, cfg.rounding_mode, cfg.max_discount) == (2, "half_up", 100)
    assert cfg.fallback_to_register is False


def test_config_field_labels_and_order():
    fields = RestJsonConfig.model_fields
    labels = {name: str(info.title) for name, info in fields.items()}
    order = sorted(fields, key=lambda name: fields[name].json_schema_extra["order"])

    assert [labels[name] for name in order] == [
        "Base URL",
        "Authentication",
        "API token",
        "Username",
        "Password",
        "Timeout (seconds)",
        "Verify TLS certificates",
        "Price decimals",
        "Rounding mode",
        "Maximum discount (%)",
        "Fall back to the product register when the ERP is unreachable",
    ]
    choices = fields["authentication"].json_schema_extra["choice_labels"]
    assert {key: str(label) for key, label in choices.items()} == {
        "none": "None",
        "bearer": "Bearer token",
        "basic": "Basic",
    }


def _error_locs(values: dict[str, Any]) -> dict[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as caught:
        RestJsonConfig.model_validate({"base_url": "https://erp.example.com", **values})
    return {error["loc"]: error["msg"] for error in caught.value.errors()}


def test_config_bearer_without_token_is_refused_at_api_token():
    assert _error_locs({"authentication": "bearer", "api_token": "  "}) == {
        ("api_token",): "Enter the API token for Bearer token authentication."
    }


def test_config_basic_without_credentials_is_refused_at_each_field():
    assert set(_error_locs({"authentication": "basic"})) == {("username",), ("password",)}


@pytest.mark.parametrize("timeout", [0, 61, -1])
def test_config_timeout_out_of_bounds_is_refused(timeout):
    assert set(_error_locs({"timeout": timeout})) == {("timeout",)}


@pytest.mark.parametrize("timeout", [1, 60])
def test_config_timeout_bounds_are_accepted(timeout):
    assert config("https://erp.example.com", timeout=timeout).timeout == timeout


@pytest.mark.parametrize(
    "url",
    [
        "ftp://erp.example.com",
        "erp.example.com",
        "https://user:pw@erp.example.com",
        "http://a/?x=1",
    ],
)
def test_config_refuses_unusable_base_url(url):
    with pytest.raises(ValidationError) as caught:
        RestJsonConfig.model_validate({"base_url": url})

    assert [error["loc"] for error in caught.value.errors()] == [("base_url",)]
    assert "pw" not in str(caught.value)


def test_config_refuses_a_token_that_cannot_be_a_header():
    assert set(_error_locs({"authentication": "bearer", "api_token": "abc\r\nX-Evil: 1"})) == {
        ("api_token",)
    }


def test_config_validation_error_never_shows_the_secret():
    with pytest.raises(ValidationError) as caught:
        RestJsonConfig.model_validate(
            {"base_url": "https://erp.example.com", "api_token": TOKEN + " bad", "timeout": 0}
        )

    assert TOKEN not in str(caught.value)


def test_connector_declares_its_metadata():
    assert RestJsonConnector.key == "rest_json"
    assert str(RestJsonConnector.label) == "REST/JSON ERP"
    assert RestJsonConnector.sync_connection == "optional"
    assert RestJsonConnector.Config is RestJsonConfig
    assert RestJsonConnector.capabilities == {
        Capability.PRICE_LISTS,
        Capability.PRODUCT_SEARCH,
        Capability.PRICE_CALCULATION,
    }


# ----------------------------------------------------------------- the demo ERP end to end


@pytest.fixture
def demo() -> Iterator[demo_erp.DemoErpServer]:
    server = demo_erp.make_server(token="demo-token")
    thread = demo_erp.serve_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def demo_config(demo: demo_erp.DemoErpServer, **values: Any) -> RestJsonConfig:
    values = {"authentication": "bearer", "api_token": "demo-token", **values}
    return config(demo.url, **values)


def test_demo_erp_passes_the_connection_test(demo, connector):
    result = run_test(connector, demo_config(demo))

    assert result.status is Status.OK
    assert result.message == "Connection OK: 3 price lists available"
    assert result.details["server_name"] == "Demo ERP"


def test_demo_erp_refuses_a_wrong_token(demo, connector):
    result = run_test(connector, demo_config(demo, api_token="wrong-token"))

    assert result.error_code == ErrorCode.AUTHENTICATION_FAILED


def test_demo_erp_searches_case_insensitively_with_rounded_prices(demo, connector):
    products = connector.search_products(demo_config(demo), q="CHAIR", price_list="EUR-STD")

    assert [(p.code, str(p.price)) for p in products] == [
        ("CHR-300", "289.00"),
        ("CHR-150", "79.95"),
    ]


def test_demo_erp_prices_follow_the_price_list(demo, connector):
    products = connector.search_products(demo_config(demo), q="mon-27q", price_list="USD-STD")

    assert [(p.code, p.currency, str(p.price)) for p in products] == [("MON-27Q", "USD", "345.83")]


def test_demo_erp_limits_and_lists(demo, connector):
    cfg = demo_config(demo)

    assert len(connector.search_products(cfg, q="", limit=4)) == 4
    assert [pl.id for pl in connector.price_lists(cfg, currency="EUR")] == [
        "EUR-STD",
        "EUR-SPRING",
    ]


def test_demo_erp_unknown_price_list_is_not_found(demo, connector):
    with pytest.raises(ConnectorError) as caught:
        connector.search_products(demo_config(demo), q="", price_list="GBP-STD")

    assert caught.value.code == "not_found"


def test_demo_erp_without_token_check_needs_no_authentication(connector):
    server = demo_erp.make_server(token=None)
    demo_erp.serve_in_thread(server)
    try:
        result = run_test(connector, config(server.url))
    finally:
        server.shutdown()
        server.server_close()

    assert result.status is Status.OK


def test_demo_erp_listens_on_loopback_only():
    with pytest.raises(ValueError):
        demo_erp.make_server(host="0.0.0.0")


# ----------------------------------------------------------------- through the guarded client


def guarded(**policy: Any) -> RestJsonConnector:
    return RestJsonConnector(Context(http=client_factory(GuardPolicy(**policy))))


def test_guarded_client_refuses_loopback_by_default(erp):
    result = run_test(guarded(), config(erp.url))

    assert result.error_code == ErrorCode.ADDRESS_NOT_ALLOWED
    assert result.message.startswith("This address is not allowed: 127.0.0.1:")
    assert erp.received == []


def test_guarded_client_reaches_the_demo_erp_when_private_networks_are_allowed(demo):
    result = run_test(guarded(allow_private=True), demo_config(demo))

    assert result.status is Status.OK


def test_guarded_client_follows_a_same_origin_redirect_with_credentials(erp):
    erp.reply("/health", status=307, headers={"Location": "/moved/health"}, json={})
    erp.reply("/moved/health", json={"status": "ok", "name": "Moved", "version": "2"})

    result = run_test(
        guarded(allow_private=True), config(erp.url, authentication="bearer", api_token=TOKEN)
    )

    assert result.status is Status.OK
    assert erp.received[1].headers["authorization"] == f"Bearer {TOKEN}"


def test_guarded_client_redirect_loop_is_unexpected_response(erp):
    erp.reply("/health", status=302, headers={"Location": "/health"}, json={})

    result = run_test(guarded(allow_private=True), config(erp.url))

    assert result.error_code == ErrorCode.TOO_MANY_REDIRECTS
    assert result.message.startswith("Unexpected response: ")


def test_guarded_client_without_answer_times_out_within_the_limit(erp):
    erp.reply("/health", hang=True)

    started = time.monotonic()
    result = run_test(guarded(allow_private=True), config(erp.url, timeout=1))

    assert result.error_code in {ErrorCode.TIMEOUT, ErrorCode.TOTAL_TIMEOUT}
    assert result.message.startswith("No answer within 1 second")
    assert time.monotonic() - started < 1 + 3


def test_guarded_client_caps_the_response_body(erp):
    erp.reply("/price-lists", body=b"[" + b" " * (2 * 1024 * 1024) + b"]")

    result = run_test(guarded(allow_private=True), config(erp.url))

    assert result.error_code == ErrorCode.RESPONSE_TOO_LARGE
    assert result.message.startswith("Unexpected response: ")

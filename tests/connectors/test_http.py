"""The guarded httpx client (PRODUCT.md section 6).

No test here may send a packet off this machine, even with a broken guard: the address rules
are checked as a pure function, every client gets ``loopback_only_backend`` as its inner
backend, and ``loopback_only_network`` patches ``socket`` underneath everything.
"""

from __future__ import annotations

import gzip
import ipaddress
import socket
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectors.http import (
    MAX_BODY,
    AddressNotAllowed,
    GuardPolicy,
    ResponseTooLarge,
    SchemeNotAllowed,
    TotalTimeout,
    address_refusal,
    check_address,
    client_factory,
    guarded_client,
)
from tests.connectors.conftest import LoopbackOnlyBackend, LoopbackServer, redirect, respond

pytestmark = pytest.mark.usefixtures("loopback_only_network")

PRIVATE_OK = GuardPolicy(allow_private=True)
MARGIN = 0.5  # seconds a time limit may overrun on a loaded machine


def fake_resolver(table: dict[str, list[str]], calls: list[str] | None = None) -> Any:
    """A resolver answering from ``table``, recording each name it is asked for."""

    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        return table[host]

    return resolve


@pytest.fixture
def make_client(
    loopback_only_backend: LoopbackOnlyBackend,
) -> Callable[..., httpx.Client]:
    """``guarded_client`` wired to the loopback-only backend, closed after the test."""
    clients: list[httpx.Client] = []

    def make(**kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 5.0)
        client = guarded_client(inner_backend=loopback_only_backend, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# --- the address rules, as a pure function ---------------------------------------------------

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "shared"),
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.1", "reserved"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "reserved"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "link-local"),
    ("64:ff9b::a00:1", "private"),  # NAT64 for 10.0.0.1
    ("2002:7f00:1::", "loopback"),  # 6to4 for 127.0.0.1
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_address_refusal_names_the_reason(address: str, reason: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_address_refusal_accepts_public_addresses(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


def test_check_address_refuses_by_default() -> None:
    with pytest.raises(AddressNotAllowed) as caught:
        check_address("erp.example", ipaddress.ip_address("10.0.0.1"), GuardPolicy())
    assert (caught.value.host, caught.value.address, caught.value.reason) == (
        "erp.example",
        "10.0.0.1",
        "private",
    )


def test_allow_private_lifts_every_refusal() -> None:
    for address, _reason in REFUSED:
        check_address("erp.example", ipaddress.ip_address(address), PRIVATE_OK)


@pytest.mark.parametrize("host", ["erp.example", "ERP.Example.", "api.corp.lan", "corp.lan"])
def test_listed_host_names_are_allowed(host: str) -> None:
    policy = GuardPolicy(allowed_hosts={"erp.example", ".corp.lan"})
    assert policy.refusal(host, ipaddress.ip_address("10.0.0.1")) is None


def test_unlisted_host_names_stay_refused() -> None:
    policy = GuardPolicy(allowed_hosts={"erp.example", ".corp.lan"})
    for host in ("other.example", "erp.example.evil", "notcorp.lan"):
        assert policy.refusal(host, ipaddress.ip_address("10.0.0.1")) == "private"


def test_listed_networks_allow_their_addresses_only() -> None:
    policy = GuardPolicy(allowed_hosts={"10.1.0.0/16", "fd00::5"})
    assert policy.refusal("a.example", ipaddress.ip_address("10.1.2.3")) is None
    assert policy.refusal("a.example", ipaddress.ip_address("::ffff:10.1.2.3")) is None
    assert policy.refusal("a.example", ipaddress.ip_address("fd00::5")) is None
    assert policy.refusal("a.example", ipaddress.ip_address("10.2.0.1")) == "private"


# --- the client against a real loopback server -----------------------------------------------


def test_reaches_loopback_server_when_private_networks_are_allowed(
    make_client: Callable[..., httpx.Client],
    loopback_server: LoopbackServer,
    loopback_only_backend: LoopbackOnlyBackend,
) -> None:
    loopback_server.route("/health", respond(200, {"status": "ok"}))

    response = make_client(policy=PRIVATE_OK).get(f"{loopback_server.url}/health")

    assert response.json() == {"status": "ok"}
    assert loopback_only_backend.attempts == ["127.0.0.1"]


REFUSED_URLS = [
    "http://127.0.0.1/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
    "https://10.0.0.1/",
    "http://127.1/",  # resolves to 127.0.0.1 without DNS
    "http://0x7f000001/",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_refuses_non_public_addresses_without_connecting(
    url: str,
    make_client: Callable[..., httpx.Client],
    loopback_only_backend: LoopbackOnlyBackend,
) -> None:
    with pytest.raises(AddressNotAllowed):
        make_client().get(url)
    assert loopback_only_backend.attempts == []


def test_refuses_host_name_that_resolves_to_loopback(
    make_client: Callable[..., httpx.Client],
    loopback_server: LoopbackServer,
    loopback_only_backend: LoopbackOnlyBackend,
) -> None:
    client = make_client(resolver=fake_resolver({"erp.example": ["127.0.0.1"]}))

    with pytest.raises(AddressNotAllowed, match="erp.example resolves to 127.0.0.1"):
        client.get(f"http://erp.example:{loopback_server.port}/")
    assert loopback_only_backend.attempts == []
    assert loopback_server.requests == []


def test_refuses_localhost_through_the_system_resolver(
    make_client: Callable[..., httpx.Client], loopback_server: LoopbackServer
) -> None:
    with pytest.raises(AddressNotAllowed) as caught:
        make_client().get(f"http://localhost:{loopback_server.port}/")
    assert caught.value.reason == "loopback"
    assert loopback_server.requests == []


def test_refuses_a_host_when_any_of_its_addresses_is_refused(
    make_client: Callable[..., httpx.Client], loopback_only_backend: LoopbackOnlyBackend
) -> None:
    client = make_client(resolver=fake_resolver({"erp.example": ["93.184.215.14", "10.0.0.1"]}))

    with pytest.raises(AddressNotAllowed):
        client.get("http://erp.example/")
    assert loopback_only_backend.attempts == []


def test_resolves_once_and_connects_to_the_checked_address(
    make_client: Callable[..., httpx.Client],
    loopback_server: LoopbackServer,
    loopback_only_backend: LoopbackOnlyBackend,
) -> None:
    loopback_server.route("/health", respond(200, "ok"))
    calls: list[str] = []
    client = make_client(
        policy=GuardPolicy(allowed_hosts={"erp.example"}),
        resolver=fake_resolver({"erp.example": ["127.0.0.1"]}, calls),
    )

    client.get(f"http://erp.example:{loopback_server.port}/health")
    client.get(f"http://erp.example:{loopback_server.port}/health")

    assert calls == ["erp.example"]  # one connection, one lookup
    assert loopback_only_backend.attempts == ["127.0.0.1"]  # the address, not the name
    assert loopback_server.requests[0].headers["host"] == f"erp.example:{loopback_server.port}"


def test_unresolvable_name_is_a_connect_error_not_a_refusal(
    make_client: Callable[..., httpx.Client],
) -> None:
    def unknown(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(httpx.ConnectError, match="Name or service not known") as caught:
        make_client(resolver=unknown).get("http://nowhere.example/")
    assert not isinstance(caught.value, AddressNotAllowed)


def test_allowed_hosts_entry_lets_listed_host_through(
    make_client: Callable[..., httpx.Client], loopback_server: LoopbackServer
) -> None:
    loopback_server.route("/health", respond(200, "ok"))
    client = make_client(
        policy=GuardPolicy(allowed_hosts={"erp.example"}),
        resolver=fake_resolver({"erp.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]}),
    )

    assert client.get(f"http://erp.example:{loopback_server.port}/health").text == "ok"
    with pytest.raises(AddressNotAllowed):
        client.get(f"http://other.example:{loopback_server.port}/health")


def test_allowed_hosts_entry_for_an_address_lets_it_through(
    make_client: Callable[..., httpx.Client], loopback_server: LoopbackServer
) -> None:
    loopback_server.route("/health", respond(200, "ok"))
    client = make_client(policy=GuardPolicy(allowed_hosts={"127.0.0.1"}))

    assert client.get(f"{loopback_server.url}/health").text == "ok"


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/file", "file:///etc/passwd"])
def test_refuses_other_schemes(
    url: str,
    make_client: Callable[..., httpx.Client],
    loopback_only_backend: LoopbackOnlyBackend,
) -> None:
    with pytest.raises(SchemeNotAllowed):
        make_client(policy=PRIVATE_OK).get(url)
    assert loopback_only_backend.attempts == []


def test_refusal_message_holds_no_secret(make_client: Callable[..., httpx.Client]) -> None:
    client = make_client(headers={"Authorization": "Bearer s3cret-token"})

    with pytest.raises(AddressNotAllowed) as caught:
        client.get("http://user:pa55word@10.0.0.1/?token=qu3ry-secret")
    for secret in ("s3cret", "pa55word", "qu3ry"):
        assert secret not in str(caught.value)


def test_ignores_proxy_settings_from_the_environment(
    make_client: Callable[..., httpx.Client],
    loopback_server: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.1:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.0.0.1:3128")
    loopback_server.route("/health", respond(200, "ok"))

    assert make_client(policy=PRIVATE_OK).get(f"{loopback_server.url}/health").text == "ok"


def test_refuses_options_that_would_bypass_the_guard() -> None:
    with pytest.raises(TypeError, match="transport"):
        guarded_client(timeout=1.0, transport=httpx.MockTransport(lambda r: httpx.Response(200)))


def test_client_factory_builds_guarded_clients(
    loopback_only_backend: LoopbackOnlyBackend,
) -> None:
    factory = client_factory(GuardPolicy(), inner_backend=loopback_only_backend)

    with factory(timeout=2.0, verify=True) as client, pytest.raises(AddressNotAllowed):
        client.get("http://10.0.0.1/")


# --- redirects --------------------------------------------------------------------------------


def test_refuses_redirect_to_loopback(
    make_client: Callable[..., httpx.Client], loopback_server: LoopbackServer
) -> None:
    loopback_server.route("/start", redirect(f"{loopback_server.url}/target"))
    loopback_server.route("/target", respond(200, "reached"))
    client = make_client(
        policy=GuardPolicy(allowed_hosts={"erp.example"}),
        resolver=fake_resolver({"erp.example": ["127.0.0.1"]}),
    )

    with pytest.raises(AddressNotAllowed):
        client.get(f"http://erp.example:{loopback_server.port}/start")
    assert loopback_server.paths() == ["/start"]


def test_follows_redirect_to_an_allowed_address(
    make_client: Callable[..., httpx.Client], loopback_server: LoopbackServer
) -> None:
    loopback_server.route("/start", redirect("/target"))
    loopback_server.route("/target", respond(200, "reached"))

    response = make_client(policy=PRIVATE_OK).get(f"{loopback_server.url}/start")

    assert response.text == "reached"
    assert [r.status_code for r in response.history] == [302]


def test_refuses_redirect_to_another_scheme(
    make_client: Callable[..., httpx.Client], loopback_server: LoopbackServer
) -> None:
    loopback_server.route("/start", redirect("ftp://127.0.0.1/file"))

    with pytest.raises(httpx.UnsupportedProtocol):
        make_client(policy=PRIVATE_OK).get(f"{loopback_server.url}/start")


def test_stops_after_too_many_redirects(
    make_client: Callable[..., httpx.Client], loopback_server: LoopbackServer
) -> None:
    loopback_server.route("/loop", redirect("/loop"))

    with pytest.raises(httpx.TooManyRedirects):
        make_client(policy=PRIVATE_OK).get(f"{loopback_server.url}/loop")
    assert len(loopback_server.requests) == PRIVATE_OK.max_redirects + 1


def test_redirect_to_another_host_leaves_credentials_behind(
    make_client: Callable[..., httpx.Client], loopback_server: LoopbackServer
) -> None:
    port = loopback_server.port
    loopback_server.route("/start", redirect(f"http://other.example:{port}/target"))
    loopback_server.route("/target", respond(200, "reached"))
    client = make_client(
        policy=PRIVATE_OK,
        resolver=fake_resolver({"erp.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]}),
        headers={"Authorization": "Bearer s3cret", "X-Api-Key": "k3y", "Accept": "text/plain"},
    )

    client.get(f"http://erp.example:{port}/start")

    start, target = loopback_server.requests
    assert start.headers["x-api-key"] == "k3y"
    assert "authorization" not in target.headers
    assert "x-api-key" not in target.headers
    assert target.headers["accept"] == "text/plain"


def test_redirect_within_the_origin_keeps_credentials(
    make_client: Callable[..., httpx.Client], loopback_server: LoopbackServer
) -> None:
    loopback_server.route("/start", redirect("/target"))
    loopback_server.route("/target", respond(200, "reached"))
    client = make_client(policy=PRIVATE_OK, headers={"X-Api-Key": "k3y"})

    client.get(f"{loopback_server.url}/start")

    assert loopback_server.requests[1].headers["x-api-key"] == "k3y"


# --- time limits -----------------------------------------------------------------------------


def test_server_that_never_answers_times_out_within_the_limit(
    make_client: Callable[..., httpx.Client], silent_server: str
) -> None:
    client = make_client(policy=PRIVATE_OK, timeout=0.5)

    started = time.monotonic()
    with pytest.raises(httpx.TimeoutException):
        client.get(f"{silent_server}/health")
    assert time.monotonic() - started < 0.5 + MARGIN


def test_total_limit_stops_a_slow_drip(
    make_client: Callable[..., httpx.Client], loopback_server: LoopbackServer
) -> None:
    def drip(request: Any) -> None:
        request.send_response(200)
        request.send_header("Content-Length", "1000")
        request.end_headers()
        for _ in range(1000):
            request.wfile.write(b"x")
            request.wfile.flush()
            time.sleep(0.02)  # well within any read timeout, forever in total

    loopback_server.route("/slow", drip)
    client = make_client(policy=GuardPolicy(allow_private=True, read_timeout=5.0), timeout=0.5)

    started = time.monotonic()
    with pytest.raises(TotalTimeout):
        client.get(f"{loopback_server.url}/slow")
    assert time.monotonic() - started < 0.5 + MARGIN


def test_a_hanging_name_lookup_is_bounded_by_the_connect_limit(
    make_client: Callable[..., httpx.Client],
) -> None:
    release = threading.Event()

    def hang(host: str, port: int) -> list[str]:
        release.wait(5)
        return ["127.0.0.1"]

    client = make_client(policy=PRIVATE_OK, resolver=hang, timeout=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(httpx.TimeoutException):
            client.get("http://erp.example/")
        assert time.monotonic() - started < 0.3 + MARGIN
    finally:
        release.set()


# --- body cap ----------------------------------------------------------------------------------


def test_body_of_exactly_the_cap_is_accepted(
    make_client: Callable[..., httpx.Client], loopback_server: LoopbackServer
) -> None:
    loopback_server.route("/big", respond(200, b"x" * MAX_BODY))

    assert len(make_client(policy=PRIVATE_OK).get(f"{loopback_server.url}/big").content) == (
        1024 * 1024
    )


def test_refuses_a_body_over_one_mebibyte(
    make_client: Callable[..., httpx.Client], loopback_server: LoopbackServer
) -> None:
    loopback_server.route("/big", respond(200, b"x" * (MAX_BODY + 1)))

    with pytest.raises(ResponseTooLarge):
        make_client(policy=PRIVATE_OK).get(f"{loopback_server.url}/big")


def test_refuses_an_oversized_body_without_content_length(
    make_client: Callable[..., httpx.Client], loopback_server: LoopbackServer
) -> None:
    def endless(request: Any) -> None:
        request.send_response(200)
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        chunk = b"x" * 65536
        for _ in range(40):  # 2.5 MiB, more than the cap
            request.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        request.wfile.write(b"0\r\n\r\n")

    loopback_server.route("/big", endless)
    client = make_client(policy=PRIVATE_OK)

    with pytest.raises(ResponseTooLarge), client.stream("GET", f"{loopback_server.url}/big") as r:
        for _ in r.iter_bytes():
            pass


def test_refuses_a_compressed_body_that_inflates_past_the_cap(
    make_client: Callable[..., httpx.Client], loopback_server: LoopbackServer
) -> None:
    bomb = gzip.compress(b"\0" * (20 * MAX_BODY))  # about 20 KiB on the wire
    loopback_server.route("/bomb", respond(200, bomb, {"Content-Encoding": "gzip"}))

    with pytest.raises(ResponseTooLarge):
        make_client(policy=PRIVATE_OK).get(f"{loopback_server.url}/bomb")


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress)],
)
def test_decodes_compressed_bodies_under_the_cap(
    encoding: str,
    compress: Callable[[bytes], bytes],
    make_client: Callable[..., httpx.Client],
    loopback_server: LoopbackServer,
) -> None:
    body = b'{"status": "ok"}' * 100
    loopback_server.route("/z", respond(200, compress(body), {"Content-Encoding": encoding}))

    assert make_client(policy=PRIVATE_OK).get(f"{loopback_server.url}/z").content == body


# --- TLS ---------------------------------------------------------------------------------------


def test_verifies_tls_certificates_by_default(
    make_client: Callable[..., httpx.Client], loopback_tls_server: LoopbackServer
) -> None:
    loopback_tls_server.route("/health", respond(200, "ok"))

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        make_client(policy=PRIVATE_OK).get(f"{loopback_tls_server.url}/health")
    assert loopback_tls_server.requests == []


def test_verify_false_accepts_an_untrusted_certificate(
    make_client: Callable[..., httpx.Client], loopback_tls_server: LoopbackServer
) -> None:
    loopback_tls_server.route("/health", respond(200, "ok"))

    client = make_client(policy=PRIVATE_OK, verify=False)

    assert client.get(f"{loopback_tls_server.url}/health").text == "ok"


def test_tls_checks_the_host_name_while_connecting_to_the_checked_address(
    make_client: Callable[..., httpx.Client],
    loopback_tls_server: LoopbackServer,
    loopback_only_backend: LoopbackOnlyBackend,
    self_signed_certificate: Any,
) -> None:
    loopback_tls_server.route("/health", respond(200, "ok"))
    client = make_client(
        policy=GuardPolicy(allowed_hosts={"localhost"}),
        verify=self_signed_certificate.client_ssl_context(),
        resolver=fake_resolver({"localhost": ["127.0.0.1"]}),
    )

    assert client.get(f"https://localhost:{loopback_tls_server.port}/health").text == "ok"
    assert loopback_only_backend.attempts == ["127.0.0.1"]
    assert loopback_tls_server.sni_names == ["localhost"]

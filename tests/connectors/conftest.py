"""Network fixtures for connector tests that must never leave the machine.

- ``loopback_server``: a real HTTP/1.1 server on 127.0.0.1 with per-path handlers.
- ``loopback_tls_server``: the same over TLS, with a self-signed certificate for
  ``localhost`` and 127.0.0.1 (``.client_ssl_context()`` trusts it).
- ``silent_server``: a port on 127.0.0.1 that accepts connections and never answers.
- ``loopback_only_backend``: an httpcore network backend that connects only to loopback IP
  literals and fails the test for anything else; hand it to the guarded client as
  ``inner_backend``.
- ``loopback_only_network``: patches ``socket`` so that connecting to, or resolving, anything
  but loopback fails the test. Use it (``pytest.mark.usefixtures``) in every test that could
  reach for the network if the code under test were broken.
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import pytest

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


def respond(
    status: int = 200,
    body: bytes | str | dict[str, Any] | list[Any] = b"",
    headers: dict[str, str] | None = None,
) -> Handler:
    """A handler that sends one complete response; a dict or list body is sent as JSON."""
    if isinstance(body, dict | list):
        payload = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
    else:
        payload = body.encode() if isinstance(body, str) else body

    def handle(request: http.server.BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(payload)

    return handle


def redirect(location: str, status: int = 302) -> Handler:
    """A handler that redirects to ``location``."""
    return respond(status, headers={"Location": location})


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1; add handlers with ``route(path, handler)``.

    Unrouted paths answer 404. ``requests`` lists what arrived (header names lower-cased).
    """

    host: str = "127.0.0.1"
    port: int = 0
    scheme: str = "http"
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    sni_names: list[str | None] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]


def _handler_class(server: LoopbackServer) -> type[http.server.BaseHTTPRequestHandler]:
    class RequestHandler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            server.requests.append(
                RecordedRequest(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}
                )
            )
            handler = server.routes.get(self.path.split("?", 1)[0], respond(404, b"not found"))
            try:
                handler(self)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                self.close_connection = True

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _dispatch

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return RequestHandler


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    ssl_context: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        # The handshake runs in the request's thread, so a failing client cannot stall the
        # accept loop. Wrapping detaches ``request``: the TLS socket must be closed here.
        try:
            tls_socket = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with tls_socket:
            super().finish_request(tls_socket, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-response is not a test failure


@pytest.fixture
def _serve() -> Iterator[Callable[[ssl.SSLContext | None], LoopbackServer]]:
    started: list[_Server] = []

    def start(ssl_context: ssl.SSLContext | None) -> LoopbackServer:
        state = LoopbackServer(scheme="https" if ssl_context else "http")
        httpd = _Server(("127.0.0.1", 0), _handler_class(state))
        httpd.ssl_context = ssl_context
        state.port = httpd.server_address[1]
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}).start()
        started.append(httpd)
        return state

    yield start
    for httpd in started:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def loopback_server(_serve: Callable[[ssl.SSLContext | None], LoopbackServer]) -> LoopbackServer:
    """A real HTTP server on 127.0.0.1 (see :class:`LoopbackServer`)."""
    return _serve(None)


@dataclass(frozen=True)
class SelfSignedCertificate:
    cert_file: Path
    key_file: Path

    def client_ssl_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.cert_file))


@pytest.fixture(scope="session")
def self_signed_certificate(tmp_path_factory: pytest.TempPathFactory) -> SelfSignedCertificate:
    """A certificate for ``localhost`` and 127.0.0.1, made with ``cryptography``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return SelfSignedCertificate(cert_file, key_file)


@pytest.fixture
def loopback_tls_server(
    _serve: Callable[[ssl.SSLContext | None], LoopbackServer],
    self_signed_certificate: SelfSignedCertificate,
) -> LoopbackServer:
    """An HTTPS :class:`LoopbackServer`; ``sni_names`` records the SNI each client sent."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(self_signed_certificate.cert_file, self_signed_certificate.key_file)
    server = _serve(context)

    def record_sni(_socket: Any, server_name: str | None, _context: Any) -> None:
        server.sni_names.append(server_name)

    context.sni_callback = record_sni
    return server


@pytest.fixture
def silent_server() -> Iterator[str]:
    """The URL of a port on 127.0.0.1 that completes TCP handshakes and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # the kernel accepts into the backlog; nobody ever reads
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def _is_loopback_literal(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class LoopbackOnlyBackend(httpcore.NetworkBackend):
    """Connects to loopback IP literals through a real backend; fails the test otherwise.

    ``pytest.fail`` raises a ``BaseException``, so no ``except Exception`` in the code under
    test can swallow the failure. ``attempts`` lists every host asked for, allowed or not.
    """

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._real = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        self.attempts.append(host)
        if not _is_loopback_literal(host):
            pytest.fail(f"the guarded client tried to connect to {host!r}, not a loopback IP")
        return self._real.connect_tcp(host, port, timeout, local_address, socket_options)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        pytest.fail(f"the guarded client tried to open the Unix socket {path!r}")

    def sleep(self, seconds: float) -> None:
        self._real.sleep(seconds)


@pytest.fixture
def loopback_only_backend() -> LoopbackOnlyBackend:
    """A :class:`LoopbackOnlyBackend` to pass as the guarded client's ``inner_backend``."""
    return LoopbackOnlyBackend()


@pytest.fixture
def loopback_only_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``socket`` refuse (by failing the test) any connection or lookup off this machine.

    Connecting is allowed to loopback IP literals and Unix sockets; resolving to IP literals,
    numeric forms ``inet_aton`` accepts (``127.1``), and ``localhost``, which never send a
    packet.
    """
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address: Any) -> None:
        if isinstance(address, str | bytes):
            return  # a Unix socket path
        if not _is_loopback_literal(str(address[0])):
            pytest.fail(f"a test tried to connect to {address[0]!r}, off this machine")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name.lower() != "localhost":
            try:
                ipaddress.ip_address(name.split("%", 1)[0])
            except ValueError:
                try:
                    socket.inet_aton(name)
                except OSError:
                    pytest.fail(f"a test tried to resolve {name!r}, which could use DNS")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

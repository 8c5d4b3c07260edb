"""The guarded httpx client for every outgoing call (PRODUCT.md section 6).

What the guard enforces, and where:

- **Schemes**: only ``http`` and ``https`` (:class:`GuardedTransport`, before anything else).
- **Addresses**: the host is resolved once per connection, every address it resolves to is
  checked against :class:`GuardPolicy`, and the TCP connection is made to that checked
  address, never to the name again, so DNS rebinding cannot swap it (:class:`GuardedBackend`,
  an httpcore network backend). TLS still verifies the certificate against the host *name*
  (SNI and hostname check), because httpcore starts TLS on our stream with the URL's host.
- **Redirects**: followed (at most ``GuardPolicy.max_redirects``), and each hop opens its
  connections through the same backend, so every target is checked again. A hop to another
  origin keeps only a few harmless headers: credentials never follow a redirect elsewhere.
- **Time limits**: connect and read/write limits per operation, and a total limit for the
  whole call (redirects and body included) that clamps every blocking step, DNS included.
- **Body cap**: ``GuardPolicy.max_body`` (1 MiB) on the decoded body; a declared
  ``Content-Length`` above it is refused before reading, and gzip/deflate are inflated here
  with a bounded output, so a small compressed body cannot expand past the cap.
- **TLS** verification is on unless the caller passes ``verify=False``; environment proxies,
  ``.netrc`` and ``SSL_CERT_*`` are ignored (``trust_env=False``).

Exception messages name the host, address and limits only; never a header, a URL with its
user info, or a body. This module must not import Django (``connectors`` stands alone).
"""

from __future__ import annotations

import contextvars
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpcore
import httpx

from connectors.base import HttpClientFactory

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Iterable[str | IPAddress]]
"""Resolves ``(host, port)`` to addresses; the default is :func:`system_resolver`."""

ALLOWED_SCHEMES = frozenset({"http", "https"})
MAX_BODY = 1024 * 1024


# --- exceptions ------------------------------------------------------------------------------


class AddressNotAllowed(httpx.ConnectError):
    """The host resolves to an address the policy refuses (loopback, private, ...).

    ``host``, ``address`` and ``reason`` (e.g. ``"loopback"``) say which and why; the message
    never contains anything from the request but the host name.
    """

    def __init__(
        self,
        message: str,
        *,
        host: str = "",
        address: str = "",
        reason: str = "",
        request: httpx.Request | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.host = host
        self.address = address
        self.reason = reason


class SchemeNotAllowed(AddressNotAllowed, httpx.UnsupportedProtocol):
    """The URL's scheme is not http or https (``ftp://``, ``file://``, ...)."""


class ResponseTooLarge(httpx.TransportError):
    """The response body is larger than the cap."""


class TotalTimeout(httpx.TimeoutException):
    """The whole exchange took longer than the total time limit."""


# --- the address rules (pure) ----------------------------------------------------------------


def _networks(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


# Order matters: the first matching block names the reason.
_IPV4_RULES: tuple[tuple[str, tuple[IPNetwork, ...]], ...] = (
    ("unspecified", _networks("0.0.0.0/8")),
    ("loopback", _networks("127.0.0.0/8")),
    ("private", _networks("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")),
    ("link-local", _networks("169.254.0.0/16")),
    ("shared", _networks("100.64.0.0/10")),
    ("multicast", _networks("224.0.0.0/4")),
    (
        "reserved",
        _networks(
            "192.0.0.0/24",  # IETF protocol assignments
            "192.0.2.0/24",  # documentation
            "198.51.100.0/24",  # documentation
            "203.0.113.0/24",  # documentation
            "198.18.0.0/15",  # benchmarking
            "192.88.99.0/24",  # 6to4 relay anycast
            "240.0.0.0/4",  # future use and the broadcast address
        ),
    ),
)
_IPV6_RULES: tuple[tuple[str, tuple[IPNetwork, ...]], ...] = (
    ("unspecified", _networks("::/128")),
    ("loopback", _networks("::1/128")),
    ("link-local", _networks("fe80::/10")),
    ("private", _networks("fc00::/7", "fec0::/10", "64:ff9b:1::/48")),
    ("multicast", _networks("ff00::/8")),
    (
        "reserved",
        _networks(
            "::/8",  # IPv4-compatible and other special addresses
            "100::/64",  # discard-only
            "2001::/23",  # IETF protocol assignments, Teredo included
            "2001:db8::/32",  # documentation
            "3fff::/20",  # documentation
        ),
    ),
)
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def address_refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` is refused by default, or ``None`` for a public address.

    Reasons: ``"unspecified"``, ``"loopback"``, ``"private"``, ``"link-local"``, ``"shared"``
    (100.64/10), ``"multicast"``, ``"reserved"``. IPv6 addresses that carry an IPv4 address
    (IPv4-mapped, NAT64, 6to4) are judged by that IPv4 address too; IPv6 outside global
    unicast (2000::/3) is reserved. A pure function: no lookup, no I/O.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = address_refusal(embedded)
            if reason or ip.ipv4_mapped is not None or ip in _NAT64:
                return reason
        rules = _IPV6_RULES
    else:
        rules = _IPV4_RULES
    for reason, networks in rules:
        if any(ip in network for network in networks):
            return reason
    if isinstance(ip, ipaddress.IPv6Address) and ip not in _GLOBAL_UNICAST_V6:
        return "reserved"
    return None


def _normalise_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _plain(ip: IPAddress) -> IPAddress:
    """``ip`` without an IPv6 zone, and an IPv4-mapped IPv6 address as IPv4."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.scope_id:
            return ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    return ip


@dataclass(frozen=True)
class GuardPolicy:
    """What the guarded client may reach, and its limits.

    ``allow_private`` (``ERP_ALLOW_PRIVATE_NETWORKS``) lifts every address refusal.
    ``allowed_hosts`` (``ERP_ALLOWED_HOSTS``) lists exceptions: a host name (any address it
    resolves to is accepted), ``.example.com`` (that domain and its subdomains), or an IP
    address or network in CIDR form (matched against the resolved address). Entries are
    case-insensitive. The timeouts are upper bounds in seconds: a client's own ``timeout`` is
    its total limit and also caps these.
    """

    allow_private: bool = False
    allowed_hosts: Collection[str] = frozenset()
    max_body: int = MAX_BODY
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_redirects: int = 5
    _names: frozenset[str] = field(init=False, repr=False, compare=False)
    _suffixes: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        entries = frozenset(
            _normalise_host(entry) for entry in self.allowed_hosts if _normalise_host(entry)
        )
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            try:
                networks.append(_plain_network(ipaddress.ip_network(entry, strict=False)))
            except ValueError:
                names.add(entry)
        object.__setattr__(self, "allowed_hosts", entries)
        object.__setattr__(self, "_names", frozenset(n for n in names if not n.startswith(".")))
        object.__setattr__(self, "_suffixes", tuple(n for n in names if n.startswith(".")))
        object.__setattr__(self, "_networks", tuple(networks))

    def host_listed(self, host: str) -> bool:
        """True when ``host`` (a name) is listed in ``allowed_hosts`` by name or domain."""
        name = _normalise_host(host)
        return name in self._names or any(
            name == suffix[1:] or name.endswith(suffix) for suffix in self._suffixes
        )

    def refusal(self, host: str, ip: IPAddress) -> str | None:
        """Why connecting to ``ip`` for ``host`` is refused under this policy, or ``None``."""
        if self.allow_private or self.host_listed(host):
            return None
        plain = _plain(ip)
        if any(plain.version == net.version and plain in net for net in self._networks):
            return None
        return address_refusal(ip)


def _plain_network(network: IPNetwork) -> IPNetwork:
    """An IPv4-mapped IPv6 network (``::ffff:10.0.0.0/104``) as the IPv4 network it maps."""
    if isinstance(network, ipaddress.IPv6Network):
        mapped = network.network_address.ipv4_mapped
        if mapped is not None and network.prefixlen >= 96:
            return ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}")
    return network


def check_address(host: str, ip: IPAddress, policy: GuardPolicy) -> None:
    """Raise :class:`AddressNotAllowed` unless ``policy`` lets ``host`` connect to ``ip``."""
    reason = policy.refusal(host, ip)
    if reason is not None:
        name = _normalise_host(host)
        what = f"{ip} is" if name == str(ip) else f"{name} resolves to {ip},"
        raise AddressNotAllowed(
            f"{what} a {reason} address; outgoing connections to it are not allowed"
            " (see ERP_ALLOW_PRIVATE_NETWORKS and ERP_ALLOWED_HOSTS)",
            host=name,
            address=str(ip),
            reason=reason,
        )


def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (``getaddrinfo``), TCP addresses in its order."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


# --- the total time limit --------------------------------------------------------------------


@dataclass(frozen=True)
class _Deadline:
    at: float
    total: float

    def error(self) -> TotalTimeout:
        return TotalTimeout(f"no complete response within {self.total:g} seconds")


# Set around every blocking step of one call (connect, send, each body read) so the network
# layer, which knows nothing of requests, can clamp its timeouts to what is left.
_DEADLINE: contextvars.ContextVar[_Deadline | None] = contextvars.ContextVar(
    "guarded_http_deadline", default=None
)
_DEADLINE_EXTENSION = "erpsettings.deadline"


def _clamp(timeout: float | None) -> tuple[float | None, _Deadline | None]:
    """``timeout`` cut to the time left; the deadline is returned when it did the cutting."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout, None
    remaining = deadline.at - time.monotonic()
    if remaining <= 0:
        raise deadline.error()
    if timeout is None or remaining < timeout:
        return remaining, deadline
    return timeout, None


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read, write and TLS handshake obeys the total limit."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        timeout, deadline = _clamp(timeout)
        try:
            return self._inner.read(max_bytes, timeout)
        except httpcore.ReadTimeout as exc:
            if deadline is not None:
                raise deadline.error() from exc
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        timeout, deadline = _clamp(timeout)
        try:
            self._inner.write(buffer, timeout)
        except httpcore.WriteTimeout as exc:
            if deadline is not None:
                raise deadline.error() from exc
            raise

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout, deadline = _clamp(timeout)
        try:
            return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))
        except httpcore.ConnectTimeout as exc:
            if deadline is not None:
                raise deadline.error() from exc
            raise

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


# --- the network backend: resolve once, check, connect to the checked address ----------------


class GuardedBackend(httpcore.NetworkBackend):
    """An httpcore network backend that only opens TCP connections the policy allows.

    ``connect_tcp`` resolves the host once (``resolver``, bounded by the connect timeout),
    refuses the host if *any* of its addresses is refused, then asks ``inner`` (default
    ``httpcore.SyncBackend()``) to connect to the checked addresses, as IP literals, in order.
    Unix sockets are refused.
    """

    def __init__(
        self,
        policy: GuardPolicy,
        *,
        resolver: Resolver | None = None,
        inner: httpcore.NetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self._resolver = resolver or system_resolver
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        name = _normalise_host(host)
        addresses = self._addresses(name, port, timeout)
        for ip in addresses:
            check_address(name, ip, self.policy)
        error: Exception = httpcore.ConnectError(f"cannot reach {name}")
        for ip in addresses:
            attempt_timeout, deadline = _clamp(timeout)
            try:
                stream = self._inner.connect_tcp(
                    str(ip),
                    port,
                    timeout=attempt_timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectTimeout as exc:
                if deadline is not None:
                    raise deadline.error() from exc
                error = exc
            except httpcore.ConnectError as exc:
                error = exc
            else:
                return _DeadlineStream(stream)
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise AddressNotAllowed("Unix sockets are not allowed", reason="unix-socket")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)

    def _addresses(self, host: str, port: int, timeout: float | None) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        answers = self._resolve(host, port, timeout)
        addresses: list[IPAddress] = []
        for answer in answers:
            try:
                ip = ipaddress.ip_address(str(answer))
            except ValueError as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: bad address") from exc
            if ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}: no address")
        return addresses

    def _resolve(self, host: str, port: int, timeout: float | None) -> list[str | IPAddress]:
        """Run the resolver, giving up after the (clamped) connect timeout.

        ``getaddrinfo`` has no timeout of its own, so it runs in a daemon thread that is
        abandoned when the time is up.
        """
        timeout, deadline = _clamp(timeout)
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["answers"] = list(self._resolver(host, port))
            except Exception as exc:  # reported to the caller below
                outcome["error"] = exc

        worker = threading.Thread(target=run, name=f"resolve {host}", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            if deadline is not None:
                raise deadline.error()
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout:g} seconds")
        if "error" in outcome:
            error = outcome["error"]
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        answers: list[str | IPAddress] = outcome["answers"]
        return answers


# --- the transport: scheme, deadline, body cap -----------------------------------------------


class _Inflater:
    """gzip/deflate decoding whose output never exceeds what it is allowed to produce."""

    def __init__(self, encoding: str) -> None:
        self._deflate = encoding == "deflate"
        wbits = zlib.MAX_WBITS if self._deflate else zlib.MAX_WBITS | 16
        self._decompressor = zlib.decompressobj(wbits)
        self._first = True

    def decode(self, data: bytes, allowed: int) -> bytes:
        try:
            try:
                output = self._decompressor.decompress(data, allowed + 1)
            except zlib.error:
                if not (self._deflate and self._first):
                    raise
                # Some servers send raw deflate without the zlib wrapper.
                self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
                output = self._decompressor.decompress(data, allowed + 1)
        except zlib.error as exc:
            raise httpx.DecodingError(f"cannot decode the response body: {exc}") from exc
        self._first = False
        return output

    def flush(self) -> bytes:
        try:
            return self._decompressor.flush()
        except zlib.error as exc:
            raise httpx.DecodingError(f"cannot decode the response body: {exc}") from exc


class _GuardedBody(httpx.SyncByteStream):
    """The response body, read under the deadline and cut off past ``limit`` bytes."""

    def __init__(
        self,
        inner: httpx.SyncByteStream,
        *,
        limit: int,
        deadline: _Deadline | None,
        inflater: _Inflater | None,
    ) -> None:
        self._inner = inner
        self._limit = limit
        self._deadline = deadline
        self._inflater = inflater

    def _too_large(self) -> ResponseTooLarge:
        return ResponseTooLarge(f"the response body is larger than {self._limit} bytes")

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        received = produced = 0
        while True:
            token = _DEADLINE.set(self._deadline)
            try:
                raw = next(chunks, None)
            finally:
                _DEADLINE.reset(token)
            if raw is None:
                break
            received += len(raw)
            if received > self._limit:
                raise self._too_large()
            if self._inflater is None:
                chunk = raw
            else:
                chunk = self._inflater.decode(raw, self._limit - produced)
            produced += len(chunk)
            if produced > self._limit:
                raise self._too_large()
            if chunk:
                yield chunk
        if self._inflater is not None:
            tail = self._inflater.flush()
            if produced + len(tail) > self._limit:
                raise self._too_large()
            if tail:
                yield tail

    def close(self) -> None:
        self._inner.close()


@cache
def _default_ssl_context(verify: bool) -> ssl.SSLContext:
    # Loading the CA bundle costs milliseconds; one context per mode serves every client.
    return httpx.create_ssl_context(verify=verify, trust_env=False)


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport that enforces the scheme, address, time and size rules.

    Every request gets a deadline: the one :class:`GuardedClient` put in its extensions (so
    redirects share it), else ``total_timeout`` from now.
    """

    def __init__(
        self,
        *,
        policy: GuardPolicy,
        verify: bool | ssl.SSLContext = True,
        total_timeout: float | None = None,
        resolver: Resolver | None = None,
        inner_backend: httpcore.NetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self.total_timeout = total_timeout
        ssl_context = verify if isinstance(verify, ssl.SSLContext) else _default_ssl_context(verify)
        self.backend = GuardedBackend(policy, resolver=resolver, inner=inner_backend)
        self._http = httpx.HTTPTransport(verify=ssl_context, trust_env=False)
        # httpx has no public way to hand its transport a network backend: swap its pool for
        # one built the same way plus our backend. Every connection goes through the guard.
        self._http._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, network_backend=self.backend
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scheme = request.url.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise SchemeNotAllowed(
                f"the {scheme or 'missing'} scheme is not allowed; use http or https",
                host=request.url.host,
                reason="scheme",
            )
        deadline = request.extensions.get(_DEADLINE_EXTENSION)
        if deadline is None and self.total_timeout is not None:
            deadline = _Deadline(time.monotonic() + self.total_timeout, self.total_timeout)
        if deadline is not None and deadline.at <= time.monotonic():
            raise deadline.error()
        token = _DEADLINE.set(deadline)
        try:
            response = self._http.handle_request(request)
        finally:
            _DEADLINE.reset(token)
        try:
            return self._guard_body(request, response, deadline)
        except BaseException:
            response.close()
            raise

    def _guard_body(
        self, request: httpx.Request, response: httpx.Response, deadline: _Deadline | None
    ) -> httpx.Response:
        limit = self.policy.max_body
        declared = response.headers.get("Content-Length", "")
        if request.method != "HEAD" and declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(
                f"the response body ({int(declared)} bytes) is larger than {limit} bytes"
            )
        headers = response.headers
        encoding = headers.get("Content-Encoding", "").strip().lower()
        inflater = None
        if encoding in ("gzip", "x-gzip", "deflate"):
            inflater = _Inflater("deflate" if encoding == "deflate" else "gzip")
            headers = headers.copy()
            del headers["Content-Encoding"]
            headers.pop("Content-Length", None)
        elif encoding not in ("", "identity"):
            raise httpx.DecodingError(f"unsupported content encoding {encoding!r}")
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=headers,
            stream=_GuardedBody(response.stream, limit=limit, deadline=deadline, inflater=inflater),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._http.close()


# --- the client ------------------------------------------------------------------------------

# Headers that may follow a redirect to another origin; everything else (Authorization,
# API-key headers, cookies) stays behind.
_CROSS_ORIGIN_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "connection",
        "content-length",
        "content-type",
        "host",
        "transfer-encoding",
        "user-agent",
    }
)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


class GuardedClient(httpx.Client):
    """An ``httpx.Client`` whose calls share one total deadline across redirects.

    Build it with :func:`guarded_client`; it expects a :class:`GuardedTransport`.
    """

    def __init__(self, *, total_timeout: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.total_timeout = total_timeout

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        """Send like ``httpx.Client.send``, within ``total_timeout`` for the whole call."""
        deadline = _Deadline(time.monotonic() + self.total_timeout, self.total_timeout)
        request.extensions = {**request.extensions, _DEADLINE_EXTENSION: deadline}
        return super().send(request, **kwargs)

    def _redirect_headers(
        self, request: httpx.Request, url: httpx.URL, method: str
    ) -> httpx.Headers:
        # httpx drops only Authorization on a cross-origin redirect; connectors may carry
        # secrets in other headers, so keep just the harmless ones.
        headers = super()._redirect_headers(request, url, method)
        same_origin = _origin(url) == _origin(request.url)
        https_upgrade = (
            url.host == request.url.host
            and _origin(request.url) == ("http", url.host, 80)
            and _origin(url) == ("https", url.host, 443)
        )
        if not (same_origin or https_upgrade):
            for name in list(headers.keys()):
                if name.lower() not in _CROSS_ORIGIN_HEADERS:
                    del headers[name]
        return headers


_FORBIDDEN_CLIENT_OPTIONS = frozenset({"transport", "mounts", "proxy", "trust_env", "app"})


def guarded_client(
    *,
    timeout: float,
    verify: bool | ssl.SSLContext = True,
    policy: GuardPolicy | None = None,
    resolver: Resolver | None = None,
    inner_backend: httpcore.NetworkBackend | None = None,
    **kwargs: Any,
) -> GuardedClient:
    """An httpx client for outgoing calls that obeys ``policy`` (default: public hosts only).

    ``timeout`` is the total limit in seconds for each call (connect, redirects, body); the
    connect and read limits are ``policy``'s, cut to ``timeout``. Redirects are followed up to
    ``policy.max_redirects``, each target checked again. ``verify`` is on by default (an
    ``ssl.SSLContext`` may replace it). ``resolver`` and ``inner_backend`` exist for tests.
    Other keyword arguments go to ``httpx.Client`` (``headers``, ``auth``, ``base_url``, ...);
    ones that would bypass the guard (``transport``, ``mounts``, ``proxy``, ``trust_env``)
    raise ``TypeError``.
    """
    bypass = _FORBIDDEN_CLIENT_OPTIONS.intersection(kwargs)
    if bypass:
        raise TypeError(f"guarded_client() does not accept {', '.join(sorted(bypass))}")
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    policy = policy or GuardPolicy()
    headers = httpx.Headers({"Accept-Encoding": "gzip, deflate"})  # what we can inflate
    headers.update(kwargs.pop("headers", None) or {})
    kwargs.setdefault("follow_redirects", True)
    kwargs.setdefault("max_redirects", policy.max_redirects)
    transport = GuardedTransport(
        policy=policy,
        verify=verify,
        total_timeout=timeout,
        resolver=resolver,
        inner_backend=inner_backend,
    )
    limits = httpx.Timeout(
        min(policy.read_timeout, timeout), connect=min(policy.connect_timeout, timeout)
    )
    return GuardedClient(
        total_timeout=timeout,
        transport=transport,
        timeout=limits,
        trust_env=False,
        headers=headers,
        **kwargs,
    )


def client_factory(
    policy: GuardPolicy,
    *,
    resolver: Resolver | None = None,
    inner_backend: httpcore.NetworkBackend | None = None,
) -> HttpClientFactory:
    """An :class:`~connectors.base.HttpClientFactory` building guarded clients for ``policy``."""

    def build(*, timeout: float, verify: bool = True) -> httpx.Client:
        return guarded_client(
            timeout=timeout,
            verify=verify,
            policy=policy,
            resolver=resolver,
            inner_backend=inner_backend,
        )

    return build


__all__ = [
    "ALLOWED_SCHEMES",
    "MAX_BODY",
    "AddressNotAllowed",
    "GuardPolicy",
    "GuardedBackend",
    "GuardedClient",
    "GuardedTransport",
    "ResponseTooLarge",
    "SchemeNotAllowed",
    "TotalTimeout",
    "address_refusal",
    "check_address",
    "client_factory",
    "guarded_client",
    "system_resolver",
]

"""The base for connectors that talk HTTP (in the spirit of Airbyte's ``HttpStream``).

A connector on this base says what to call and how to word a failure; the base does the
rest: the client (always the injected, guarded factory), one classification of transport
failures (:func:`classify`), redaction of secrets from technical messages, the fallback to
the product register and (through :class:`~connectors.base.Connector`) the timing of tests.

    class MyConnector(HttpConnector[MyConfig]):
        key = "my_erp"; label = _("My ERP"); Config = MyConfig
        def server_url(self, config): return str(config.base_url)
        def check(self, config):
            with self.client(config) as client:
                response = self.request(client, config, "GET", self.url(config, "health"))
            ...

``failure_wording`` maps every :class:`Failure` to ``(message, error_code)``; the message
may use ``%(host)s``, ``%(url)s`` and ``%(seconds)s`` (use ``ngettext_lazy(..., "seconds")``
for a plural). The defaults speak of a *Base URL*; override the entries you word otherwise.
"""

from __future__ import annotations

import html
import json
import re
import socket
import ssl
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from django.utils.translation import gettext_lazy as _, ngettext_lazy
from pydantic import BaseModel, SecretStr

from connectors.base import Connector, ConnectorError, ProductRegister
from connectors.http import AddressNotAllowed, ResponseTooLarge, TotalTimeout
from connectors.support import display_host, exception_chain, redact

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

#: Statuses of a gateway that could not reach the server behind it: the ERP is unreachable.
GATEWAY_STATUSES = frozenset({502, 503, 504})

_DNS_MARKERS = (
    "Name or service not known",
    "nodename nor servname",
    "getaddrinfo failed",
    "Temporary failure in name resolution",
    "No address associated with hostname",
)


class Failure(StrEnum):
    """What went wrong in the transport, before any HTTP status."""

    ADDRESS_NOT_ALLOWED = "address_not_allowed"  # the guarded client refused the address
    RESPONSE_TOO_LARGE = "response_too_large"
    TIMEOUT = "timeout"  # connect/read/write/pool time limit
    TOTAL_TIMEOUT = "total_timeout"  # the guarded client's limit for the whole call
    TLS_CERTIFICATE = "tls_certificate"  # certificate verification failed
    TLS_HANDSHAKE = "tls_handshake"  # any other TLS failure
    HOST_NOT_FOUND = "host_not_found"  # DNS resolution failed
    CONNECTION_REFUSED = "connection_refused"
    UNREACHABLE = "unreachable"  # any other connect failure
    PROTOCOL_ERROR = "protocol_error"  # the peer did not speak valid HTTP
    CONNECTION_LOST = "connection_lost"  # read/write failure after connecting
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BAD_RESPONSE = "bad_response"  # undecodable body, invalid URL, ...

    @property
    def unreachable(self) -> bool:
        """The server did not answer at all, so a fallback may answer instead."""
        return self in _UNREACHABLE


_UNREACHABLE = frozenset(
    {
        Failure.TIMEOUT,
        Failure.TOTAL_TIMEOUT,
        Failure.HOST_NOT_FOUND,
        Failure.CONNECTION_REFUSED,
        Failure.UNREACHABLE,
        Failure.CONNECTION_LOST,
    }
)


def _caused_by(exc: BaseException, kind: type[BaseException], *markers: str) -> bool:
    return any(
        isinstance(cause, kind) or any(marker in str(cause) for marker in markers)
        for cause in exception_chain(exc)
    )


def classify(exc: httpx.HTTPError) -> Failure:
    """The :class:`Failure` an httpx exception stands for (subclasses before their bases)."""
    if isinstance(exc, AddressNotAllowed):
        return Failure.ADDRESS_NOT_ALLOWED
    if isinstance(exc, ResponseTooLarge):
        return Failure.RESPONSE_TOO_LARGE
    if isinstance(exc, TotalTimeout):
        return Failure.TOTAL_TIMEOUT
    if isinstance(exc, httpx.TimeoutException):
        return Failure.TIMEOUT
    if isinstance(exc, httpx.ConnectError):
        if _caused_by(exc, ssl.SSLCertVerificationError, "CERTIFICATE_VERIFY_FAILED"):
            return Failure.TLS_CERTIFICATE
        if _caused_by(exc, ssl.SSLError):
            return Failure.TLS_HANDSHAKE
        if _caused_by(exc, socket.gaierror, *_DNS_MARKERS):
            return Failure.HOST_NOT_FOUND
        if _caused_by(exc, ConnectionRefusedError, "Connection refused"):
            return Failure.CONNECTION_REFUSED
        return Failure.UNREACHABLE
    if isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        return Failure.PROTOCOL_ERROR
    if isinstance(exc, httpx.TransportError):
        return Failure.CONNECTION_LOST
    if isinstance(exc, httpx.TooManyRedirects):
        return Failure.TOO_MANY_REDIRECTS
    return Failure.BAD_RESPONSE


_TIMEOUT = ngettext_lazy(
    "No answer within %(seconds)s second from %(host)s. Check that the ERP server is "
    "running, or raise the timeout.",
    "No answer within %(seconds)s seconds from %(host)s. Check that the ERP server is "
    "running, or raise the timeout.",
    "seconds",
)

DEFAULT_FAILURE_WORDING: Mapping[Failure, tuple[StrOrPromise, str]] = {
    Failure.ADDRESS_NOT_ALLOWED: (
        _(
            "This address is not allowed: %(host)s is in a local or private network. Ask your "
            "system administrator to allow this host."
        ),
        "address_not_allowed",
    ),
    Failure.RESPONSE_TOO_LARGE: (
        _("Unexpected response: the answer of %(url)s is larger than allowed."),
        "response_too_large",
    ),
    Failure.TIMEOUT: (_TIMEOUT, "timeout"),
    Failure.TOTAL_TIMEOUT: (_TIMEOUT, "total_timeout"),
    Failure.TLS_CERTIFICATE: (
        _(
            "TLS certificate problem: the certificate of %(host)s could not be verified. "
            "Install a valid certificate on the ERP server, or switch off Verify TLS "
            "certificates for testing only."
        ),
        "tls_certificate",
    ),
    Failure.TLS_HANDSHAKE: (
        _(
            "TLS certificate problem: no secure connection could be set up with %(host)s. "
            "Check that the Base URL uses the right scheme (https or http) and port."
        ),
        "tls_handshake",
    ),
    Failure.HOST_NOT_FOUND: (
        _("Cannot reach %(host)s because its name cannot be resolved. Check the Base URL."),
        "host_not_found",
    ),
    Failure.CONNECTION_REFUSED: (
        _(
            "Cannot reach %(host)s because the connection was refused. Check the Base URL and "
            "that the ERP server is running."
        ),
        "connection_refused",
    ),
    Failure.UNREACHABLE: (
        _(
            "Cannot reach %(host)s because no connection could be made. Check the Base URL "
            "and the network."
        ),
        "unreachable",
    ),
    Failure.PROTOCOL_ERROR: (
        _("Unexpected response: %(host)s did not answer with valid HTTP."),
        "protocol_error",
    ),
    Failure.CONNECTION_LOST: (
        _("Cannot reach %(host)s because the connection was interrupted. Try again later."),
        "connection_lost",
    ),
    Failure.TOO_MANY_REDIRECTS: (
        _("Unexpected response: %(url)s redirects too many times."),
        "too_many_redirects",
    ),
    Failure.BAD_RESPONSE: (
        _("Unexpected response: %(url)s could not be read."),
        "protocol_error",
    ),
}


class HttpConnector[C: BaseModel](Connector[C]):
    """A connector that reaches its system over HTTP through the injected client factory.

    ``Config`` may have ``timeout`` (seconds), ``verify_tls`` and ``fallback_to_register``
    fields (see :mod:`connectors.support` and :mod:`connectors.rules`); the base reads them
    when present. Subclasses implement :meth:`server_url` and :meth:`check`.
    """

    user_agent: ClassVar[str] = "erpsettings-connector/1.0"
    #: The exception class of this connector's failures.
    Error: ClassVar[type[ConnectorError]] = ConnectorError
    failure_wording: ClassVar[Mapping[Failure, tuple[StrOrPromise, str]]] = DEFAULT_FAILURE_WORDING

    def server_url(self, config: C) -> str:
        """The configured address of the system (for messages and details)."""
        raise NotImplementedError

    def url(self, config: C, path: str) -> str:
        """``path`` under the server URL, keeping any path prefix it has."""
        return f"{self.server_url(config).rstrip('/')}/{path.lstrip('/')}"

    def timeout(self, config: C) -> int:
        return int(getattr(config, "timeout", 10))

    def secret_values(self, config: C) -> list[str]:
        """Every string that must never appear in a message (default: the secret fields)."""
        values = (getattr(config, name) for name in type(config).model_fields)
        return [v.get_secret_value() for v in values if isinstance(v, SecretStr)]

    def redact(self, config: C, text: str) -> str:
        return redact(text, self.secret_values(config))

    def client(self, config: C) -> httpx.Client:
        """A client from the injected (guarded) factory with the configured limits."""
        verify = bool(getattr(config, "verify_tls", True))
        return self.context.http(timeout=float(self.timeout(config)), verify=verify)

    def request(
        self, client: httpx.Client, config: C, method: str, url: str, **kwargs: Any
    ) -> httpx.Response:
        """Send one request; a transport failure raises ``Error`` worded by this connector."""
        kwargs["headers"] = {"User-Agent": self.user_agent, **(kwargs.get("headers") or {})}
        try:
            return client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise self.transport_error(exc, config, method, url) from None

    def transport_error(
        self, exc: httpx.HTTPError, config: C, method: str, url: str
    ) -> ConnectorError:
        failure = classify(exc)
        message, code = self.failure_wording[failure]
        params = {
            "host": display_host(self.server_url(config)),
            "url": url,
            "seconds": self.timeout(config),
        }
        return self.Error(
            str(message % params),
            code=code,
            technical=self.redact(config, f"{method} {url} -> {type(exc).__name__}: {exc}"),
            details={"url": url},
            unreachable=failure.unreachable,
        )

    def fallback(self, config: C, exc: ConnectorError) -> ProductRegister:
        """The product register to answer from, or ``exc`` raised when the rule does not
        apply (the system answered, the rule is off, or there is no register)."""
        register = self.context.register
        if exc.unreachable and getattr(config, "fallback_to_register", False) and register:
            return register
        raise exc


def body_text(response: httpx.Response, limit: int = 200) -> str:
    """A short, readable version of an error body: a JSON ``message`` (and ``description``),
    or the text of an HTML page, at most ``limit`` characters."""
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict) and data.get("message"):
        text = str(data["message"]).strip()
        if data.get("description"):
            text += f" {str(data['description']).strip()}"
        return text[:limit]
    raw = response.content[: 4 * limit].decode("utf-8", errors="replace")
    if "<" in raw:
        raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", raw)
        raw = re.sub(r"(?s)<[^>]*>", " ", raw)
    return " ".join(html.unescape(raw).split())[:limit]

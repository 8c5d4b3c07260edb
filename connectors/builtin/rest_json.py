"""The REST/JSON ERP connector (PRODUCT.md section 4.3).

Talks to any ERP that speaks a small HTTP contract, relative to the configured *Base URL*:

- ``GET /health`` -> ``{"status": "ok", "name": "...", "version": "..."}``
- ``GET /price-lists`` -> ``{"price_lists": [{"id", "name", "currency", "valid_from",
  "valid_to"}]}``
- ``GET /products?q=&price_list=&limit=`` -> ``{"products": [{"code", "name", "price",
  "currency", "vat", "unit"}]}``

Every call goes through the injected client factory (the guarded client in production).
Each failure becomes a :class:`RestJsonError` with a translated message for the user, an
English technical message without secrets, and a stable code from :class:`ErrorCode`.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import socket
import ssl
import time
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

import httpx
from django.utils.translation import gettext, gettext_lazy as _, ngettext
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from connectors.base import (
    Capability,
    Connector,
    ConnectorError,
    PriceList,
    Product,
    ProductRegister,
    TestResult,
    TestStatus,
)
from connectors.http import AddressNotAllowed, ResponseTooLarge, TotalTimeout
from connectors.rules import BusinessRulesConfig, apply_discount, round_price
from connectors.support import (
    check_plain_url,
    display_host,
    exception_chain as _causes,
    redact,
    timeout_field,
    verify_tls_field,
)

AuthenticationKind = Literal["none", "bearer", "basic"]

#: The most products one search asks for; a larger ``limit`` is refused.
MAX_SEARCH_LIMIT = 200
_BODY_SNIPPET = 200
_USER_AGENT = "erpsettings-rest-json/1.0"


class ErrorCode(StrEnum):
    """One stable code per cause of failure (the ``error_code`` of a test result)."""

    AUTHENTICATION_FAILED = "authentication_failed"  # HTTP 401
    ACCESS_DENIED = "access_denied"  # HTTP 403
    NOT_FOUND = "not_found"  # HTTP 404
    SERVER_ERROR = "server_error"  # HTTP 5xx
    UNEXPECTED_STATUS = "unexpected_status"  # any other 4xx
    UNEXPECTED_REDIRECT = "unexpected_redirect"  # 3xx that was not followed
    TOO_MANY_REDIRECTS = "too_many_redirects"  # the client gave up following redirects
    TIMEOUT = "timeout"  # connect/read/write/pool time limit
    TOTAL_TIMEOUT = "total_timeout"  # the guarded client's total time limit
    CONNECTION_REFUSED = "connection_refused"
    HOST_NOT_FOUND = "host_not_found"  # DNS resolution failed
    UNREACHABLE = "unreachable"  # any other connect failure
    CONNECTION_LOST = "connection_lost"  # read/write failure after connecting
    PROTOCOL_ERROR = "protocol_error"  # the peer did not speak valid HTTP
    TLS_CERTIFICATE = "tls_certificate"  # certificate verification failed
    TLS_HANDSHAKE = "tls_handshake"  # any other TLS failure
    INVALID_JSON = "invalid_json"
    INVALID_RESPONSE = "invalid_response"  # JSON, but not the contract's shape
    RESPONSE_TOO_LARGE = "response_too_large"
    ADDRESS_NOT_ALLOWED = "address_not_allowed"
    ERP_NOT_READY = "erp_not_ready"  # /health answered, but not with status "ok"
    INVALID_LIMIT = "invalid_limit"


class RestJsonError(ConnectorError):
    """A failure of the ERP call."""


# --------------------------------------------------------------------------- configuration


class RestJsonConfig(BusinessRulesConfig):
    """Configuration of a REST/JSON ERP connection; the rule fields come after these."""

    model_config = ConfigDict(hide_input_in_errors=True)

    base_url: AnyHttpUrl = Field(
        title=_("Base URL"),
        description=_(
            "Address of the ERP's REST/JSON interface, for example https://erp.example.com/api."
        ),
        json_schema_extra={"order": 10},
    )
    authentication: AuthenticationKind = Field(
        "none",
        title=_("Authentication"),
        description=_("How this connection identifies itself to the ERP."),
        json_schema_extra={
            "order": 20,
            "choice_labels": {
                "none": _("None"),
                "bearer": _("Bearer token"),
                "basic": _("Basic"),
            },
        },
    )
    api_token: SecretStr | None = Field(
        None,
        max_length=4096,
        validate_default=True,
        title=_("API token"),
        description=_('Sent as "Authorization: Bearer <token>"; needed for Bearer token.'),
        json_schema_extra={"order": 30},
    )
    username: str = Field(
        "",
        max_length=150,
        validate_default=True,
        title=_("Username"),
        description=_("User name for Basic authentication."),
        json_schema_extra={"order": 40},
    )
    password: SecretStr | None = Field(
        None,
        max_length=1024,
        validate_default=True,
        title=_("Password"),
        description=_("Password for Basic authentication."),
        json_schema_extra={"order": 50},
    )
    timeout: int = timeout_field(_("How long to wait for an answer from the ERP."))
    verify_tls: bool = verify_tls_field(
        _("Check the ERP server's certificate. Switch off only for testing.")
    )

    @field_validator("base_url")
    @classmethod
    def _plain_base_url(cls, value: AnyHttpUrl) -> AnyHttpUrl:
        return check_plain_url(
            value,
            credentials=gettext(
                "Put credentials in the authentication fields, not in the Base URL."
            ),
            query=gettext("The Base URL cannot contain a query or a fragment."),
        )

    @field_validator("api_token")
    @classmethod
    def _token_for_bearer(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        token = value.get_secret_value().strip() if value is not None else ""
        if token and not all(33 <= ord(char) <= 126 for char in token):
            raise PydanticCustomError(
                "token_characters",
                gettext("The API token contains characters that cannot be sent in an HTTP header."),
            )
        if info.data.get("authentication") == "bearer" and not token:
            raise PydanticCustomError(
                "token_required", gettext("Enter the API token for Bearer token authentication.")
            )
        return SecretStr(token) if token else None

    @field_validator("username")
    @classmethod
    def _username_for_basic(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        if ":" in value:
            raise PydanticCustomError(
                "username_colon",
                gettext("A username for Basic authentication cannot contain a colon."),
            )
        if info.data.get("authentication") == "basic" and not value:
            raise PydanticCustomError(
                "username_required", gettext("Enter the username for Basic authentication.")
            )
        return value

    @field_validator("password")
    @classmethod
    def _password_for_basic(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if info.data.get("authentication") == "basic" and (
            value is None or not value.get_secret_value()
        ):
            raise PydanticCustomError(
                "password_required", gettext("Enter the password for Basic authentication.")
            )
        return value

    def secret_values(self) -> list[str]:
        """Every string that must never appear in a message: the secrets and their encodings."""
        secrets = []
        if self.api_token is not None:
            secrets.append(self.api_token.get_secret_value())
        if self.password is not None and self.password.get_secret_value():
            password = self.password.get_secret_value()
            basic = f"{self.username}:{password}".encode()
            secrets += [password, base64.b64encode(basic).decode("ascii")]
        return [secret for secret in secrets if secret]


# --------------------------------------------------------------------------- response shapes

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
_Currency = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Health(_Strict):
    status: str
    name: str = ""
    version: str = ""


class _PriceListItem(_Strict):
    id: _Text
    name: _Text
    currency: _Currency
    valid_from: date | None = None
    valid_to: date | None = None


class _PriceListsResponse(_Strict):
    price_lists: list[_PriceListItem]


class _ProductItem(_Strict):
    code: _Text
    name: _Text
    price: Annotated[Decimal, Field(allow_inf_nan=False)]
    currency: _Currency
    vat: Annotated[Decimal, Field(allow_inf_nan=False, ge=0, le=100)] | None = None
    unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""


class _ProductsResponse(_Strict):
    products: list[_ProductItem]


_Shape = TypeVar("_Shape", bound=_Strict)


# --------------------------------------------------------------------------- the connector


class RestJsonConnector(Connector):
    """Price lists and product search from any ERP that speaks the REST/JSON contract."""

    key = "rest_json"
    label = _("REST/JSON ERP")
    vendor = "erpsettings"
    version = "1.0"
    description = _(
        "Any ERP that offers price lists and products over a simple REST/JSON interface."
    )
    Config = RestJsonConfig
    capabilities = frozenset(
        {Capability.PRICE_LISTS, Capability.PRODUCT_SEARCH, Capability.PRICE_CALCULATION}
    )
    sync_connection = "optional"

    # -- public contract

    def test_connection(self, config: BaseModel) -> TestResult:
        """Call ``/health`` then ``/price-lists``; ``ok`` with the count, ``ok_with_info``
        when there are none, ``error`` with a code from :class:`ErrorCode` otherwise."""
        cfg = _rest_config(config)
        started = time.monotonic()
        try:
            with self._client(cfg) as client:
                health = self._get(client, cfg, "health", _Health)
                if health.status.strip().lower() != "ok":
                    reported = _redact(health.status, cfg)[:50]
                    raise RestJsonError(
                        gettext('The ERP server is not ready: it reports the status "%(status)s".')
                        % {"status": reported},
                        code=ErrorCode.ERP_NOT_READY,
                        technical=f"GET {_url(cfg, 'health')} -> status {reported!r}",
                        details={"step": "health"},
                    )
                lists = self._get(client, cfg, "price-lists", _PriceListsResponse).price_lists
        except RestJsonError as exc:
            return TestResult(
                TestStatus.ERROR,
                exc.message,
                technical_message=exc.technical,
                error_code=exc.code,
                duration_ms=_elapsed_ms(started),
                details={"base_url": _display_base(cfg), **exc.details},
            )
        count = len(lists)
        details = {
            "base_url": _display_base(cfg),
            "price_list_count": count,
            "currencies": sorted({item.currency for item in lists}),
            "server_name": _redact(health.name, cfg)[:100],
            "server_version": _redact(health.version, cfg)[:50],
        }
        technical = _redact(
            f"GET {_url(cfg, 'health')} -> ok ({health.name} {health.version}); "
            f"GET {_url(cfg, 'price-lists')} -> {count} price lists",
            cfg,
        )
        if count == 0:
            return TestResult(
                TestStatus.OK_WITH_INFO,
                gettext(
                    "Connection OK: 0 price lists available. Quotes can use this connection "
                    "once the ERP has a price list."
                ),
                technical_message=technical,
                duration_ms=_elapsed_ms(started),
                details=details,
            )
        return TestResult(
            TestStatus.OK,
            ngettext(
                "Connection OK: %(count)s price list available",
                "Connection OK: %(count)s price lists available",
                count,
            )
            % {"count": count},
            technical_message=technical,
            duration_ms=_elapsed_ms(started),
            details=details,
        )

    def price_lists(self, config: BaseModel, *, currency: str | None = None) -> list[PriceList]:
        """The ERP's price lists, only those in ``currency`` when given.

        Raises :class:`RestJsonError`; when the ERP is unreachable and the fallback rule is on,
        answers from the product register instead.
        """
        cfg = _rest_config(config)
        try:
            with self._client(cfg) as client:
                items = self._get(client, cfg, "price-lists", _PriceListsResponse).price_lists
        except RestJsonError as exc:
            register = self._fallback_register(cfg, exc)
            return register.price_lists(currency=currency)
        wanted = currency.strip().upper() if currency else None
        return [
            PriceList(
                id=item.id,
                name=item.name,
                currency=item.currency,
                valid_from=item.valid_from.isoformat() if item.valid_from else None,
                valid_to=item.valid_to.isoformat() if item.valid_to else None,
            )
            for item in items
            if wanted is None or item.currency == wanted
        ]

    def search_products(
        self, config: BaseModel, *, q: str, price_list: str | None = None, limit: int = 20
    ) -> list[Product]:
        """Products whose code or name matches ``q`` (the ERP decides how), at most ``limit``,
        priced from ``price_list`` and rounded by the connection's rounding rule.

        Raises :class:`RestJsonError`; when the ERP is unreachable and the fallback rule is on,
        answers from the product register, each product with a ``notice`` saying so.
        """
        cfg = _rest_config(config)
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise RestJsonError(
                gettext("Ask for between 1 and %(maximum)s products.")
                % {"maximum": MAX_SEARCH_LIMIT},
                code=ErrorCode.INVALID_LIMIT,
                technical=f"limit {limit} outside 1..{MAX_SEARCH_LIMIT}",
            )
        params: dict[str, str | int] = {"q": q, "limit": limit}
        if price_list:
            params["price_list"] = price_list
        try:
            with self._client(cfg) as client:
                items = self._get(client, cfg, "products", _ProductsResponse, params).products
        except RestJsonError as exc:
            register = self._fallback_register(cfg, exc)
            notice = gettext("The ERP could not be reached; this comes from the product register.")
            return [
                dataclasses.replace(product, price=round_price(product.price, cfg), notice=notice)
                for product in register.search_products(q=q, price_list=price_list, limit=limit)
            ]
        return [
            Product(
                code=item.code,
                name=item.name,
                price=round_price(item.price, cfg),
                currency=item.currency,
                vat=item.vat,
                unit=item.unit,
            )
            for item in items[:limit]
        ]

    def quote_price(self, config: BaseModel, *, price: Decimal, discount: Decimal) -> Decimal:
        """The price after ``discount`` percent, rounded by the connection's rule.

        Raises ``ConnectorError`` (``discount_too_high``, ``discount_negative``) when the
        discount breaks the connection's maximum.
        """
        return apply_discount(Decimal(price), Decimal(discount), _rest_config(config))

    # -- the HTTP exchange

    def _client(self, cfg: RestJsonConfig) -> httpx.Client:
        return self.context.http(timeout=float(cfg.timeout), verify=cfg.verify_tls)

    def _fallback_register(self, cfg: RestJsonConfig, exc: RestJsonError) -> ProductRegister:
        """The register to answer from, or re-raise ``exc`` when the fallback does not apply."""
        if exc.unreachable and cfg.fallback_to_register and self.context.register is not None:
            return self.context.register
        raise exc

    def _get(
        self,
        client: httpx.Client,
        cfg: RestJsonConfig,
        path: str,
        shape: type[_Shape],
        params: dict[str, str | int] | None = None,
    ) -> _Shape:
        url = _url(cfg, path)
        headers = {"Accept": "application/json", "User-Agent": _USER_AGENT}
        auth: httpx.Auth | None = None
        if cfg.authentication == "bearer" and cfg.api_token is not None:
            headers["Authorization"] = f"Bearer {cfg.api_token.get_secret_value()}"
        elif cfg.authentication == "basic" and cfg.password is not None:
            auth = httpx.BasicAuth(cfg.username, cfg.password.get_secret_value())
        try:
            response = client.get(url, params=params, headers=headers, auth=auth)
        except httpx.HTTPError as exc:
            raise _transport_error(exc, cfg, url) from None
        _check_status(response, cfg, url)
        try:
            data = json.loads(response.content)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RestJsonError(
                gettext(
                    "Unexpected response: %(url)s did not answer with JSON. Check that the "
                    "Base URL points to the ERP's REST/JSON interface."
                )
                % {"url": url},
                code=ErrorCode.INVALID_JSON,
                technical=_redact(
                    f"GET {url} -> HTTP {response.status_code}, "
                    f"content-type {response.headers.get('content-type', '-')!r}: {exc}; "
                    f"body starts {_snippet(response, cfg)!r}",
                    cfg,
                ),
                details={"url": url, "http_status": response.status_code},
            ) from None
        try:
            return shape.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}"
                for error in exc.errors(include_input=False, include_url=False)[:5]
            )
            raise RestJsonError(
                gettext("Unexpected response: the answer of %(url)s is not in the expected format.")
                % {"url": url},
                code=ErrorCode.INVALID_RESPONSE,
                technical=_redact(f"GET {url} -> {exc.error_count()} problems: {problems}", cfg),
                details={"url": url, "http_status": response.status_code},
            ) from None


def _rest_config(config: BaseModel) -> RestJsonConfig:
    if isinstance(config, RestJsonConfig):
        return config
    raise TypeError(f"expected RestJsonConfig, got {type(config).__name__}")


def _url(cfg: RestJsonConfig, path: str) -> str:
    """``path`` under the Base URL, keeping any path prefix the Base URL has."""
    return f"{str(cfg.base_url).rstrip('/')}/{path}"


def _display_host(cfg: RestJsonConfig) -> str:
    return display_host(str(cfg.base_url))


def _display_base(cfg: RestJsonConfig) -> str:
    return str(cfg.base_url)


def _elapsed_ms(started: float) -> int:
    return max(1, int((time.monotonic() - started) * 1000))


def _snippet(response: httpx.Response, cfg: RestJsonConfig) -> str:
    """The start of the body, secrets redacted before cutting so no part of one survives."""
    return _redact(response.content.decode("utf-8", errors="replace"), cfg)[:_BODY_SNIPPET]


def _redact(text: str, cfg: RestJsonConfig) -> str:
    """``text`` with every secret of ``cfg`` (and its encodings) replaced by ``***``."""
    return redact(text, cfg.secret_values())


def _caused_by(exc: BaseException, kind: type[BaseException], *markers: str) -> bool:
    return any(
        isinstance(cause, kind) or any(marker in str(cause) for marker in markers)
        for cause in _causes(exc)
    )


def _check_status(response: httpx.Response, cfg: RestJsonConfig, url: str) -> None:
    """Raise the error that a non-2xx status stands for."""
    status = response.status_code
    if 200 <= status < 300:
        return
    technical = f"GET {url} -> HTTP {status}"
    if 300 <= status < 400:
        technical += f", Location {response.headers.get('location', '-')!r}"
    else:
        technical += f"; body starts {_snippet(response, cfg)!r}"
    technical = _redact(technical, cfg)
    details = {"url": url, "http_status": status}
    if status == 401:
        message = gettext(
            "Authentication failed: the ERP server did not accept the credentials (HTTP 401). "
            "Check the authentication settings."
        )
        code = ErrorCode.AUTHENTICATION_FAILED
    elif status == 403:
        message = gettext(
            "Authentication failed: the ERP server refused access (HTTP 403). Check that this "
            "account may read price lists and products."
        )
        code = ErrorCode.ACCESS_DENIED
    elif status == 404:
        message = gettext(
            "Not found: %(url)s does not exist on the ERP server. Check the Base URL."
        ) % {"url": url}
        code = ErrorCode.NOT_FOUND
    elif status >= 500:
        message = gettext(
            "The ERP server reported an error (HTTP %(status)s) at %(url)s. Try again later or "
            "contact the ERP administrator."
        ) % {"status": status, "url": url}
        # A gateway that cannot reach the ERP behind it means the ERP is unreachable.
        raise RestJsonError(
            message,
            code=ErrorCode.SERVER_ERROR,
            technical=technical,
            details=details,
            unreachable=status in (502, 503, 504),
        )
    elif 300 <= status < 400:
        message = gettext(
            "Unexpected response: %(url)s redirects elsewhere (HTTP %(status)s). Enter the "
            "final address as Base URL."
        ) % {"url": url, "status": status}
        code = ErrorCode.UNEXPECTED_REDIRECT
    else:
        message = gettext("Unexpected response: %(url)s answered with HTTP %(status)s.") % {
            "url": url,
            "status": status,
        }
        code = ErrorCode.UNEXPECTED_STATUS
    raise RestJsonError(message, code=code, technical=technical, details=details)


def _transport_error(exc: httpx.HTTPError, cfg: RestJsonConfig, url: str) -> RestJsonError:
    """The error an httpx exception stands for; order matters (subclasses first)."""
    host = _display_host(cfg)
    technical = _redact(f"GET {url} -> {type(exc).__name__}: {exc}", cfg)
    details: dict[str, Any] = {"url": url}
    unreachable = False
    if isinstance(exc, AddressNotAllowed):
        message = gettext(
            "This address is not allowed: %(host)s is in a local or private network. Ask your "
            "system administrator to allow this host."
        )
        code = ErrorCode.ADDRESS_NOT_ALLOWED
    elif isinstance(exc, ResponseTooLarge):
        message = gettext("Unexpected response: the answer of %(url)s is larger than allowed.")
        code = ErrorCode.RESPONSE_TOO_LARGE
    elif isinstance(exc, httpx.TimeoutException):
        message = ngettext(
            "No answer within %(seconds)s second from %(host)s. Check that the ERP server is "
            "running, or raise the timeout.",
            "No answer within %(seconds)s seconds from %(host)s. Check that the ERP server is "
            "running, or raise the timeout.",
            cfg.timeout,
        )
        code = ErrorCode.TOTAL_TIMEOUT if isinstance(exc, TotalTimeout) else ErrorCode.TIMEOUT
        unreachable = True
    elif isinstance(exc, httpx.ConnectError) and _caused_by(
        exc, ssl.SSLCertVerificationError, "CERTIFICATE_VERIFY_FAILED"
    ):
        message = gettext(
            "TLS certificate problem: the certificate of %(host)s could not be verified. Install "
            "a valid certificate on the ERP server, or switch off Verify TLS certificates for "
            "testing only."
        )
        code = ErrorCode.TLS_CERTIFICATE
    elif isinstance(exc, httpx.ConnectError) and _caused_by(exc, ssl.SSLError):
        message = gettext(
            "TLS certificate problem: no secure connection could be set up with %(host)s. "
            "Check that the Base URL uses the right scheme (https or http) and port."
        )
        code = ErrorCode.TLS_HANDSHAKE
    elif isinstance(exc, httpx.ConnectError) and _caused_by(
        exc,
        socket.gaierror,
        "Name or service not known",
        "nodename nor servname",
        "getaddrinfo failed",
        "Temporary failure in name resolution",
        "No address associated with hostname",
    ):
        message = gettext(
            "Cannot reach %(host)s because its name cannot be resolved. Check the Base URL."
        )
        code = ErrorCode.HOST_NOT_FOUND
        unreachable = True
    elif isinstance(exc, httpx.ConnectError) and _caused_by(
        exc, ConnectionRefusedError, "Connection refused"
    ):
        message = gettext(
            "Cannot reach %(host)s because the connection was refused. Check the Base URL and "
            "that the ERP server is running."
        )
        code = ErrorCode.CONNECTION_REFUSED
        unreachable = True
    elif isinstance(exc, httpx.ConnectError):
        message = gettext(
            "Cannot reach %(host)s because no connection could be made. Check the Base URL and "
            "the network."
        )
        code = ErrorCode.UNREACHABLE
        unreachable = True
    elif isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        message = gettext("Unexpected response: %(host)s did not answer with valid HTTP.")
        code = ErrorCode.PROTOCOL_ERROR
    elif isinstance(exc, httpx.TransportError):
        message = gettext(
            "Cannot reach %(host)s because the connection was interrupted. Try again later."
        )
        code = ErrorCode.CONNECTION_LOST
        unreachable = True
    elif isinstance(exc, httpx.TooManyRedirects):
        message = gettext("Unexpected response: %(url)s redirects too many times.")
        code = ErrorCode.TOO_MANY_REDIRECTS
    else:  # DecodingError, InvalidURL...
        message = gettext("Unexpected response: %(url)s could not be read.")
        code = ErrorCode.PROTOCOL_ERROR
    return RestJsonError(
        message % {"host": host, "url": url, "seconds": cfg.timeout},
        code=code,
        technical=technical,
        details=details,
        unreachable=unreachable,
    )

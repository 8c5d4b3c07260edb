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

from connectors.base import Capability, ConnectorError, PriceList, Product, TestResult, TestStatus
from connectors.http_connector import GATEWAY_STATUSES, HttpConnector
from connectors.rules import BusinessRulesConfig, QuotePricing, check_search_limit, round_price
from connectors.support import CONNECTION, check_plain_url, timeout_field, verify_tls_field

AUTHENTICATION = _("Authentication")

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
        json_schema_extra={"order": 10, "group": CONNECTION},
    )
    authentication: AuthenticationKind = Field(
        "none",
        title=_("Authentication"),
        description=_("How this connection identifies itself to the ERP."),
        json_schema_extra={
            "order": 20,
            "group": AUTHENTICATION,
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
        json_schema_extra={
            "order": 30,
            "group": AUTHENTICATION,
            "visible_when": {"authentication": "bearer"},
        },
    )
    username: str = Field(
        "",
        max_length=150,
        validate_default=True,
        title=_("Username"),
        description=_("User name for Basic authentication."),
        json_schema_extra={
            "order": 40,
            "group": AUTHENTICATION,
            "visible_when": {"authentication": "basic"},
        },
    )
    password: SecretStr | None = Field(
        None,
        max_length=1024,
        validate_default=True,
        title=_("Password"),
        description=_("Password for Basic authentication."),
        json_schema_extra={
            "order": 50,
            "group": AUTHENTICATION,
            "visible_when": {"authentication": "basic"},
        },
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


class RestJsonConnector(QuotePricing, HttpConnector[RestJsonConfig]):
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
    user_agent = "erpsettings-rest-json/1.0"
    Error = RestJsonError

    def server_url(self, config: RestJsonConfig) -> str:
        return str(config.base_url)

    def secret_values(self, config: RestJsonConfig) -> list[str]:
        """The secrets and the Basic header that encodes the password."""
        return config.secret_values()

    def test_details(self, config: RestJsonConfig) -> dict[str, Any]:
        return {"base_url": str(config.base_url)}

    def check(self, config: RestJsonConfig) -> TestResult:
        """Call ``/health`` then ``/price-lists``; ``ok`` with the count, ``ok_with_info``
        when there are none, ``error`` with a code from :class:`ErrorCode` otherwise."""
        with self.client(config) as client:
            health = self._get(client, config, "health", _Health)
            if health.status.strip().lower() != "ok":
                reported = self.redact(config, health.status)[:50]
                raise RestJsonError(
                    gettext('The ERP server is not ready: it reports the status "%(status)s".')
                    % {"status": reported},
                    code=ErrorCode.ERP_NOT_READY,
                    technical=f"GET {self.url(config, 'health')} -> status {reported!r}",
                    details={"step": "health"},
                )
            lists = self._get(client, config, "price-lists", _PriceListsResponse).price_lists
        count = len(lists)
        details = {
            **self.test_details(config),
            "price_list_count": count,
            "currencies": sorted({item.currency for item in lists}),
            "server_name": self.redact(config, health.name)[:100],
            "server_version": self.redact(config, health.version)[:50],
        }
        technical = self.redact(
            config,
            f"GET {self.url(config, 'health')} -> ok ({health.name} {health.version}); "
            f"GET {self.url(config, 'price-lists')} -> {count} price lists",
        )
        if count == 0:
            message = gettext(
                "Connection OK: 0 price lists available. Quotes can use this connection "
                "once the ERP has a price list."
            )
            return TestResult(TestStatus.OK_WITH_INFO, message, technical, details=details)
        message = ngettext(
            "Connection OK: %(count)s price list available",
            "Connection OK: %(count)s price lists available",
            count,
        ) % {"count": count}
        return TestResult(TestStatus.OK, message, technical, details=details)

    def price_lists(
        self, config: RestJsonConfig, *, currency: str | None = None
    ) -> list[PriceList]:
        """The ERP's price lists, only those in ``currency`` when given.

        Raises :class:`RestJsonError`; when the ERP is unreachable and the fallback rule is on,
        answers from the product register instead.
        """
        try:
            with self.client(config) as client:
                items = self._get(client, config, "price-lists", _PriceListsResponse).price_lists
        except RestJsonError as exc:
            return self.fallback(config, exc).price_lists(currency=currency)
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
        self, config: RestJsonConfig, *, q: str, price_list: str | None = None, limit: int = 20
    ) -> list[Product]:
        """Products whose code or name matches ``q`` (the ERP decides how), at most ``limit``,
        priced from ``price_list`` and rounded by the connection's rounding rule.

        Raises :class:`RestJsonError`; when the ERP is unreachable and the fallback rule is on,
        answers from the product register, each product with a ``notice`` saying so.
        """
        check_search_limit(limit, MAX_SEARCH_LIMIT, RestJsonError)
        params: dict[str, str | int] = {"q": q, "limit": limit}
        if price_list:
            params["price_list"] = price_list
        try:
            with self.client(config) as client:
                items = self._get(client, config, "products", _ProductsResponse, params).products
        except RestJsonError as exc:
            register = self.fallback(config, exc)
            notice = gettext("The ERP could not be reached; this comes from the product register.")
            return [
                dataclasses.replace(p, price=round_price(p.price, config), notice=notice)
                for p in register.search_products(q=q, price_list=price_list, limit=limit)
            ]
        return [
            Product(
                code=item.code,
                name=item.name,
                price=round_price(item.price, config),
                currency=item.currency,
                vat=item.vat,
                unit=item.unit,
            )
            for item in items[:limit]
        ]

    # -- the HTTP exchange

    def _get(
        self,
        client: httpx.Client,
        config: RestJsonConfig,
        path: str,
        shape: type[_Shape],
        params: dict[str, str | int] | None = None,
    ) -> _Shape:
        url = self.url(config, path)
        headers = {"Accept": "application/json"}
        auth: httpx.Auth | None = None
        if config.authentication == "bearer" and config.api_token is not None:
            headers["Authorization"] = f"Bearer {config.api_token.get_secret_value()}"
        elif config.authentication == "basic" and config.password is not None:
            auth = httpx.BasicAuth(config.username, config.password.get_secret_value())
        response = self.request(
            client, config, "GET", url, params=params, headers=headers, auth=auth
        )
        self._check_status(response, config, url)
        details = {"url": url, "http_status": response.status_code}
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
                technical=self.redact(
                    config,
                    f"GET {url} -> HTTP {response.status_code}, "
                    f"content-type {response.headers.get('content-type', '-')!r}: {exc}; "
                    f"body starts {self._snippet(response, config)!r}",
                ),
                details=details,
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
                technical=self.redact(
                    config, f"GET {url} -> {exc.error_count()} problems: {problems}"
                ),
                details=details,
            ) from None

    def _snippet(self, response: httpx.Response, config: RestJsonConfig) -> str:
        """The start of the body, secrets redacted before cutting so no part of one survives."""
        return self.redact(config, response.content.decode("utf-8", errors="replace"))[
            :_BODY_SNIPPET
        ]

    def _check_status(self, response: httpx.Response, config: RestJsonConfig, url: str) -> None:
        """Raise the error that a non-2xx status stands for."""
        status = response.status_code
        if 200 <= status < 300:
            return
        technical = f"GET {url} -> HTTP {status}"
        if 300 <= status < 400:
            technical += f", Location {response.headers.get('location', '-')!r}"
        else:
            technical += f"; body starts {self._snippet(response, config)!r}"
        bucket = 500 if status >= 500 else 300 if status < 400 else 400
        message, code = _STATUS_WORDING.get(status, _STATUS_WORDING[bucket])
        raise RestJsonError(
            str(message % {"url": url, "status": status}),
            code=code,
            technical=self.redact(config, technical),
            details={"url": url, "http_status": status},
            unreachable=status in GATEWAY_STATUSES,
        )


# Keyed by status; 300, 400 and 500 stand for the rest of their range.
_STATUS_WORDING: dict[int, tuple[Any, ErrorCode]] = {
    401: (
        _(
            "Authentication failed: the ERP server did not accept the credentials (HTTP 401). "
            "Check the authentication settings."
        ),
        ErrorCode.AUTHENTICATION_FAILED,
    ),
    403: (
        _(
            "Authentication failed: the ERP server refused access (HTTP 403). Check that this "
            "account may read price lists and products."
        ),
        ErrorCode.ACCESS_DENIED,
    ),
    404: (
        _("Not found: %(url)s does not exist on the ERP server. Check the Base URL."),
        ErrorCode.NOT_FOUND,
    ),
    500: (
        _(
            "The ERP server reported an error (HTTP %(status)s) at %(url)s. Try again later or "
            "contact the ERP administrator."
        ),
        ErrorCode.SERVER_ERROR,
    ),
    300: (
        _(
            "Unexpected response: %(url)s redirects elsewhere (HTTP %(status)s). Enter the "
            "final address as Base URL."
        ),
        ErrorCode.UNEXPECTED_REDIRECT,
    ),
    400: (
        _("Unexpected response: %(url)s answered with HTTP %(status)s."),
        ErrorCode.UNEXPECTED_STATUS,
    ),
}

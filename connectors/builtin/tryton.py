"""The Tryton ERP connector (PRODUCT.md section 4.3; facts in TRYTON.md).

Talks to a Tryton server (7.x/8.x) through its REST API with a user application key, relative
to the configured *Server URL*:

- ``POST /rpc/`` ``common.server.version`` tells whether the server is Tryton at all;
- ``GET /<database>/rest/model/<model>`` searches (``f`` fields, ``d`` base64url JSON
  domain, ``o`` order, ``Range: records=<start>-<end>`` paging);
- ``POST /<database>/rest/model/<model>/search_count`` counts.

Every request carries ``Authorization: Bearer <key>`` and ``X-Tryton-Context`` with the
company (without it, company-dependent prices come back null). A price list's price is the
server's own ``sale_price_uom`` (module ``sale_price_list``) read with the price list in the
context; a server without that field gives the list price, with a notice on each product.

Tryton's quirks handled here: decimals encoded as ``{"__class__": "Decimal", "decimal":
"..."}``; dotted fields answered as nested objects; HTML error bodies; an exclusive end in
``Range``/``Content-Range`` and a total that may be ``*``; booleans as 0/1 on SQLite.

Every call goes through the injected client factory (the guarded client in production).
Each failure becomes a :class:`TrytonError` with a translated message for the user, an
English technical message without the key, and a stable code from :class:`ErrorCode`.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import re
import ssl
import time
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import httpx
from django.utils.translation import gettext, gettext_lazy as _, ngettext
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator
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
from connectors.http import AddressNotAllowed, ResponseTooLarge
from connectors.registry import register
from connectors.rules import BusinessRulesConfig, apply_discount, round_price
from connectors.support import (
    check_plain_url,
    display_host,
    exception_chain as _causes,
    redact,
    timeout_field,
    verify_tls_field,
)

#: The most products one search asks for; a larger ``limit`` is refused.
MAX_SEARCH_LIMIT = 200
#: A safety stop for paging through a list that never ends.
MAX_RECORDS = 10_000
_SNIPPET = 200
_USER_AGENT = "erpsettings-tryton/1.0"
# The Tryton module that brings each model the connector reads (for "module missing").
_MODULE_OF = {
    "product.price_list": "product_price_list",
    "product.product": "product",
    "company.company": "company",
}
_CONTENT_RANGE = re.compile(r"^\s*records\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_DATABASE_NAME = re.compile(r"^[^/\\\s?#%]+$")


class ErrorCode(StrEnum):
    """One stable code per cause of failure (the ``error_code`` of a test result)."""

    UNREACHABLE = "unreachable"  # no connection (refused, unknown host, server stopped)
    ADDRESS_NOT_ALLOWED = "address_not_allowed"  # the guarded client refused the address
    TLS_CERTIFICATE = "tls_certificate"  # certificate or TLS handshake failed
    TIMEOUT = "timeout"  # no answer within the timeout
    NOT_TRYTON = "not_tryton"  # something answers, but not as Tryton
    UNKNOWN_DATABASE = "unknown_database"  # HTTP 404 on the database's REST routes
    KEY_REFUSED = "key_refused"  # HTTP 401: wrong, cancelled or not a REST key
    COMPANY_MISSING = "company_missing"  # no such company, or not readable with the key
    PRICE_LIST_MISSING = "price_list_missing"  # the price list for quotes was not found
    PRODUCT_NOT_FOUND = "product_not_found"
    MODULE_MISSING = "module_missing"  # the model is unknown: module not activated
    ACCESS_DENIED = "access_denied"  # HTTP 403
    TRYTON_REFUSED = "tryton_refused"  # HTTP 400 with Tryton's own message
    SERVER_ERROR = "server_error"  # HTTP 5xx
    UNEXPECTED_RESPONSE = "unexpected_response"  # not the JSON Tryton sends
    INVALID_LIMIT = "invalid_limit"


class TrytonError(ConnectorError):
    """A failure of a Tryton call."""


# --------------------------------------------------------------------------- configuration


class TrytonConfig(BusinessRulesConfig):
    """Configuration of a Tryton connection; the rule fields come after these."""

    model_config = ConfigDict(hide_input_in_errors=True)

    server_url: AnyHttpUrl = Field(
        title=_("Server URL"),
        description=_("Address of the Tryton server, for example https://tryton.example.com."),
        json_schema_extra={"order": 10},
    )
    database: str = Field(
        min_length=1,
        max_length=100,
        title=_("Database"),
        description=_("Name of the Tryton database."),
        json_schema_extra={"order": 20},
    )
    api_key: SecretStr = Field(
        min_length=1,
        max_length=512,
        title=_("API key"),
        description=_(
            "Key of a Tryton user application for the REST API (User > Applications), "
            "validated in Tryton."
        ),
        json_schema_extra={"order": 30},
    )
    company: int = Field(
        1,
        ge=1,
        title=_("Company"),
        description=_("Id of the Tryton company whose prices and price lists are used."),
        json_schema_extra={"order": 40},
    )
    price_list: str = Field(
        "",
        max_length=100,
        title=_("Price list for quotes"),
        description=_(
            "Id or name of the Tryton price list that prices quotes. Leave empty to use list "
            "prices."
        ),
        json_schema_extra={"order": 50},
    )
    timeout: int = timeout_field(_("How long to wait for an answer from Tryton."))
    verify_tls: bool = verify_tls_field(
        _("Check the Tryton server's certificate. Switch off only for testing.")
    )

    @field_validator("server_url")
    @classmethod
    def _plain_server_url(cls, value: AnyHttpUrl) -> AnyHttpUrl:
        return check_plain_url(
            value,
            credentials=gettext("Put the API key in its own field, not in the Server URL."),
            query=gettext("The Server URL cannot contain a query or a fragment."),
        )

    @field_validator("database")
    @classmethod
    def _plain_database(cls, value: str) -> str:
        value = value.strip()
        if not _DATABASE_NAME.match(value):
            raise PydanticCustomError(
                "database_name",
                gettext(
                    "A database name cannot contain spaces, slashes, question marks, hash "
                    "signs or percent signs."
                ),
            )
        return value

    @field_validator("api_key")
    @classmethod
    def _printable_key(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value().strip()
        if not key or not all(33 <= ord(char) <= 126 for char in key):
            raise PydanticCustomError(
                "api_key", gettext("An API key consists of letters, digits and symbols only.")
            )
        return SecretStr(key)

    @field_validator("price_list")
    @classmethod
    def _strip_price_list(cls, value: str) -> str:
        return value.strip()

    def secret_values(self) -> list[str]:
        """Every string that must never appear in a message."""
        return [self.api_key.get_secret_value()]


# --------------------------------------------------------------------------- decoding


def _decode_object(obj: dict[str, Any]) -> Any:
    """The JSON object hook: Tryton's ``{"__class__": "Decimal", ...}`` and friends."""
    kind = obj.get("__class__")
    if kind == "Decimal" and "decimal" in obj:
        try:
            return Decimal(str(obj["decimal"]))
        except InvalidOperation:
            return None
    if kind == "date" and {"year", "month", "day"} <= obj.keys():
        return f"{obj['year']:04d}-{obj['month']:02d}-{obj['day']:02d}"
    return obj


def _field(record: dict[str, Any], path: str) -> Any:
    """The value of a dotted field: nested (Tryton's REST), flat or with trailing dots."""
    if path in record:
        return record[path]
    head, _dot, rest = path.partition(".")
    value = record.get(head, record.get(f"{head}."))
    if not rest:
        return value
    if isinstance(value, dict):
        return _field(value, rest)
    return None


def _decimal(value: Any) -> Decimal | None:
    """A decimal from what Tryton sends: Decimal (decoded), number or numeric string."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int | float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    if isinstance(value, dict):  # an encoding the hook did not know
        return _decimal(value.get("decimal"))
    return None


def _bool(value: Any) -> bool:
    """Tryton on SQLite answers booleans as 0/1."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "t", "yes"}
    return bool(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _body_text(response: httpx.Response) -> str:
    """A short, readable version of an error body: Tryton's JSON message or the HTML's text."""
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict) and data.get("message"):
        text = _text(data["message"])
        if data.get("description"):
            text += f" {_text(data['description'])}"
        return text[:_SNIPPET]
    raw = response.content[: 4 * _SNIPPET].decode("utf-8", errors="replace")
    if "<" in raw:
        raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", raw)
        raw = re.sub(r"(?s)<[^>]*>", " ", raw)
    return " ".join(html.unescape(raw).split())[:_SNIPPET]


def _b64json(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def _like(text: str) -> str:
    """``%text%`` for Tryton's ``ilike``, with its wildcards and escape character escaped."""
    for char in "\\%_":
        text = text.replace(char, f"\\{char}")
    return f"%{text}%"


@dataclasses.dataclass(frozen=True)
class _Company:
    id: int
    name: str
    currency: str


@dataclasses.dataclass(frozen=True)
class _PriceListRef:
    id: int
    name: str
    currency: str


# --------------------------------------------------------------------------- the REST session


class _Api:
    """One conversation with a Tryton server through one httpx client."""

    def __init__(self, cfg: TrytonConfig, client: httpx.Client, *, page_size: int) -> None:
        self.cfg = cfg
        self.client = client
        self.page_size = page_size
        self.base = str(cfg.server_url).rstrip("/")
        self.rest = f"{self.base}/{quote(cfg.database, safe='')}/rest/model"
        self.headers = {
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
            "Authorization": f"Bearer {cfg.api_key.get_secret_value()}",
        }

    # -- calls

    def server_version(self) -> str:
        """Tryton's version from ``common.server.version``; ``not_tryton`` when absent."""
        url = f"{self.base}/rpc/"
        body = {"method": "common.server.version", "params": [], "id": 1}
        response = self._send("POST", url, json=body, headers={"User-Agent": _USER_AGENT})
        technical = f"POST {url} -> HTTP {response.status_code}"
        if response.status_code in (502, 503, 504):
            raise self._server_error(response, technical, unreachable=True)
        try:
            data = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            data = None
        version = data.get("result") if isinstance(data, dict) else None
        if response.status_code != 200 or not isinstance(version, str):
            raise TrytonError(
                gettext(
                    "%(url)s does not answer like a Tryton server. Check the Server URL: it is "
                    "the address of the Tryton server itself, without a database name."
                )
                % {"url": self.base},
                code=ErrorCode.NOT_TRYTON,
                technical=self._redact(f"{technical}; body starts {_body_text(response)!r}"),
            )
        return version[:50]

    def count(self, model: str, domain: Sequence[Any] = ()) -> int:
        url = f"{self.rest}/{model}/search_count"
        response = self._send("POST", url, json={"domain": list(domain)}, headers=self._headers())
        self._check(response, "POST", url, model)
        value = self._json(response, "POST", url)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._unexpected("POST", url, f"a count was expected, got {type(value).__name__}")
        return value

    def search(
        self,
        model: str,
        *,
        fields: Sequence[str],
        domain: Sequence[Any] = (),
        order: Sequence[tuple[str, str]] = (("id", "ASC"),),
        limit: int | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Records of ``model`` read page by page with ``Range`` (at most ``limit``)."""
        url = f"{self.rest}/{model}"
        params = {"f": list(fields), "o": _b64json([list(item) for item in order])}
        if domain:
            params["d"] = _b64json(list(domain))
        records: list[dict[str, Any]] = []
        offset = 0
        while limit is None or len(records) < limit:
            size = self.page_size if limit is None else min(self.page_size, limit - len(records))
            # Tryton reads the end of the range as exclusive: "records=0-50" gives 50 records.
            headers = self._headers(context, Range=f"records={offset}-{offset + size}")
            response = self._send("GET", url, params=params, headers=headers)
            if response.status_code == 416:  # the offset is past the end
                break
            self._check(response, "GET", url, model)
            page = self._json(response, "GET", url)
            if not isinstance(page, list) or not all(isinstance(r, dict) for r in page):
                raise self._unexpected("GET", url, "a list of records was expected")
            records.extend(page)
            content_range = response.headers.get("Content-Range")
            if content_range is None:  # the server ignored Range and sent everything
                break
            match = _CONTENT_RANGE.match(content_range)
            if match is None:
                raise self._unexpected("GET", url, f"Content-Range {content_range[:80]!r}")
            total = None if match.group(3) == "*" else int(match.group(3))
            if not page or len(page) < size or (total is not None and offset + len(page) >= total):
                break
            offset += len(page)
            if len(records) > MAX_RECORDS:
                raise self._unexpected("GET", url, f"more than {MAX_RECORDS} records")
        return records if limit is None else records[:limit]

    def company(self) -> _Company:
        """The configured company; ``company_missing`` when it cannot be found or read."""
        found = self.search(
            "company.company",
            fields=["rec_name", "currency.code"],
            domain=[["id", "=", self.cfg.company]],
            limit=1,
        )
        if not found:
            raise TrytonError(
                gettext(
                    "Company %(company)s was not found in database %(database)s, or the API "
                    "key's user has no access to it. Check the Company field."
                )
                % {"company": self.cfg.company, "database": self.cfg.database},
                code=ErrorCode.COMPANY_MISSING,
                technical=f"GET {self.rest}/company.company id={self.cfg.company} -> no record",
                details={"company": self.cfg.company},
            )
        record = found[0]
        return _Company(
            id=self.cfg.company,
            name=_text(_field(record, "rec_name")),
            currency=_text(_field(record, "currency.code")).upper(),
        )

    def price_list(self, reference: str) -> _PriceListRef:
        """The company's active price list with this id or (case-insensitive) name."""
        fields = ["name", "company.currency.code"]
        by_name = ["name", "ilike", _like(reference)[1:-1]]  # case-insensitive equality
        if reference.isdigit():  # an id, or a name made of digits
            wanted: list[Any] = ["OR", ["id", "=", int(reference)], by_name]
        else:
            wanted = by_name
        found = self.search(
            "product.price_list",
            fields=fields,
            domain=[["company", "=", self.cfg.company], wanted],
        )
        # The id wins, then the exact spelling, then a match that differs only in case.
        found.sort(key=lambda r: (str(r.get("id")) != reference, _text(r.get("name")) != reference))
        if not found:
            raise TrytonError(
                gettext(
                    'The price list "%(price_list)s" was not found in Tryton for company '
                    "%(company)s. Check the price list for quotes."
                )
                % {"price_list": reference, "company": self.cfg.company},
                code=ErrorCode.PRICE_LIST_MISSING,
                technical=(
                    f"GET {self.rest}/product.price_list {reference!r} "
                    f"company={self.cfg.company} -> no record"
                ),
                details={"price_list": reference},
            )
        record = found[0]
        if not isinstance(record.get("id"), int):
            raise self._unexpected("GET", f"{self.rest}/product.price_list", "a record without id")
        return _PriceListRef(
            id=record["id"],
            name=_text(record.get("name")),
            currency=_text(_field(record, "company.currency.code")).upper(),
        )

    def calculates_prices(self) -> bool:
        """Whether products have ``sale_price_uom`` (module ``sale``, with price lists
        ``sale_price_list``); a user who may not read the field list is taken as no."""
        try:
            found = self.search(
                "ir.model.field",
                fields=["name"],
                domain=[["model", "=", "product.product"], ["name", "=", "sale_price_uom"]],
                limit=1,
            )
        except TrytonError as exc:
            if exc.code in (ErrorCode.ACCESS_DENIED, ErrorCode.TRYTON_REFUSED):
                return False
            raise
        return bool(found)

    # -- plumbing

    def _headers(self, context: dict[str, Any] | None = None, **extra: str) -> dict[str, str]:
        return {
            **self.headers,
            "X-Tryton-Context": _b64json({"company": self.cfg.company, **(context or {})}),
            **extra,
        }

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise _transport_error(exc, self.cfg, f"{method} {url}") from None

    def _json(self, response: httpx.Response, method: str, url: str) -> Any:
        try:
            return json.loads(response.content, object_hook=_decode_object, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._unexpected(
                method, url, f"not JSON ({exc}); body starts {_body_text(response)!r}"
            ) from None

    def _unexpected(self, method: str, url: str, problem: str) -> TrytonError:
        return TrytonError(
            gettext(
                "Unexpected response from the Tryton server. Check that the Server URL points "
                "to Tryton."
            ),
            code=ErrorCode.UNEXPECTED_RESPONSE,
            technical=self._redact(f"{method} {url} -> {problem}"),
        )

    def _server_error(
        self, response: httpx.Response, technical: str, *, unreachable: bool = False
    ) -> TrytonError:
        return TrytonError(
            gettext(
                "The Tryton server reported an error (HTTP %(status)s). Try again later or ask "
                "the Tryton administrator."
            )
            % {"status": response.status_code},
            code=ErrorCode.SERVER_ERROR,
            technical=self._redact(f"{technical}; {_body_text(response)!r}"),
            details={"http_status": response.status_code},
            unreachable=unreachable,
        )

    def _check(self, response: httpx.Response, method: str, url: str, model: str) -> None:
        """Raise the error that a non-2xx answer of the REST API stands for."""
        status = response.status_code
        if 200 <= status < 300:
            return
        technical = f"{method} {url} -> HTTP {status}"
        body = _body_text(response)
        details = {"http_status": status}
        if status == 401:
            raise TrytonError(
                gettext(
                    "Tryton refused the API key. Check the key, and that it is a validated "
                    "REST API application of an active user in this database."
                ),
                code=ErrorCode.KEY_REFUSED,
                technical=technical,
                details=details,
            )
        if status == 403:
            raise TrytonError(
                gettext(
                    "Tryton refused access. Check that the API key's user may read price "
                    "lists, products and companies."
                ),
                code=ErrorCode.ACCESS_DENIED,
                technical=self._redact(f"{technical}; {body!r}"),
                details=details,
            )
        if status == 404:
            raise TrytonError(
                gettext(
                    'The Tryton server has no database "%(database)s". Check the database name.'
                )
                % {"database": self.cfg.database},
                code=ErrorCode.UNKNOWN_DATABASE,
                technical=technical,
                details=details,
            )
        if status == 400 and response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            raise TrytonError(
                gettext("Tryton refused the request: %(message)s") % {"message": body},
                code=ErrorCode.TRYTON_REFUSED,
                technical=self._redact(f"{technical}; {body!r}"),
                details=details,
            )
        if status == 500 and body.endswith(f"'{model}'") and model in _MODULE_OF:
            # Tryton answers an unknown model with a KeyError: the module is not activated.
            raise TrytonError(
                gettext("The Tryton module %(module)s is not activated in database %(database)s.")
                % {"module": _MODULE_OF[model], "database": self.cfg.database},
                code=ErrorCode.MODULE_MISSING,
                technical=self._redact(f"{technical}; {body!r}"),
                details=details,
            )
        if status >= 500:
            raise self._server_error(response, technical, unreachable=status in (502, 503, 504))
        raise TrytonError(
            gettext("Unexpected response from the Tryton server (HTTP %(status)s).")
            % {"status": status},
            code=ErrorCode.UNEXPECTED_RESPONSE,
            technical=self._redact(f"{technical}; {body!r}"),
            details=details,
        )

    def _redact(self, text: str) -> str:
        return _redact(text, self.cfg)


def _redact(text: str, cfg: TrytonConfig) -> str:
    return redact(text, cfg.secret_values())


def _display_host(cfg: TrytonConfig) -> str:
    return display_host(str(cfg.server_url))


def _transport_error(exc: httpx.HTTPError, cfg: TrytonConfig, request: str) -> TrytonError:
    """The error an httpx exception stands for; order matters (subclasses first)."""
    host = _display_host(cfg)
    technical = _redact(f"{request} -> {type(exc).__name__}: {exc}", cfg)
    unreachable = False
    if isinstance(exc, AddressNotAllowed):
        message = gettext(
            "This address is not allowed: %(host)s is in a local or private network. Ask your "
            "system administrator to allow this host."
        )
        code = ErrorCode.ADDRESS_NOT_ALLOWED
    elif isinstance(exc, ResponseTooLarge):
        message = gettext("Unexpected response: the answer of %(host)s is larger than allowed.")
        code = ErrorCode.UNEXPECTED_RESPONSE
    elif isinstance(exc, httpx.TimeoutException):
        message = ngettext(
            "No answer within %(seconds)s second from %(host)s. Check that Tryton is running, "
            "or raise the timeout.",
            "No answer within %(seconds)s seconds from %(host)s. Check that Tryton is running, "
            "or raise the timeout.",
            cfg.timeout,
        )
        code = ErrorCode.TIMEOUT
        unreachable = True
    elif isinstance(exc, httpx.ConnectError) and any(
        isinstance(cause, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(cause)
        for cause in _causes(exc)
    ):
        message = gettext(
            "TLS certificate problem: no trusted secure connection could be made with "
            "%(host)s. Install a valid certificate on the Tryton server, check http or https "
            "in the Server URL, or switch off Verify TLS certificates for testing only."
        )
        code = ErrorCode.TLS_CERTIFICATE
    elif isinstance(exc, httpx.ConnectError):
        message = gettext(
            "Cannot reach %(host)s. Check the Server URL and that the Tryton server is running."
        )
        code = ErrorCode.UNREACHABLE
        unreachable = True
    elif isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        message = gettext("%(host)s does not answer like a Tryton server. Check the Server URL.")
        code = ErrorCode.NOT_TRYTON
    elif isinstance(exc, httpx.TransportError):
        message = gettext("Cannot reach %(host)s: the connection was interrupted. Try again later.")
        code = ErrorCode.UNREACHABLE
        unreachable = True
    else:  # TooManyRedirects, DecodingError, InvalidURL...
        message = gettext("Unexpected response from the Tryton server at %(host)s.")
        code = ErrorCode.UNEXPECTED_RESPONSE
    return TrytonError(
        message % {"host": host, "seconds": cfg.timeout},
        code=code,
        technical=technical,
        unreachable=unreachable,
    )


# --------------------------------------------------------------------------- the connector


@register
class TrytonConnector(Connector):
    """Price lists, product search, product details and price-list prices from Tryton."""

    key = "tryton"
    label = _("Tryton ERP")
    vendor = "Tryton"
    version = "1.0"
    description = _(
        "Tryton 7.x/8.x through its REST API with an API key: price lists, products and, with "
        "the module sale_price_list, prices calculated from a price list."
    )
    Config = TrytonConfig
    capabilities = frozenset(
        {
            Capability.PRICE_LISTS,
            Capability.PRODUCT_SEARCH,
            Capability.PRODUCT_DETAILS,
            Capability.PRICE_CALCULATION,
        }
    )
    sync_connection = "none"

    #: Records asked for per ``Range`` request when reading whole lists.
    page_size = 100

    # -- public contract

    def test_connection(self, config: BaseModel) -> TestResult:
        """Check that the server is Tryton, the database exists, the key is accepted and the
        company is readable; ``ok`` with the counts, ``ok_with_info`` when something limits
        quotes (no price lists or products, no server-side pricing), ``error`` otherwise."""
        cfg = _tryton_config(config)
        started = time.monotonic()
        base_details: dict[str, Any] = {
            "server_url": str(cfg.server_url),
            "database": cfg.database,
            "company_id": cfg.company,
        }
        try:
            with self._client(cfg) as client:
                api = self._api(cfg, client)
                version = api.server_version()
                price_list_count = api.count("product.price_list", [["company", "=", cfg.company]])
                company = api.company()
                product_count = api.count("product.product")
                price_list = api.price_list(cfg.price_list) if cfg.price_list else None
                calculates = api.calculates_prices()
        except TrytonError as exc:
            return TestResult(
                TestStatus.ERROR,
                exc.message,
                technical_message=exc.technical,
                error_code=exc.code,
                duration_ms=_elapsed_ms(started),
                details={**base_details, **exc.details},
            )
        details = {
            **base_details,
            "server_version": version,
            "company": company.name,
            "currency": company.currency,
            "price_list_count": price_list_count,
            "product_count": product_count,
            "price_calculation": calculates,
        }
        if price_list is not None:
            details["price_list"] = {"id": str(price_list.id), "name": price_list.name}
        message = gettext("Connection OK: %(price_lists)s, %(products)s available") % {
            "price_lists": ngettext(
                "%(count)s price list", "%(count)s price lists", price_list_count
            )
            % {"count": price_list_count},
            "products": ngettext("%(count)s product", "%(count)s products", product_count)
            % {"count": product_count},
        }
        notes = []
        if product_count == 0:
            notes.append(gettext("Tryton has no products for quotes yet."))
        if price_list_count == 0:
            notes.append(gettext("Quotes use list prices until Tryton has a price list."))
        elif not calculates:
            notes.append(
                gettext(
                    "This Tryton server does not calculate prices from price lists (module "
                    "sale_price_list); quotes use list prices."
                )
            )
        technical = (
            f"Tryton {version} at {api.base}, database {cfg.database}: "
            f"{price_list_count} price lists, {product_count} products; company "
            f"{company.id} {company.name!r} ({company.currency}); price calculation "
            f"{'sale_price_uom' if calculates else 'not available'}"
        )
        if price_list is not None:
            technical += f"; price list for quotes {price_list.id} {price_list.name!r}"
        return TestResult(
            TestStatus.OK_WITH_INFO if notes else TestStatus.OK,
            " ".join([f"{message}.", *notes]) if notes else message,
            technical_message=_redact(technical, cfg),
            duration_ms=_elapsed_ms(started),
            details=details,
        )

    def price_lists(self, config: BaseModel, *, currency: str | None = None) -> list[PriceList]:
        """The company's active price lists (in ``currency`` when given), by name.

        Raises :class:`TrytonError`; when Tryton is unreachable and the fallback rule is on,
        answers from the product register instead.
        """
        cfg = _tryton_config(config)
        try:
            with self._client(cfg) as client:
                records = self._api(cfg, client).search(
                    "product.price_list",
                    fields=["name", "active", "company.currency.code"],
                    domain=[["company", "=", cfg.company]],
                    order=[("name", "ASC"), ("id", "ASC")],
                )
        except TrytonError as exc:
            return self._fallback_register(cfg, exc).price_lists(currency=currency)
        wanted = currency.strip().upper() if currency else None
        lists = [
            PriceList(
                id=str(record["id"]),
                name=_text(record.get("name")),
                currency=_text(_field(record, "company.currency.code")).upper(),
            )
            for record in records
            if record.get("id") is not None and _bool(record.get("active", True))
        ]
        return [pl for pl in lists if wanted is None or pl.currency == wanted]

    def search_products(
        self, config: BaseModel, *, q: str, price_list: str | None = None, limit: int = 20
    ) -> list[Product]:
        """Products whose code or name contains ``q``, at most ``limit``, priced from
        ``price_list`` (an id or name; default: the price list for quotes, else list prices)
        and rounded by the connection's rounding rule.

        Raises :class:`TrytonError`; when Tryton is unreachable and the fallback rule is on,
        answers from the product register, each product with a ``notice`` saying so.
        """
        cfg = _tryton_config(config)
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise TrytonError(
                gettext("Ask for between 1 and %(maximum)s products.")
                % {"maximum": MAX_SEARCH_LIMIT},
                code=ErrorCode.INVALID_LIMIT,
                technical=f"limit {limit} outside 1..{MAX_SEARCH_LIMIT}",
            )
        text = q.strip()
        domain = [["rec_name", "ilike", _like(text)]] if text else []
        reference = cfg.price_list if price_list is None else price_list.strip()
        try:
            with self._client(cfg) as client:
                return self._priced(
                    self._api(cfg, client), cfg, domain=domain, reference=reference, limit=limit
                )
        except TrytonError as exc:
            register_ = self._fallback_register(cfg, exc)
            found = register_.search_products(q=q, price_list=price_list, limit=limit)
            return [_from_register(product, cfg) for product in found]

    def product_details(
        self,
        config: BaseModel,
        *,
        code: str,
        price_list: str | None = None,
        quantity: Decimal | int = 1,
    ) -> Product:
        """The product with exactly this ``code``, priced for ``quantity`` from
        ``price_list`` as in :meth:`search_products`.

        Raises :class:`TrytonError` (``product_not_found`` when there is none); when Tryton is
        unreachable and the fallback rule is on, answers from the product register.
        """
        cfg = _tryton_config(config)
        reference = cfg.price_list if price_list is None else price_list.strip()
        try:
            with self._client(cfg) as client:
                found = self._priced(
                    self._api(cfg, client),
                    cfg,
                    domain=[["code", "=", code]],
                    reference=reference,
                    limit=1,
                    quantity=Decimal(quantity),
                )
        except TrytonError as exc:
            register_ = self._fallback_register(cfg, exc)
            matches = register_.search_products(q=code, price_list=price_list, limit=20)
            found = [_from_register(p, cfg) for p in matches if p.code == code][:1]
        if not found:
            raise TrytonError(
                gettext('Tryton has no product with the code "%(code)s".') % {"code": code},
                code=ErrorCode.PRODUCT_NOT_FOUND,
                technical=f"product.product code={code!r} -> no record",
            )
        return found[0]

    def quote_price(self, config: BaseModel, *, price: Decimal, discount: Decimal) -> Decimal:
        """The price after ``discount`` percent, rounded by the connection's rule.

        Raises ``ConnectorError`` (``discount_too_high``, ``discount_negative``) when the
        discount breaks the connection's maximum.
        """
        return apply_discount(Decimal(price), Decimal(discount), _tryton_config(config))

    # -- helpers

    def _client(self, cfg: TrytonConfig) -> httpx.Client:
        return self.context.http(timeout=float(cfg.timeout), verify=cfg.verify_tls)

    def _api(self, cfg: TrytonConfig, client: httpx.Client) -> _Api:
        return _Api(cfg, client, page_size=self.page_size)

    def _fallback_register(self, cfg: TrytonConfig, exc: TrytonError) -> ProductRegister:
        """The register to answer from, or re-raise ``exc`` when the fallback does not apply."""
        if exc.unreachable and cfg.fallback_to_register and self.context.register is not None:
            return self.context.register
        raise exc

    def _priced(
        self,
        api: _Api,
        cfg: TrytonConfig,
        *,
        domain: list[Any],
        reference: str,
        limit: int,
        quantity: Decimal | None = None,
    ) -> list[Product]:
        """Products matching ``domain`` with the price of the price list ``reference``
        (server-side when the server can, else the list price with a notice)."""
        fields = ["code", "name", "list_price_used", "default_uom.symbol"]
        context: dict[str, Any] = {}
        if quantity is not None:
            context["quantity"] = float(quantity)
        price_list = None
        calculates = False
        if reference:
            calculates = api.calculates_prices()
            price_list = api.price_list(reference)
            currency = price_list.currency
            if calculates:
                fields.append("sale_price_uom")
                context["price_list"] = price_list.id
        else:
            currency = api.company().currency
        records = api.search(
            "product.product",
            fields=fields,
            domain=domain,
            order=[("code", "ASC"), ("id", "ASC")],
            limit=limit,
            context=context,
        )
        products = []
        for record in records:
            list_price = _decimal(_field(record, "list_price_used"))
            price, notice = list_price, ""
            if price_list is not None and not calculates:
                notice = gettext(
                    "List price: this Tryton server does not calculate prices from price lists."
                )
            elif price_list is not None:
                price = _decimal(_field(record, "sale_price_uom"))
                if price is None:
                    price = list_price
                    notice = gettext("List price: the price list gives no price for this product.")
            if price is None:
                price = Decimal(0)
                notice = gettext("Tryton has no price for this product.")
            products.append(
                Product(
                    code=_text(record.get("code")),
                    name=_text(record.get("name")),
                    price=round_price(price, cfg),
                    currency=currency,
                    vat=None,
                    unit=_text(_field(record, "default_uom.symbol")),
                    notice=notice,
                )
            )
        return products


def _from_register(product: Product, cfg: TrytonConfig) -> Product:
    return dataclasses.replace(
        product,
        price=round_price(product.price, cfg),
        notice=gettext("Tryton could not be reached; this comes from the product register."),
    )


def _tryton_config(config: BaseModel) -> TrytonConfig:
    if isinstance(config, TrytonConfig):
        return config
    raise TypeError(f"expected TrytonConfig, got {type(config).__name__}")


def _elapsed_ms(started: float) -> int:
    return max(1, int((time.monotonic() - started) * 1000))

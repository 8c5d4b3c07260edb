"""Tryton's REST API as one session: paging with ``Range``, Tryton's JSON decoding, errors.

Tryton's quirks handled here: decimals encoded as ``{"__class__": "Decimal", "decimal":
"..."}``; dotted fields answered as nested objects; HTML error bodies; an exclusive end in
``Range``/``Content-Range`` and a total that may be ``*``; booleans as 0/1 on SQLite.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx
from django.utils.translation import gettext, gettext_lazy as _

from connectors.builtin.tryton.config import ErrorCode, TrytonConfig, TrytonError
from connectors.http_connector import GATEWAY_STATUSES, HttpConnector, body_text

#: A safety stop for paging through a list that never ends.
MAX_RECORDS = 10_000
# The Tryton module that brings each model the connector reads (for "module missing").
_MODULE_OF = {
    "product.price_list": "product_price_list",
    "product.product": "product",
    "company.company": "company",
}
_CONTENT_RANGE = re.compile(r"^\s*records\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


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


def _b64json(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def _like(text: str) -> str:
    """``%text%`` for Tryton's ``ilike``, with its wildcards and escape character escaped."""
    for char in "\\%_":
        text = text.replace(char, f"\\{char}")
    return f"%{text}%"


@dataclasses.dataclass(frozen=True)
class Ref:
    """A company or a price list: its id, name and currency."""

    id: int
    name: str
    currency: str


class TrytonSession:
    """One conversation with a Tryton server through one httpx client of ``connector``."""

    def __init__(
        self, connector: HttpConnector[TrytonConfig], cfg: TrytonConfig, client: httpx.Client
    ) -> None:
        self.connector = connector
        self.cfg = cfg
        self.client = client
        self.page_size = getattr(connector, "page_size", 100)
        self.base = str(cfg.server_url).rstrip("/")
        self.rest = f"{self.base}/{quote(cfg.database, safe='')}/rest/model"
        self.headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {cfg.api_key.get_secret_value()}",
        }

    # -- calls

    def server_version(self) -> str:
        """Tryton's version from ``common.server.version``; ``not_tryton`` when absent."""
        url = f"{self.base}/rpc/"
        body = {"method": "common.server.version", "params": [], "id": 1}
        response = self._send("POST", url, json=body, headers={})
        technical = f"POST {url} -> HTTP {response.status_code}"
        if response.status_code in GATEWAY_STATUSES:
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
                technical=self._redact(f"{technical}; body starts {body_text(response)!r}"),
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

    def companies(self, domain: Sequence[Any] = ()) -> list[Ref]:
        """The companies (matching ``domain``) the key's user may read."""
        records = self.search(
            "company.company", fields=["rec_name", "currency.code"], domain=domain
        )
        return [
            Ref(r["id"], _text(_field(r, "rec_name")), _text(_field(r, "currency.code")).upper())
            for r in records
            if isinstance(r.get("id"), int)
        ]

    def company(self) -> Ref:
        """The configured company; ``company_missing`` when it cannot be found or read."""
        found = self.companies([["id", "=", self.cfg.company]])
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
        return found[0]

    def price_lists(self) -> list[dict[str, Any]]:
        """The company's active price lists (``id``, ``name``, currency), by name."""
        records = self.search(
            "product.price_list",
            fields=["name", "active", "company.currency.code"],
            domain=[["company", "=", self.cfg.company]],
            order=[("name", "ASC"), ("id", "ASC")],
        )
        return [r for r in records if r.get("id") is not None and _bool(r.get("active", True))]

    def price_list(self, reference: str) -> Ref:
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
        currency = _text(_field(record, "company.currency.code")).upper()
        return Ref(record["id"], _text(record.get("name")), currency)

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
        return self.connector.request(self.client, self.cfg, method, url, **kwargs)

    def _json(self, response: httpx.Response, method: str, url: str) -> Any:
        try:
            return json.loads(response.content, object_hook=_decode_object, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._unexpected(
                method, url, f"not JSON ({exc}); body starts {body_text(response)!r}"
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
            technical=self._redact(f"{technical}; {body_text(response)!r}"),
            details={"http_status": response.status_code},
            unreachable=unreachable,
        )

    def _check(self, response: httpx.Response, method: str, url: str, model: str) -> None:
        """Raise the error that a non-2xx answer of the REST API stands for."""
        status = response.status_code
        if 200 <= status < 300:
            return
        technical = f"{method} {url} -> HTTP {status}"
        body = body_text(response)
        is_json = response.headers.get("content-type", "").startswith("application/json")
        if status == 500 and body.endswith(f"'{model}'") and model in _MODULE_OF:
            wording = "module"  # Tryton answers an unknown model with a KeyError
        elif status >= 500:
            raise self._server_error(response, technical, unreachable=status in GATEWAY_STATUSES)
        elif status in (401, 403, 404) or (status == 400 and is_json):
            wording = str(status)
        else:
            wording = "other"
        if status not in (401, 404):
            technical += f"; {body!r}"
        message, code = _STATUS_WORDING[wording]
        params = {"database": self.cfg.database, "status": status, "message": body}
        raise TrytonError(
            str(message % {**params, "module": _MODULE_OF.get(model, "")}),
            code=code,
            technical=self._redact(technical),
            details={"http_status": status},
        )

    def _redact(self, text: str) -> str:
        return self.connector.redact(self.cfg, text)


_STATUS_WORDING: dict[str, tuple[Any, ErrorCode]] = {
    "401": (
        _(
            "Tryton refused the API key. Check the key, and that it is a validated REST API "
            "application of an active user in this database."
        ),
        ErrorCode.KEY_REFUSED,
    ),
    "403": (
        _(
            "Tryton refused access. Check that the API key's user may read price lists, "
            "products and companies."
        ),
        ErrorCode.ACCESS_DENIED,
    ),
    "404": (
        _('The Tryton server has no database "%(database)s". Check the database name.'),
        ErrorCode.UNKNOWN_DATABASE,
    ),
    "400": (_("Tryton refused the request: %(message)s"), ErrorCode.TRYTON_REFUSED),
    "module": (
        _("The Tryton module %(module)s is not activated in database %(database)s."),
        ErrorCode.MODULE_MISSING,
    ),
    "other": (
        _("Unexpected response from the Tryton server (HTTP %(status)s)."),
        ErrorCode.UNEXPECTED_RESPONSE,
    ),
}

"""Small helpers shared by connectors that talk HTTP: common configuration fields, URL
checks, exception chains, redaction, hosts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
from django.utils.translation import gettext_lazy as _
from pydantic import AnyHttpUrl, Field
from pydantic_core import PydanticCustomError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


#: The section of the address, time limit and TLS fields.
CONNECTION = _("Connection")


def timeout_field(description: StrOrPromise) -> Any:
    """The *Timeout (seconds)* field: 1 to 60, default 10, at order 60."""
    return Field(
        10,
        ge=1,
        le=60,
        title=_("Timeout (seconds)"),
        description=description,
        json_schema_extra={"order": 60, "group": CONNECTION},
    )


def verify_tls_field(description: StrOrPromise) -> Any:
    """The *Verify TLS certificates* checkbox: on by default, at order 70."""
    return Field(
        True,
        title=_("Verify TLS certificates"),
        description=description,
        json_schema_extra={"order": 70, "group": CONNECTION},
    )


def check_plain_url(value: AnyHttpUrl, *, credentials: str, query: str) -> AnyHttpUrl:
    """Refuse credentials in a server URL (they would end up in messages and logs; they
    belong in the secret fields) and a query or fragment; the messages are the caller's."""
    if value.username or value.password:
        raise PydanticCustomError("credentials_in_url", credentials)
    if value.query or value.fragment:
        raise PydanticCustomError("query_in_url", query)
    return value


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and its causes/contexts, each once (cycles stop the walk)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***``; longer secrets first, so a secret
    that contains another is not left half visible."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def display_host(url: str) -> str:
    """``host`` or ``host:port`` of ``url`` for messages (IPv6 in brackets), no credentials."""
    parsed = httpx.URL(url)
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    return host if parsed.port is None else f"{host}:{parsed.port}"

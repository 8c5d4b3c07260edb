"""Small helpers shared by connectors that talk HTTP: exception chains, redaction, hosts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import httpx


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

"""Test-before-save proofs (PRODUCT.md section 5).

A successful test yields a signed token that binds the connector, a fingerprint of the exact
configuration (secrets resolved), the sync connection, the user and the connection being
edited; it expires after 15 minutes. The token holds only an HMAC fingerprint, never a
configuration value, so it may travel through the browser.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel

from connectors.schema import canonical_dict, canonical_json

PROOF_SALT = "connections.test-proof"
PROOF_MAX_AGE = 15 * 60


class ProofRefused(Exception):
    """No matching successful test: the message asks for a new one."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def config_fingerprint(
    *, connector_key: str, config: BaseModel, sync_connection_id: int | None
) -> str:
    """HMAC-SHA256 of the canonical JSON of what a test depends on."""
    canonical = canonical_json(
        {
            "connector": connector_key,
            "config": canonical_dict(config),
            "sync_connection": sync_connection_id,
        }
    )
    key = hashlib.sha256(f"{PROOF_SALT}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class TestClaim:
    """The test a proof stands for: it becomes the saved connection's last test."""

    __test__ = False

    at: datetime
    user_id: int
    status: str
    message: str


def proof_issue(
    *,
    fingerprint: str,
    user_id: int,
    connection_id: int | None,
    status: str = "ok",
    message: str = "",
    tested_at: datetime | None = None,
) -> str:
    """A signed, timestamped token for one successful test.

    Besides the fingerprint it carries the test's time, status and user message (never a
    configuration value), so the save can record the test that allowed it.
    """
    at = tested_at or timezone.now()
    payload: dict[str, Any] = {
        "fp": fingerprint,
        "u": user_id,
        "c": connection_id,
        "t": at.isoformat(),
        "s": status,
        "m": message[:1000],
    }
    return signing.dumps(payload, salt=PROOF_SALT, compress=False)


def _claim(payload: dict[str, Any]) -> TestClaim:
    try:
        at = datetime.fromisoformat(str(payload["t"]))
    except (KeyError, ValueError):
        at = timezone.now()
    return TestClaim(
        at=at,
        user_id=int(payload.get("u") or 0),
        status=str(payload.get("s") or "ok"),
        message=str(payload.get("m") or ""),
    )


def proof_check(
    token: str | None,
    *,
    fingerprint: str,
    user_id: int,
    connection_id: int | None,
    max_age: int = PROOF_MAX_AGE,
) -> TestClaim:
    """Raise :class:`ProofRefused` unless ``token`` proves a test of exactly these values;
    return the test it stands for."""
    if not token:
        raise ProofRefused(
            _("Test the ERP connection successfully before you save it."), code="proof_missing"
        )
    try:
        payload = signing.loads(token, salt=PROOF_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise ProofRefused(
            _("The last test is more than 15 minutes old. Test the ERP connection again."),
            code="proof_expired",
        ) from None
    except signing.BadSignature:
        raise ProofRefused(
            _("The test result could not be verified. Test the ERP connection again."),
            code="proof_tampered",
        ) from None
    if not isinstance(payload, dict):
        raise ProofRefused(
            _("The test result could not be verified. Test the ERP connection again."),
            code="proof_tampered",
        )
    if payload.get("u") != user_id or payload.get("c") != connection_id:
        raise ProofRefused(
            _("The test was run by another user or for another connection. Test again."),
            code="proof_other",
        )
    if not hmac.compare_digest(str(payload.get("fp", "")), fingerprint):
        raise ProofRefused(
            _("The values changed after the last test. Test the ERP connection again."),
            code="proof_changed",
        )
    return _claim(payload)

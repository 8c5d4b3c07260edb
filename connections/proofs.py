"""Test-before-save proofs (PRODUCT.md section 5).

A successful test yields a signed token that binds the connector, a fingerprint of the exact
configuration (secrets resolved), the sync connection, the user and the connection being
edited; it expires after 15 minutes. The token holds only an HMAC fingerprint, never a
configuration value, so it may travel through the browser.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.core import signing
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


def proof_issue(*, fingerprint: str, user_id: int, connection_id: int | None) -> str:
    """A signed, timestamped token for one successful test."""
    payload: dict[str, Any] = {"fp": fingerprint, "u": user_id, "c": connection_id}
    return signing.dumps(payload, salt=PROOF_SALT, compress=False)


def proof_check(
    token: str | None,
    *,
    fingerprint: str,
    user_id: int,
    connection_id: int | None,
    max_age: int = PROOF_MAX_AGE,
) -> None:
    """Raise :class:`ProofRefused` unless ``token`` proves a test of exactly these values."""
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

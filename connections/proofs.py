"""Test-before-save proofs (PRODUCT.md section 5).

A successful test yields a signed token that binds the connector, a fingerprint of the exact
configuration (secrets resolved), the sync connection, the user and the connection being
edited, and that connection's version (the counter every save increments); it expires
after 15 minutes and allows one save (a random nonce, recorded as spent by that save). The
token holds only an HMAC fingerprint, never a configuration value, so it may travel through
the browser.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel

from connections.models import SpentProof
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
    nonce: str = ""


def proof_issue(
    *,
    fingerprint: str,
    user_id: int,
    connection_id: int | None,
    status: str = "ok",
    message: str = "",
    tested_at: datetime | None = None,
    version: int | None = None,
) -> str:
    """A signed, timestamped, single-use token for one successful test.

    ``version`` is the tested connection's version (None when adding).
    Besides the fingerprint it carries the test's time, status and user message (never a
    configuration value), so the save can record the test that allowed it.
    """
    at = tested_at or timezone.now()
    payload: dict[str, Any] = {
        "fp": fingerprint,
        "u": user_id,
        "c": connection_id,
        "v": version,
        "n": secrets.token_urlsafe(16),
        "t": at.isoformat(),
        "s": status,
        "m": message[:1000],
    }
    return signing.dumps(payload, salt=PROOF_SALT, compress=False)


def _spent_refusal() -> ProofRefused:
    return ProofRefused(
        _("This test result was already used to save. Test again."), code="proof_spent"
    )


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
        nonce=str(payload.get("n") or ""),
    )


def proof_check(
    token: str | None,
    *,
    fingerprint: str,
    user_id: int,
    connection_id: int | None,
    version: int | None = None,
    max_age: int = PROOF_MAX_AGE,
) -> TestClaim:
    """Raise :class:`ProofRefused` unless ``token`` proves a test of exactly these values,
    of this version of the connection, not yet used to save. Returns the test it stands for
    (its ``nonce`` for :func:`proof_spend`)."""
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
    if not isinstance(payload, dict) or not isinstance(payload.get("n"), str):
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
    if payload.get("v") != version:
        raise ProofRefused(
            _("The connection was changed after this test. Test the ERP connection again."),
            code="proof_outdated",
        )
    claim = _claim(payload)
    if not claim.nonce or SpentProof.objects.filter(nonce=claim.nonce).exists():
        raise _spent_refusal()
    return claim


def proof_spend(nonce: str) -> None:
    """Record the proof as used; call it inside the transaction of the save it allows.

    Two saves racing with one proof: the second waits on the unique nonce and is refused.
    """
    SpentProof.objects.filter(
        spent_at__lt=timezone.now() - timedelta(seconds=PROOF_MAX_AGE * 2)
    ).delete()
    try:
        with transaction.atomic():
            SpentProof.objects.create(nonce=nonce)
    except IntegrityError:
        raise _spent_refusal() from None

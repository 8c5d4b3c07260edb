"""Encryption at rest of connection secrets (PRODUCT.md section 6).

Keys come from ``settings.ERP_SECRET_KEYS`` (the environment variable of the same name, a
comma-separated list). The first key encrypts; every key decrypts, so a key is rotated by
putting the new one first, running ``manage.py reencrypt_secrets`` and then dropping the old.

Each entry is either

* a Fernet key (32 random bytes, url-safe base64, e.g. from
  ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``),
  used as is; or
* any other string of at least :data:`MIN_PASSPHRASE_LENGTH` characters, a *passphrase*,
  turned into a Fernet key with HKDF-SHA256 (fixed salt and info, see :func:`derive_key`).
  HKDF does not slow down guessing, so a passphrase must be long and random; shorter ones
  are refused by the system check ``connections.E002``.

Without keys, under ``DEBUG`` a key is derived from ``SECRET_KEY`` exactly as a passphrase
would be (a warning is logged once). To keep such development data when moving to real
keys, set ``ERP_SECRET_KEYS="<new key>,<the old SECRET_KEY>"`` and re-encrypt. Without
keys and without ``DEBUG``, using secrets raises ``ImproperlyConfigured``, and the system
check ``connections.E001`` stops ``runserver``, ``migrate`` and ``check`` (see
``connections/checks.py``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import re
from collections.abc import Mapping, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

MIN_PASSPHRASE_LENGTH = 32
_HKDF_SALT = b"erpsettings.connections.secrets"
_HKDF_INFO = b"fernet-key-v1"

_FERNET_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{43}=$")

_warned_dev_key = False


class SecretsUnreadable(Exception):
    """Stored secrets that no configured key can decrypt (or that are not a secrets dict)."""


class InvalidSecretKey(ValueError):
    """An ``ERP_SECRET_KEYS`` entry that is neither a Fernet key nor a long passphrase."""


def is_fernet_key(entry: str) -> bool:
    """Whether ``entry`` is a Fernet key (url-safe base64 of 32 bytes, 44 characters)."""
    if not _FERNET_KEY_RE.match(entry):
        return False
    try:
        return len(base64.urlsafe_b64decode(entry.encode("ascii"))) == 32
    except (binascii.Error, ValueError):
        return False


def derive_key(passphrase: str) -> bytes:
    """The Fernet key derived from a passphrase: HKDF-SHA256, 32 bytes, fixed salt/info."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        passphrase.encode("utf-8")
    )
    return base64.urlsafe_b64encode(raw)


def key_problem(entry: str) -> str | None:
    """Why ``entry`` cannot be used as a key, or ``None`` when it can (never echoes it)."""
    if is_fernet_key(entry):
        return None
    if len(entry) < MIN_PASSPHRASE_LENGTH:
        return (
            f"it is not a Fernet key and, as a passphrase, shorter than "
            f"{MIN_PASSPHRASE_LENGTH} characters"
        )
    return None


def fernet_for(entry: str) -> Fernet:
    """A :class:`Fernet` for one ``ERP_SECRET_KEYS`` entry; raises :class:`InvalidSecretKey`."""
    problem = key_problem(entry)
    if problem:
        raise InvalidSecretKey(f"An ERP_SECRET_KEYS entry is invalid: {problem}.")
    return Fernet(entry.encode("ascii") if is_fernet_key(entry) else derive_key(entry))


@functools.lru_cache(maxsize=8)
def _multi_fernet(entries: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([fernet_for(entry) for entry in entries])


def configured_keys() -> list[str]:
    """The ``ERP_SECRET_KEYS`` entries, blanks dropped (a string is split on commas)."""
    keys: str | Sequence[str] = getattr(settings, "ERP_SECRET_KEYS", None) or []
    if isinstance(keys, str):
        keys = keys.split(",")
    return [k.strip() for k in keys if k and k.strip()]


def _keys() -> tuple[str, ...]:
    global _warned_dev_key
    keys = configured_keys()
    if keys:
        return tuple(keys)
    if not settings.DEBUG:
        raise ImproperlyConfigured(
            "ERP_SECRET_KEYS is not set: connection secrets cannot be encrypted. "
            "Set it to one or more comma-separated Fernet keys."
        )
    if not _warned_dev_key:
        _warned_dev_key = True
        logger.warning(
            "ERP_SECRET_KEYS is not set; encrypting connection secrets with a key derived "
            "from SECRET_KEY (development only)."
        )
    # The very key ERP_SECRET_KEYS="<SECRET_KEY>" would give, so dev data can be carried over.
    return (derive_key(settings.SECRET_KEY).decode("ascii"),)


def multi_fernet() -> MultiFernet:
    """The key ring: first key encrypts, all decrypt. Raises ``ImproperlyConfigured``."""
    return _multi_fernet(_keys())


def encrypt_secrets(secrets: Mapping[str, str]) -> str:
    """Encrypt a ``{name: clear value}`` dict under the first key; ``{}`` gives ``""``.

    The stored text is a JSON object of field names to Fernet tokens, one per value, so the
    names of the stored secrets can be read without decrypting any of them.
    """
    if not secrets:
        return ""
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in secrets.items()):
        raise TypeError("Secrets must map names to strings.")
    ring = multi_fernet()
    return json.dumps(
        {
            name: ring.encrypt(value.encode("utf-8")).decode("ascii")
            for name, value in secrets.items()
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def _tokens(stored: str) -> dict[str, str]:
    try:
        tokens = json.loads(stored)
    except ValueError as exc:
        raise SecretsUnreadable("Stored secrets are not in the expected format.") from exc
    if not isinstance(tokens, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tokens.items()
    ):
        raise SecretsUnreadable("Stored secrets are not a mapping of names to tokens.")
    return tokens


def secret_names(stored: str) -> set[str]:
    """The names of the stored secrets, without decrypting anything; ``""`` gives none."""
    return set(_tokens(stored)) if stored else set()


def decrypt_secrets(stored: str) -> dict[str, str]:
    """The ``{name: clear value}`` dict of stored secrets; ``""`` gives ``{}``.

    Raises :class:`SecretsUnreadable` when no key decrypts them.
    """
    if not stored:
        return {}
    ring = multi_fernet()
    try:
        return {
            name: ring.decrypt(token.encode("ascii")).decode("utf-8")
            for name, token in _tokens(stored).items()
        }
    except (InvalidToken, UnicodeError) as exc:
        raise SecretsUnreadable(
            "Stored secrets cannot be decrypted with any key in ERP_SECRET_KEYS."
        ) from exc


def rotate_token(stored: str) -> str:
    """Re-encrypt stored secrets under the first key (``""`` stays ``""``).

    Raises :class:`SecretsUnreadable` when no key decrypts them.
    """
    if not stored:
        return ""
    ring = multi_fernet()
    try:
        rotated = {
            name: ring.rotate(token.encode("ascii")).decode("ascii")
            for name, token in _tokens(stored).items()
        }
    except (InvalidToken, UnicodeError) as exc:
        raise SecretsUnreadable(
            "Stored secrets cannot be decrypted with any key in ERP_SECRET_KEYS."
        ) from exc
    return json.dumps(rotated, sort_keys=True, separators=(",", ":"))

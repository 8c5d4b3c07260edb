"""System checks for the secret keys (PRODUCT.md section 6: "a production start refuses").

How a production start is refused, precisely:

* ``connections.E001`` (Error, every run of the system checks): ``DEBUG`` is off and
  ``ERP_SECRET_KEYS`` is empty. Django runs the checks in ``runserver``, ``migrate`` and
  ``check`` (with or without ``--deploy``), so those commands stop with this error. The
  deployment runs ``manage.py migrate`` (and ``check --deploy``) before starting gunicorn,
  which therefore never starts. Should a process start anyway (gunicorn runs no checks),
  the first use of a secret raises ``ImproperlyConfigured`` in ``connections.crypto``:
  there is no silent fallback key outside ``DEBUG``.
* ``connections.E002`` (Error, every run): an entry of ``ERP_SECRET_KEYS`` is neither a
  Fernet key nor a passphrase of at least 32 characters. The entry itself is never shown.
* ``connections.E003`` (Error, ``check --deploy`` only): ``ERP_SECRET_KEYS`` is empty while
  ``DEBUG`` is on, i.e. the development fallback key is in use; a deployment must have keys.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from connections.crypto import configured_keys, key_problem

_HINT = (
    "Set the environment variable ERP_SECRET_KEYS to one or more comma-separated Fernet keys "
    '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
    "; the first encrypts, all decrypt."
)


@register(Tags.security)
def check_secret_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E001 when production (``DEBUG`` off) has no keys; E002 for each unusable key."""
    errors: list[CheckMessage] = []
    keys = configured_keys()
    if not keys and not settings.DEBUG:
        errors.append(
            Error(
                "ERP_SECRET_KEYS is not set: connection secrets cannot be encrypted.",
                hint=_HINT,
                id="connections.E001",
            )
        )
    for position, entry in enumerate(keys, start=1):
        problem = key_problem(entry)
        if problem:
            errors.append(
                Error(
                    f"ERP_SECRET_KEYS entry {position} is invalid: {problem}.",
                    hint=_HINT,
                    id="connections.E002",
                )
            )
    return errors


@register(Tags.security, deploy=True)
def check_secret_keys_deploy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E003 under ``check --deploy`` when the development fallback key would be used."""
    if configured_keys() or not settings.DEBUG:
        return []  # without DEBUG, E001 already says it
    return [
        Error(
            "ERP_SECRET_KEYS is not set: secrets are encrypted with a development key derived "
            "from SECRET_KEY.",
            hint=_HINT,
            id="connections.E003",
        )
    ]

"""Secrets at rest: encryption, key rotation, the re-encrypt command and the key checks."""

from __future__ import annotations

import logging
from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.checks import registry as check_registry
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.utils import timezone

from connections import checks, crypto
from connections.crypto import (
    SecretsUnreadable,
    decrypt_secrets,
    encrypt_secrets,
    rotate_token,
)
from connections.models import ERPConnection

SettingsWrapper = Any  # pytest-django's ``settings`` fixture

PASSPHRASE = "correct horse battery staple, but longer than 32"


@pytest.fixture
def old_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def new_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def keys(settings: SettingsWrapper, old_key: str) -> str:
    settings.ERP_SECRET_KEYS = [old_key]
    return old_key


@pytest.mark.usefixtures("keys")
def test_secrets_round_trip() -> None:
    secrets = {"api_token": "tok-123", "password": "pässwörd"}
    assert decrypt_secrets(encrypt_secrets(secrets)) == secrets


@pytest.mark.usefixtures("keys")
def test_no_secrets_are_stored_as_an_empty_string() -> None:
    assert encrypt_secrets({}) == ""
    assert decrypt_secrets("") == {}


@pytest.mark.usefixtures("keys")
def test_the_token_does_not_contain_the_clear_value() -> None:
    assert "tok-123" not in encrypt_secrets({"api_token": "tok-123"})


def test_a_passphrase_works_as_a_key(settings: SettingsWrapper) -> None:
    settings.ERP_SECRET_KEYS = [PASSPHRASE]
    assert decrypt_secrets(encrypt_secrets({"a": "b"})) == {"a": "b"}


def test_a_comma_separated_string_setting_is_accepted(
    settings: SettingsWrapper, old_key: str, new_key: str
) -> None:
    settings.ERP_SECRET_KEYS = f"{new_key}, {old_key}"
    assert crypto.configured_keys() == [new_key, old_key]


def test_an_old_key_in_second_place_still_decrypts(
    settings: SettingsWrapper, old_key: str, new_key: str
) -> None:
    settings.ERP_SECRET_KEYS = [old_key]
    token = encrypt_secrets({"api_token": "tok"})
    settings.ERP_SECRET_KEYS = [new_key, old_key]
    assert decrypt_secrets(token) == {"api_token": "tok"}


def test_the_first_key_encrypts(settings: SettingsWrapper, old_key: str, new_key: str) -> None:
    settings.ERP_SECRET_KEYS = [new_key, old_key]
    token = encrypt_secrets({"api_token": "tok"})
    settings.ERP_SECRET_KEYS = [new_key]
    assert decrypt_secrets(token) == {"api_token": "tok"}


def test_rotate_token_moves_a_token_to_the_first_key(
    settings: SettingsWrapper, old_key: str, new_key: str
) -> None:
    settings.ERP_SECRET_KEYS = [old_key]
    token = encrypt_secrets({"api_token": "tok"})
    settings.ERP_SECRET_KEYS = [new_key, old_key]
    rotated = rotate_token(token)
    settings.ERP_SECRET_KEYS = [new_key]
    assert decrypt_secrets(rotated) == {"api_token": "tok"}
    with pytest.raises(SecretsUnreadable):
        decrypt_secrets(token)


def test_a_token_of_an_unknown_key_is_unreadable(
    settings: SettingsWrapper, old_key: str, new_key: str
) -> None:
    settings.ERP_SECRET_KEYS = [old_key]
    token = encrypt_secrets({"api_token": "tok"})
    settings.ERP_SECRET_KEYS = [new_key]
    with pytest.raises(SecretsUnreadable):
        decrypt_secrets(token)


@pytest.mark.usefixtures("keys")
def test_garbage_is_unreadable_not_a_crash() -> None:
    with pytest.raises(SecretsUnreadable):
        decrypt_secrets("not a token ✗")


def test_without_keys_in_production_secrets_cannot_be_used(
    settings: SettingsWrapper,
) -> None:
    settings.ERP_SECRET_KEYS = []
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="ERP_SECRET_KEYS"):
        encrypt_secrets({"a": "b"})


def test_without_keys_in_development_a_derived_key_is_used_with_one_warning(
    settings: SettingsWrapper,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.ERP_SECRET_KEYS = []
    settings.DEBUG = True
    monkeypatch.setattr(crypto, "_warned_dev_key", False)
    with caplog.at_level(logging.WARNING, logger="connections.crypto"):
        token = encrypt_secrets({"a": "b"})
        assert decrypt_secrets(token) == {"a": "b"}
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_the_development_key_is_the_secret_key_as_a_passphrase(
    settings: SettingsWrapper,
) -> None:
    settings.ERP_SECRET_KEYS = []
    settings.DEBUG = True
    token = encrypt_secrets({"a": "b"})
    settings.DEBUG = False
    settings.ERP_SECRET_KEYS = [Fernet.generate_key().decode(), settings.SECRET_KEY]
    assert decrypt_secrets(token) == {"a": "b"}


# --- storage ----------------------------------------------------------------------------


def _connection(name: str, secrets: dict[str, str], **fields: object) -> ERPConnection:
    return ERPConnection.all_objects.create(
        name=name,
        connector_key="rest_json",
        config={"base_url": "https://erp.example.com"},
        secrets=encrypt_secrets(secrets),
        **fields,
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("keys")
def test_the_raw_database_column_never_holds_the_clear_secret() -> None:
    stored = _connection("Acme", {"api_token": "tok-CLEAR-VALUE"})
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT secrets, config FROM {ERPConnection._meta.db_table} WHERE id = %s",
            [stored.pk],
        )
        secrets_column, config_column = cursor.fetchone()
    assert "tok-CLEAR-VALUE" not in secrets_column
    assert "tok-CLEAR-VALUE" not in str(config_column)
    assert decrypt_secrets(secrets_column) == {"api_token": "tok-CLEAR-VALUE"}


@pytest.mark.django_db
def test_reencrypt_command_moves_every_secret_to_the_new_first_key(
    settings: SettingsWrapper, old_key: str, new_key: str
) -> None:
    settings.ERP_SECRET_KEYS = [old_key]
    live = _connection("Live", {"api_token": "one"})
    deleted = _connection("Gone", {"password": "two"}, deleted_at=timezone.now())
    _connection("No secrets", {})
    settings.ERP_SECRET_KEYS = [new_key, old_key]
    out = StringIO()
    call_command("reencrypt_secrets", stdout=out)
    settings.ERP_SECRET_KEYS = [new_key]
    assert decrypt_secrets(ERPConnection.all_objects.get(pk=live.pk).secrets) == {
        "api_token": "one"
    }
    assert decrypt_secrets(ERPConnection.all_objects.get(pk=deleted.pk).secrets) == {
        "password": "two"
    }
    assert "2 ERP connection(s)" in out.getvalue()


@pytest.mark.django_db
def test_reencrypt_command_does_not_touch_updated_at(
    settings: SettingsWrapper, old_key: str, new_key: str
) -> None:
    settings.ERP_SECRET_KEYS = [old_key]
    before = _connection("Live", {"api_token": "one"}).updated_at
    settings.ERP_SECRET_KEYS = [new_key, old_key]
    call_command("reencrypt_secrets", stdout=StringIO())
    assert ERPConnection.all_objects.get().updated_at == before


@pytest.mark.django_db
def test_reencrypt_command_changes_nothing_when_a_row_is_unreadable(
    settings: SettingsWrapper, old_key: str, new_key: str
) -> None:
    settings.ERP_SECRET_KEYS = [old_key]
    readable = _connection("Readable", {"api_token": "one"})
    settings.ERP_SECRET_KEYS = [Fernet.generate_key().decode()]
    lost = _connection("Lost key", {"api_token": "two"})
    settings.ERP_SECRET_KEYS = [new_key, old_key]
    with pytest.raises(CommandError, match=str(lost.pk)):
        call_command("reencrypt_secrets", stdout=StringIO())
    assert ERPConnection.all_objects.get(pk=readable.pk).secrets == readable.secrets


# --- system checks ----------------------------------------------------------------------


def _ids(messages: list) -> list[str]:
    return [m.id for m in messages]


def test_check_refuses_production_without_keys(settings: SettingsWrapper) -> None:
    settings.DEBUG = False
    settings.ERP_SECRET_KEYS = []
    assert _ids(checks.check_secret_keys()) == ["connections.E001"]


def test_check_allows_development_without_keys(settings: SettingsWrapper) -> None:
    settings.DEBUG = True
    settings.ERP_SECRET_KEYS = []
    assert checks.check_secret_keys() == []


def test_check_accepts_a_fernet_key_and_a_long_passphrase(
    settings: SettingsWrapper, old_key: str
) -> None:
    settings.DEBUG = False
    settings.ERP_SECRET_KEYS = [old_key, PASSPHRASE]
    assert checks.check_secret_keys() == []


def test_check_refuses_a_short_passphrase_without_showing_it(
    settings: SettingsWrapper, old_key: str
) -> None:
    settings.DEBUG = False
    settings.ERP_SECRET_KEYS = [old_key, "hunter2"]
    (error,) = checks.check_secret_keys()
    assert error.id == "connections.E002"
    assert "entry 2" in error.msg
    assert "hunter2" not in error.msg


def test_deploy_check_refuses_the_development_key(settings: SettingsWrapper) -> None:
    settings.DEBUG = True
    settings.ERP_SECRET_KEYS = []
    assert _ids(checks.check_secret_keys_deploy()) == ["connections.E003"]


def test_deploy_check_is_only_run_with_deploy() -> None:
    assert checks.check_secret_keys_deploy in check_registry.registry.get_checks(
        include_deployment_checks=True
    )
    assert checks.check_secret_keys_deploy not in check_registry.registry.get_checks()
    assert checks.check_secret_keys in check_registry.registry.get_checks()


def test_manage_py_check_fails_in_production_without_keys(
    settings: SettingsWrapper,
) -> None:
    settings.DEBUG = False
    settings.ERP_SECRET_KEYS = []
    with pytest.raises(SystemCheckError, match="connections.E001"):
        call_command("check", tags=["security"])

"""Business logic for ERP connections. Views, admin, API and commands call these."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections as db_connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _, ngettext
from pydantic import BaseModel, ValidationError as PydanticValidationError

from connections import crypto, notifications
from connections.context import connector_context
from connections.models import ConnectionEvent, ERPConnection, SyncConnection
from connections.names import name_key, validate_name
from connections.proofs import (
    ProofRefused,
    TestClaim,
    config_fingerprint,
    proof_check,
    proof_issue,
    proof_spend,
)
from connectors import registry
from connectors.base import Connector, TestResult, TestStatus, run_test
from connectors.schema import field_specs, merge_config, split_config, upgraded_values

# Tests per user and minute; ``settings.ERP_TESTS_PER_MINUTE`` overrides it (the benchmark).
TESTS_PER_MINUTE = 10


class RestoreRefused(ValidationError):
    """A restore that cannot happen; its message says why."""


def event_record(
    *,
    connection: ERPConnection,
    actor: User | None,
    action: str,
    changes: dict[str, Any] | None = None,
) -> ConnectionEvent:
    """Append a history entry. ``changes`` must never contain secret values."""
    return ConnectionEvent.objects.create(
        connection=connection, actor=actor, action=action, changes=changes or {}
    )


def _locked(connection: ERPConnection) -> ERPConnection:
    """The connection's row as it is now, locked until the transaction ends (PostgreSQL;
    SQLite serialises writing transactions instead). Services work on this row, never on
    the copy a view loaded before."""
    return ERPConnection.all_objects.select_for_update().get(pk=connection.pk)


def _copy_back(connection: ERPConnection, locked: ERPConnection, fields: Iterable[str]) -> None:
    """Let the caller's copy show what was written."""
    for field in fields:
        setattr(connection, field, getattr(locked, field))


@transaction.atomic
def connection_delete(*, actor: User, connection: ERPConnection) -> ERPConnection:
    """Soft-delete: record who and when, keep every other field. Deleting twice is a no-op,
    and racing deletes are recorded once."""
    locked = _locked(connection)
    if locked.deleted_at is None:
        locked.deleted_at = timezone.now()
        locked.deleted_by = actor
        locked.version += 1
        locked.save(update_fields=["deleted_at", "deleted_by", "version"])
        event_record(connection=locked, actor=actor, action=ConnectionEvent.Action.DELETE)
    _copy_back(connection, locked, ["deleted_at", "deleted_by_id", "version"])
    return locked


def connections_delete(*, actor: User, connections: Iterable[ERPConnection]) -> list[ERPConnection]:
    """Soft-delete several connections in one transaction (locked in id order, so two
    overlapping deletes cannot deadlock)."""
    with transaction.atomic():
        return [
            connection_delete(actor=actor, connection=c)
            for c in sorted(connections, key=lambda c: c.pk)
        ]


def _name_taken_error(name: str) -> RestoreRefused:
    return RestoreRefused(
        _('A live connection named "%(name)s" already exists. Rename one of them first.')
        % {"name": name},
        code="name_taken",
    )


@transaction.atomic
def connection_restore(*, actor: User, connection: ERPConnection) -> ERPConnection:
    """Bring a deleted connection back exactly as it was; racing restores are recorded once.

    Refused, with nothing changed, when a live connection has taken its name meanwhile.
    """
    locked = _locked(connection)
    if locked.deleted_at is not None:
        deleted_at = locked.deleted_at
        locked.deleted_at = None
        locked.deleted_by = None
        locked.version += 1
        try:
            locked.validate_constraints()
            with transaction.atomic():  # the database constraint is the final word (races)
                locked.save(update_fields=["deleted_at", "deleted_by", "version"])
        except (ValidationError, IntegrityError):
            raise _name_taken_error(locked.name) from None
        event_record(
            connection=locked,
            actor=actor,
            action=ConnectionEvent.Action.RESTORE,
            changes={"deleted_at": [deleted_at.isoformat(), None]},
        )
    _copy_back(connection, locked, ["deleted_at", "deleted_by_id", "version"])
    return locked


def restored_message(count: int) -> str:
    """The confirmation of a restore of ``count`` connections, for the list and the admin."""
    return ngettext("Restored %(count)d connection.", "Restored %(count)d connections.", count) % {
        "count": count
    }


def connections_restore(
    *, actor: User, connections: Iterable[ERPConnection]
) -> tuple[list[ERPConnection], list[str]]:
    """Restore each connection on its own; returns the restored ones and the messages of
    the refused ones (a refusal does not stop the others)."""
    restored: list[ERPConnection] = []
    refused: list[str] = []
    for connection in connections:
        try:
            restored.append(connection_restore(actor=actor, connection=connection))
        except RestoreRefused as exc:
            refused.append(" ".join(exc.messages))
    return restored, refused


# --- configuration, secrets and the test-before-save rule --------------------------------


class ConnectionInvalid(ValidationError):
    """A save or test refused; ``message_dict`` names the fields where possible."""


def connection_stored_secrets(*, connection: ERPConnection | None) -> dict[str, str]:
    """The clear secret values of a saved connection (decrypted only here, on demand).

    Decrypted once per connection instance: later calls in the same request reuse it.
    """
    if connection is None or not connection.secrets:
        return {}
    cached = getattr(connection, "_clear_secrets", None)
    if cached is not None and cached[0] == connection.secrets:
        return dict(cached[1])
    clear = crypto.decrypt_secrets(connection.secrets)
    connection._clear_secrets = (connection.secrets, clear)  # type: ignore[attr-defined]
    return dict(clear)


def connection_secret_names(*, connection: ERPConnection | None) -> set[str]:
    """Which secrets a saved connection has, without decrypting them."""
    if connection is None:
        return set()
    try:
        return crypto.secret_names(connection.secrets)
    except crypto.SecretsUnreadable:
        return set()


def connection_config_values(*, connection: ERPConnection) -> dict[str, Any]:
    """The saved public values in the installed connector's current shape (its
    ``migrate_config`` applied in memory; the row changes only when it is saved)."""
    connector_cls = registry.get_connector_class(connection.connector_key)
    return upgraded_values(connector_cls, connection.config, connection.config_version)


def connection_config(*, connection: ERPConnection) -> BaseModel:
    """The saved configuration as the connector's validated ``Config``, secrets resolved."""
    connector_cls = registry.get_connector_class(connection.connector_key)
    return merge_config(
        connector_cls.Config,
        connection_config_values(connection=connection),
        connection_stored_secrets(connection=connection),
    )


def connection_saved_fingerprint(*, connection: ERPConnection | None) -> str:
    """The fingerprint of what a test of the saved values depends on ("" when unreadable)."""
    if connection is None:
        return ""
    try:
        return config_fingerprint(
            connector_key=connection.connector_key,
            config=connection_config(connection=connection),
            sync_connection_id=connection.sync_connection_id,
        )
    except (registry.UnknownConnector, PydanticValidationError, crypto.SecretsUnreadable):
        return ""


def connection_name_taken(*, name: str, connection: ERPConnection | None) -> bool:
    """Whether another live connection already has this name, by its normalised key (the
    model's constraint, ``unique_live_erp_connection_name_key``, whose partial index
    answers it).

    Every test and save of the dialog asks. Through ``filter().exclude().exists()`` the ORM
    compiled the query anew each time (684 calls, 0.23 ms); its statement is written once
    and run with the new name (68 calls, 0.03 ms)."""
    with db_connections[ERPConnection.objects.db].cursor() as cursor:
        other = connection.pk if connection is not None else 0  # ids start at 1
        cursor.execute(_name_taken_sql(), [name_key(name), other])
        return cursor.fetchone() is not None


@functools.cache
def _name_taken_sql() -> str:
    """The ORM's statement for a live connection with a name key other than the given id."""
    taken = ERPConnection.objects.filter(name_key="key").exclude(pk=0).order_by().values("pk")
    sql, params = taken[:1].query.sql_with_params()
    assert params == ("key", 0), params  # the two parameters, in this order
    return sql


def _origin(url: Any) -> tuple[str, str, int | None] | None:
    if not url:
        return None
    parts = urlsplit(str(url))
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def connection_secrets_for(
    *, connection: ERPConnection | None, connector_key: str, values: Mapping[str, Any]
) -> dict[str, str]:
    """The stored secrets a dialog request may use with the posted ``values`` (``{name:
    raw value}``): none for another connector, or when a URL field points at another
    server, so a stored secret never follows a changed address."""
    if connection is None or connection.connector_key != connector_key:
        return {}
    connector_cls = registry.get_connector_class(connector_key)
    for spec in field_specs(connector_cls.Config):
        if spec.kind == "url" and _origin(connection.config.get(spec.name)) != _origin(
            values.get(spec.name)
        ):
            return {}
    try:
        return connection_stored_secrets(connection=connection)
    except crypto.SecretsUnreadable:
        return {}


def secrets_rebind_check(
    *,
    connector_cls: type[Connector],
    connection: ERPConnection | None,
    connector_key: str,
    config: BaseModel,
    kept_secrets: Iterable[str],
) -> None:
    """Refuse to send a kept (stored, not retyped) secret to a changed server address.

    A changed scheme, host or port of any URL field, or another connector, while a secret
    is left unchanged, raises :class:`ConnectionInvalid` on that secret's field.
    """
    kept = set(kept_secrets)
    if connection is None or not kept:
        return
    moved = connection.connector_key != connector_key or any(
        _origin(connection.config.get(spec.name)) != _origin(getattr(config, spec.name, None))
        for spec in field_specs(connector_cls.Config)
        if spec.kind == "url"
    )
    if not moved:
        return
    labels = {spec.name: spec.label for spec in field_specs(connector_cls.Config)}
    raise ConnectionInvalid(
        {
            f"config__{name}": _("Re-enter %(label)s to use it with the new server address.")
            % {"label": labels.get(name, name)}
            for name in sorted(kept)
        }
    )


def _rate_limit(actor: User) -> None:
    """At most TESTS_PER_MINUTE tests per user and minute, counted in the shared cache.

    Each test claims one of the minute's numbered slots with ``cache.add``, which is atomic
    in every backend (Redis SET NX, the database cache's unique key), so workers racing on
    several machines cannot count past the limit (``incr`` is a read and a write in the
    database cache).
    """
    limit = getattr(settings, "ERP_TESTS_PER_MINUTE", TESTS_PER_MINUTE)
    if limit is None:  # no limit (the benchmark's settings only)
        return
    minute = int(timezone.now().timestamp() // 60)
    for slot in range(limit):
        if cache.add(f"erp-connection-tests:{actor.pk}:{minute}:{slot}", 1, timeout=120):
            return
    raise ConnectionInvalid(
        _("Too many tests in a short time. Wait a minute and try again."),
        code="rate_limited",
    )


@dataclass(frozen=True)
class TestOutcome:
    """A test's result and, when it succeeded, the proof that allows saving these values.

    ``of_saved``: the values tested are the saved connection's, so its row was updated.
    """

    __test__ = False

    result: TestResult
    proof: str | None
    fingerprint: str
    of_saved: bool = False


def connection_test(
    *,
    actor: User,
    connector_key: str,
    config: BaseModel,
    sync_connection: SyncConnection | None = None,
    connection: ERPConnection | None = None,
    kept_secrets: Iterable[str] = (),
    saved_values: bool = False,
) -> TestOutcome:
    """Run the connector's test on these values and record it.

    Refuses (``ConnectionInvalid``) a kept secret aimed at a new server address and too many
    tests per minute. A successful test returns a proof bound to the values, the user and
    the connection, carrying the test itself (it becomes the last test when saved). A test
    of a saved connection's own values updates its last test; a test of changed, unsaved
    values is only recorded in its history, as a test of changes.
    """
    connector_cls = registry.get_connector_class(connector_key)
    secrets_rebind_check(
        connector_cls=connector_cls,
        connection=connection,
        connector_key=connector_key,
        config=config,
        kept_secrets=kept_secrets,
    )
    _rate_limit(actor)
    connector = connector_cls(connector_context())
    result = run_test(connector, config)
    fingerprint = config_fingerprint(
        connector_key=connector_key,
        config=config,
        sync_connection_id=sync_connection.pk if sync_connection else None,
    )
    tested_at = timezone.now()
    proof = None
    if result.succeeded:
        proof = proof_issue(
            fingerprint=fingerprint,
            user_id=actor.pk,
            connection_id=connection.pk if connection else None,
            version=connection.version if connection else None,
            status=str(result.status),
            message=str(result.message),
            tested_at=tested_at,
        )
    of_saved = connection is not None and (
        saved_values
        or hmac.compare_digest(fingerprint, connection_saved_fingerprint(connection=connection))
    )
    if connection is not None and of_saved:
        _record_test(actor=actor, connection=connection, result=result, saved_values=True)
    elif connection is not None:
        event_record(
            connection=connection,
            actor=actor,
            action=ConnectionEvent.Action.TEST,
            changes={**_test_changes(result), "unsaved": True},
        )
    return TestOutcome(result=result, proof=proof, fingerprint=fingerprint, of_saved=of_saved)


def _test_changes(result: TestResult) -> dict[str, Any]:
    return {
        "status": str(result.status),
        "error_code": result.error_code,
        "message": str(result.message)[:300],
    }


def _record_test(
    *, actor: User, connection: ERPConnection, result: TestResult, saved_values: bool = False
) -> None:
    """A test on the row's *Last test* and in the history; a test of the saved values also
    decides the connection's availability."""
    connection_result_record(
        connection=connection, result=result, actor=actor, availability=saved_values
    )


def _set_last_test(
    connection: ERPConnection, *, at: Any, actor: User | None, status: str, message: str
) -> None:
    connection.last_test_at = at
    connection.last_test_by = actor
    connection.last_test_status = status
    connection.last_test_message = message[:1000]


class TestRefusedByEnvironment(Exception):
    """A test that this process's settings refused before any ERP was asked (not recorded)."""

    __test__ = False

    def __init__(self, result: TestResult) -> None:
        super().__init__(result.technical_message or str(result.message))
        self.result = result


# Error codes that say "this machine's settings refused the call", not "the ERP failed".
ENVIRONMENT_ERROR_CODES = frozenset({"address_not_allowed"})


HISTORY_REPEAT_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class RecordedResult:
    """What recording a test or check did: ``changed`` when availability flipped."""

    available: bool
    changed: bool
    logged: bool


def connection_result_record(
    *,
    connection: ERPConnection,
    result: TestResult,
    actor: User | None = None,
    automatic: bool = False,
    availability: bool = True,
) -> RecordedResult | None:
    """Put a test result of the saved values on the row and, where due, in the history.

    With ``availability`` the result also makes the connection available (success) or
    unavailable (failure). The flip is a conditional UPDATE (``WHERE available = <old>``), so
    of two concurrent recorders only one makes it: one history entry and one e-mail to the
    administrators per change. A manual test is always in the history; an automatic check
    only when its status changed, its availability flipped, or once a day. Returns ``None``
    when the connection was deleted meanwhile.
    """
    now = timezone.now()
    status = str(result.status)
    message = str(result.message)[:1000]
    available = result.succeeded
    fields: dict[str, Any] = {
        "last_test_at": now,
        "last_test_by": actor,
        "last_test_status": status,
        "last_test_message": message,
        "last_test_automatic": automatic,
    }
    live = ERPConnection.objects.filter(pk=connection.pk)
    with transaction.atomic():
        changed = availability and _availability_flip(
            connection=connection, available=available, message=message, status=status, **fields
        )
        if availability and not changed and not available:
            fields["availability_message"] = message  # the latest reason
        if not changed and not live.update(**fields):
            return None  # deleted while it was being tested
        logged = (
            not automatic
            or changed
            or status != connection.last_test_status
            or not connection.events.filter(
                action=ConnectionEvent.Action.CHECK, at__gte=now - HISTORY_REPEAT_AFTER
            ).exists()
        )
        if logged:
            changes: dict[str, Any] = {"status": status, "error_code": result.error_code}
            if automatic:
                changes["message"] = message
            if changed:
                changes["available"] = [not available, available]
            event_record(
                connection=connection,
                actor=actor,
                action=ConnectionEvent.Action.CHECK if automatic else ConnectionEvent.Action.TEST,
                changes=changes,
            )
    for name, value in fields.items():
        setattr(connection, name, value)
    return RecordedResult(available=available, changed=changed, logged=logged)


def _availability_flip(
    *, connection: ERPConnection, available: bool, message: str, status: str, **fields: Any
) -> bool:
    """Make a live connection available or unavailable, with ``fields`` in the same UPDATE.

    Conditional (``WHERE available = <old>``): of concurrent callers only one flips it, and
    only that one has the administrators told, after its commit. True when it flipped.
    """
    now = timezone.now()
    flipped = ERPConnection.objects.filter(pk=connection.pk, available=not available).update(
        available=available,
        availability_message="" if available else message,
        availability_changed_at=now,
        **fields,
    )
    if not flipped:
        return False
    connection.available = available
    connection.availability_message = "" if available else message
    connection.availability_changed_at = now
    transaction.on_commit(
        partial(
            notifications.availability_notify,
            connection_id=connection.pk,
            available=available,
            message=message,
            status=status,
        )
    )
    return True


def connection_saved_config(
    *, connection: ERPConnection
) -> tuple[type[Connector], BaseModel] | TestResult:
    """The connector and validated configuration of a saved connection, or the ``error``
    result that says why it cannot be tested (connector missing, configuration invalid)."""
    try:
        connector_cls = registry.get_connector_class(connection.connector_key)
        return connector_cls, connection_config(connection=connection)
    except registry.UnknownConnector:
        return TestResult(
            TestStatus.ERROR,
            _("The quote connector of this connection is not installed."),
            technical_message=f"connector {connection.connector_key!r} is not registered",
            error_code="connector_missing",
        )
    except (PydanticValidationError, crypto.SecretsUnreadable) as exc:
        return TestResult(
            TestStatus.ERROR,
            _("The saved configuration is not valid any more. Edit the connection."),
            technical_message=type(exc).__name__,
            error_code="config_invalid",
        )


def connection_test_saved(
    *, actor: User, connection: ERPConnection, record_environment_refusal: bool = True
) -> TestResult:
    """Test a saved connection as stored (the list's *Test ERP connection*, the command).

    The result decides its availability, like the health check's. With
    ``record_environment_refusal=False`` a test that the environment refused (the secrets
    cannot be read with these keys, or the address rules refuse the host) raises
    :class:`TestRefusedByEnvironment` and is not recorded as the connection's last test.
    """
    if not record_environment_refusal:
        _environment_check(connection)
    saved = connection_saved_config(connection=connection)
    if isinstance(saved, TestResult):
        _record_test(actor=actor, connection=connection, result=saved, saved_values=True)
        return saved
    if not record_environment_refusal:
        _rate_limit(actor)
        result = run_test(saved[0](connector_context()), saved[1])
        if result.error_code in ENVIRONMENT_ERROR_CODES:
            raise TestRefusedByEnvironment(result)
        _record_test(actor=actor, connection=connection, result=result, saved_values=True)
        return result
    return connection_test(
        actor=actor,
        connector_key=connection.connector_key,
        config=saved[1],
        sync_connection=connection.sync_connection,
        connection=connection,
        saved_values=True,
    ).result


def _environment_check(connection: ERPConnection) -> None:
    """Raise :class:`TestRefusedByEnvironment` when this process cannot read the secrets."""
    try:
        connection_stored_secrets(connection=connection)
    except crypto.SecretsUnreadable as exc:
        raise TestRefusedByEnvironment(
            TestResult(
                TestStatus.ERROR,
                _("The stored secrets cannot be read with the configured keys."),
                technical_message=(
                    f"{type(exc).__name__}: check ERP_SECRET_KEYS (the keys the secrets were "
                    "encrypted with; make run uses DEBUG=true, which derives one from SECRET_KEY)"
                ),
                error_code="secrets_unreadable",
            )
        ) from None


# At most this many selected rows are tested at once; with the rate limit of
# TESTS_PER_MINUTE per user, one request never runs more.
TEST_CONCURRENCY = 10


@dataclass(frozen=True)
class SavedTest:
    """The outcome of testing one selected row: its result, or why it was not run."""

    __test__ = False

    connection: ERPConnection
    result: TestResult | None
    refused: str = ""


def _run_test_in_thread(
    connector_cls: type[Connector], config: BaseModel, language: str | None
) -> TestResult:
    """One connector test in a pool thread, in the request's language; the thread's own
    database connection (a connector may read the register) is closed afterwards."""
    try:
        connector = connector_cls(connector_context())
        with translation.override(language):
            return run_test(connector, config)
    finally:
        db_connections.close_all()


def connections_test_saved(*, actor: User, connections: Sequence[ERPConnection]) -> list[SavedTest]:
    """Test several saved connections as stored, at once (a bounded thread pool), so the
    request takes about the slowest test, not the sum of their timeouts. Tests beyond the
    rate limit are not run; results are recorded one by one in the calling thread, and
    decide each connection's availability as :func:`connection_test_saved` does."""
    outcomes: dict[int, SavedTest] = {}
    runnable: list[tuple[ERPConnection, type[Connector], BaseModel]] = []
    for connection in connections:
        saved = connection_saved_config(connection=connection)
        if isinstance(saved, TestResult):
            _record_test(actor=actor, connection=connection, result=saved, saved_values=True)
            outcomes[connection.pk] = SavedTest(connection, saved)
            continue
        try:
            _rate_limit(actor)
        except ConnectionInvalid as exc:
            outcomes[connection.pk] = SavedTest(connection, None, " ".join(exc.messages))
            continue
        runnable.append((connection, *saved))
    results: list[TestResult] = []
    if len(runnable) == 1:  # nothing to wait for side by side
        _connection, connector_cls, config = runnable[0]
        results = [run_test(connector_cls(connector_context()), config)]
    elif runnable:
        language = translation.get_language()
        with ThreadPoolExecutor(
            max_workers=min(TEST_CONCURRENCY, len(runnable)), thread_name_prefix="erp-test"
        ) as pool:
            results = list(
                pool.map(lambda item: _run_test_in_thread(item[1], item[2], language), runnable)
            )
    for (connection, _cls, _config), result in zip(runnable, results, strict=True):
        _record_test(actor=actor, connection=connection, result=result, saved_values=True)
        outcomes[connection.pk] = SavedTest(connection, result)
    return [outcomes[c.pk] for c in connections]


def _check_sync_connection(
    connector_cls: type[Connector], sync_connection: SyncConnection | None
) -> None:
    if connector_cls.sync_connection == "none" and sync_connection is not None:
        raise ConnectionInvalid(
            {"sync_connection": _("This quote connector does not use an ERP connection.")}
        )
    if connector_cls.sync_connection == "required" and sync_connection is None:
        raise ConnectionInvalid(
            {"sync_connection": _("This quote connector requires an ERP connection.")}
        )
    if sync_connection is not None and (
        not sync_connection.active or sync_connection.deleted_at is not None
    ):
        raise ConnectionInvalid({"sync_connection": _("Choose an active ERP connection.")})


def _check_scope(scope: str, users: list[Any], groups: list[Group]) -> None:
    if scope == ERPConnection.Scope.SPECIFIC and not users and not groups:
        raise ConnectionInvalid({"scope": _("Select at least one user or group, or choose All.")})


def _check_proof(
    *,
    actor: User,
    connector_key: str,
    config: BaseModel,
    sync_connection: SyncConnection | None,
    connection: ERPConnection | None,
    proof: str | None,
) -> TestClaim:
    """Refuse unless ``proof`` allows saving these values; then spend it (call this inside
    the save's transaction: a save that fails later leaves the proof unspent). Returns the
    test the proof stands for."""
    fingerprint = config_fingerprint(
        connector_key=connector_key,
        config=config,
        sync_connection_id=sync_connection.pk if sync_connection else None,
    )
    try:
        claim = proof_check(
            proof,
            fingerprint=fingerprint,
            user_id=actor.pk,
            connection_id=connection.pk if connection else None,
            version=connection.version if connection else None,
        )
        proof_spend(claim.nonce)
    except ProofRefused as exc:
        raise ConnectionInvalid(exc.message, code=exc.code) from None
    return claim


def _check_name(name: str) -> str:
    name = name.strip()
    try:
        validate_name(name)
    except ValidationError as exc:
        raise ConnectionInvalid({"name": exc.messages}) from None
    return name


def _save_unique(connection: ERPConnection, update_fields: list[str] | None = None) -> None:
    connection.name_key = name_key(connection.name)
    try:
        connection.validate_constraints()
        with transaction.atomic():
            connection.save(update_fields=update_fields)
    except (ValidationError, IntegrityError):
        raise ConnectionInvalid(
            {"name": _("A connection with this name already exists.")}
        ) from None


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


@transaction.atomic
def connection_create(
    *,
    actor: User,
    name: str,
    connector_key: str,
    config: BaseModel,
    proof: str | None,
    description: str = "",
    scope: str = ERPConnection.Scope.ALL,
    users: Iterable[Any] = (),
    groups: Iterable[Group] = (),
    sync_connection: SyncConnection | None = None,
) -> ERPConnection:
    """Create a connection; refused without a proof of a successful test of these values."""
    connector_cls = registry.get_connector_class(connector_key)
    users, groups = list(users), list(groups)
    name = _check_name(name)
    _check_sync_connection(connector_cls, sync_connection)
    _check_scope(scope, users, groups)
    claim = _check_proof(
        actor=actor,
        connector_key=connector_key,
        config=config,
        sync_connection=sync_connection,
        connection=None,
        proof=proof,
    )
    public, secrets = split_config(config)
    connection = ERPConnection(
        name=name,
        connector_key=connector_key,
        description=description,
        scope=scope,
        sync_connection=sync_connection,
        config=public,
        config_version=connector_cls.config_version,
        secrets=crypto.encrypt_secrets(secrets) if secrets else "",
        created_by=actor,
        updated_by=actor,
    )
    _set_last_test(connection, at=claim.at, actor=actor, status=claim.status, message=claim.message)
    _save_unique(connection)
    connection.users.set(users if scope == ERPConnection.Scope.SPECIFIC else [])
    connection.groups.set(groups if scope == ERPConnection.Scope.SPECIFIC else [])
    event_record(
        connection=connection,
        actor=actor,
        action=ConnectionEvent.Action.CREATE,
        changes={
            "name": connection.name,
            "connector": connector_key,
            "config": public,
            "secrets_set": sorted(secrets),
        },
    )
    _record_claimed_test(connection=connection, actor=actor, claim=claim)
    return connection


def _configuration_of(connection: ERPConnection) -> tuple[Any, ...]:
    return (
        connection.connector_key,
        connection.config,
        connection.secrets,
        connection.sync_connection_id,
    )


def _record_claimed_test(*, connection: ERPConnection, actor: User, claim: TestClaim) -> None:
    """The test that allowed a save, in the history at the time it ran."""
    event = event_record(
        connection=connection,
        actor=actor,
        action=ConnectionEvent.Action.TEST,
        changes={"status": claim.status, "error_code": "", "message": claim.message[:300]},
    )
    ConnectionEvent.objects.filter(pk=event.pk).update(at=claim.at)


@transaction.atomic
def connection_update(
    *,
    actor: User,
    connection: ERPConnection,
    name: str,
    connector_key: str,
    config: BaseModel,
    proof: str | None,
    description: str = "",
    scope: str = ERPConnection.Scope.ALL,
    users: Iterable[Any] = (),
    groups: Iterable[Group] = (),
    sync_connection: SyncConnection | None = None,
    kept_secrets: Iterable[str] = (),
) -> ERPConnection:
    """Change a connection. Changing only name, scope or description needs no new test;
    a changed connector, sync connection or configuration needs a matching proof.

    ``connection`` is the copy the edit started from: only what differs from it is
    written, onto the row as it is now (locked), so a concurrent change of another field
    survives. An edit of a connection deleted meanwhile is refused and changes nothing.
    """
    locked = _locked_alive(connection)
    connector_cls = registry.get_connector_class(connector_key)
    users, groups = list(users), list(groups)
    name = _check_name(name)
    _check_sync_connection(connector_cls, sync_connection)
    _check_scope(scope, users, groups)
    secrets_rebind_check(
        connector_cls=connector_cls,
        connection=connection,
        connector_key=connector_key,
        config=config,
        kept_secrets=kept_secrets,
    )
    new_fingerprint = config_fingerprint(
        connector_key=connector_key,
        config=config,
        sync_connection_id=sync_connection.pk if sync_connection else None,
    )
    # The configuration (connector, sync connection, values, secrets) changes as a whole.
    config_changed = new_fingerprint != connection_saved_fingerprint(connection=connection)
    if config_changed and _configuration_of(locked) != _configuration_of(connection):
        config_changed = new_fingerprint != connection_saved_fingerprint(connection=locked)
    changed_secrets: list[str] = []
    configuration = None
    # A configuration saved under an older config_version is saved in the current shape
    # (no new test: its fingerprint, read through the upgrade, is the same).
    upgrade = not config_changed and locked.config_version != connector_cls.config_version
    claim: TestClaim | None = None
    if config_changed:
        claim = _check_proof(
            actor=actor,
            connector_key=connector_key,
            config=config,
            sync_connection=sync_connection,
            connection=locked,
            proof=proof,
        )
    if config_changed or upgrade:
        public, secrets = split_config(config)
        try:
            old_secrets = connection_stored_secrets(connection=locked)
        except crypto.SecretsUnreadable:  # a lost key: the retyped secrets replace them
            old_secrets = {}
        changed_secrets = sorted(
            k for k in set(secrets) | set(old_secrets) if secrets.get(k) != old_secrets.get(k)
        )
        configuration = (
            connector_key,
            public,
            connector_cls.config_version,
            crypto.encrypt_secrets(secrets) if secrets else "",
            sync_connection,
        )
    return _write_update(
        actor=actor,
        base=connection,
        locked=locked,
        name=name,
        description=description,
        scope=scope,
        users=users,
        groups=groups,
        configuration=configuration,
        changed_secrets=changed_secrets,
        claim=claim,
    )


@transaction.atomic
def connection_update_details(
    *,
    actor: User,
    connection: ERPConnection,
    name: str,
    description: str,
    scope: str,
    users: Iterable[Any] = (),
    groups: Iterable[Group] = (),
) -> ERPConnection:
    """Change what needs no test (name, description, scope), as the admin does; the same
    rules as :func:`connection_update` otherwise."""
    locked = _locked_alive(connection)
    users, groups = list(users), list(groups)
    name = _check_name(name)
    _check_scope(scope, users, groups)
    return _write_update(
        actor=actor,
        base=connection,
        locked=locked,
        name=name,
        description=description,
        scope=scope,
        users=users,
        groups=groups,
        configuration=None,
        changed_secrets=[],
    )


def _locked_alive(connection: ERPConnection) -> ERPConnection:
    locked = _locked(connection)
    if locked.deleted_at is not None:
        raise ConnectionInvalid(
            _("This connection was deleted meanwhile. Restore it first."), code="deleted"
        )
    return locked


def _write_update(
    *,
    actor: User,
    base: ERPConnection,
    locked: ERPConnection,
    name: str,
    description: str,
    scope: str,
    users: list[Any],
    groups: list[Group],
    configuration: tuple[str, dict[str, Any], int, str, SyncConnection | None] | None,
    changed_secrets: list[str],
    claim: TestClaim | None = None,
) -> ERPConnection:
    """Write onto ``locked`` the fields whose new value differs from ``base`` (the copy
    the edit started from), only those, and record what changed."""
    before = {
        "name": locked.name,
        "connector": locked.connector_key,
        "description": locked.description,
        "scope": locked.scope,
        "sync_connection": locked.sync_connection_id,
        "config": locked.config,
        "config_version": locked.config_version,
    }
    update_fields: list[str] = []
    for field, value in (("name", name), ("description", description), ("scope", scope)):
        if value != getattr(base, field) and value != getattr(locked, field):
            setattr(locked, field, value)
            update_fields.append(field)
    if "name" in update_fields:
        update_fields.append("name_key")
    if configuration is not None:
        (
            locked.connector_key,
            locked.config,
            locked.config_version,
            locked.secrets,
            locked.sync_connection,
        ) = configuration
        update_fields += ["connector_key", "config", "config_version", "secrets", "sync_connection"]
    if claim is not None:  # the test that allowed this save is the last test of these values
        _set_last_test(locked, at=claim.at, actor=actor, status=claim.status, message=claim.message)
        locked.last_test_automatic = False
        update_fields += [
            "last_test_at",
            "last_test_by",
            "last_test_status",
            "last_test_message",
            "last_test_automatic",
        ]
    old_users = set(locked.users.values_list("pk", flat=True))
    old_groups = set(locked.groups.values_list("pk", flat=True))
    specific = locked.scope == ERPConnection.Scope.SPECIFIC
    new_users = {u.pk for u in users} if specific else set()
    new_groups = {g.pk for g in groups} if specific else set()
    if not update_fields and new_users == old_users and new_groups == old_groups:
        return locked  # nothing changed: nothing written, the version stays
    locked.updated_by = actor
    locked.version += 1
    _save_unique(locked, [*update_fields, "updated_at", "updated_by", "version"])
    if new_users != old_users:
        locked.users.set(new_users)
    if new_groups != old_groups:
        locked.groups.set(new_groups)
    after = {
        "name": locked.name,
        "connector": locked.connector_key,
        "description": locked.description,
        "scope": locked.scope,
        "sync_connection": locked.sync_connection_id,
        "config": locked.config,
        "config_version": locked.config_version,
    }
    changes = _changes(before, after)
    if changed_secrets:
        changes["secrets_changed"] = changed_secrets
    if new_users != old_users:
        changes["users"] = [sorted(old_users), sorted(new_users)]
    if new_groups != old_groups:
        changes["groups"] = [sorted(old_groups), sorted(new_groups)]
    # A new proof says these very values just tested OK: no longer unavailable.
    if claim is not None and _availability_flip(
        connection=locked, available=True, message="", status="ok"
    ):
        changes["available"] = [False, True]
    if changes:
        event_record(
            connection=locked,
            actor=actor,
            action=ConnectionEvent.Action.CHANGE,
            changes=changes,
        )
    return locked

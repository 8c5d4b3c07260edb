"""The registry of installed quote connectors (STYLE.md convention 5).

A dict keyed by connector ``key``. Connectors enter it in two ways:

* built-ins: the classes named in :data:`BUILTIN_CONNECTORS` (``"module:Class"``, the
  form of an entry point). A built-in that is invalid (bad attributes, an unsupported
  ``Config`` field type, a duplicate key) raises at start-up: that is a bug in this project
  and must not be hidden.
* plugins: installed packages that declare an entry point in the group
  ``erpsettings.quote_connectors`` whose object is a :class:`~connectors.base.Connector`
  subclass (``name = "package.module:ConnectorClass"``). A plugin that fails to import, is
  not a connector class, is invalid or reuses a taken key is logged, recorded as a
  :class:`LoadFailure` (see :func:`load_failures`) and skipped; it never stops start-up.

:func:`load_plugins` runs once (``ConnectionsConfig.ready`` calls it); the lookups call it
lazily too, so scripts that never start Django still see every connector.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from connectors.base import Capability, Connector
from connectors.schema import UnsupportedFieldType, check_config_schema, field_specs

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "erpsettings.quote_connectors"

BUILTIN_CONNECTORS: tuple[str, ...] = (
    "connectors.builtin.product_register:ProductRegisterConnector",
    "connectors.builtin.rest_json:RestJsonConnector",
    "connectors.builtin.tryton:TrytonConnector",
)

SYNC_USAGES = frozenset({"none", "optional", "required"})

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


class ConnectorRegistrationError(ValueError):
    """A connector class that cannot be registered; the message says why."""


class DuplicateConnector(ConnectorRegistrationError):
    """Another connector class already holds this key."""


class UnknownConnector(KeyError):
    """No installed connector has this key."""


@dataclass(frozen=True)
class LoadFailure:
    """A plugin that was skipped: its entry point ``name``, distribution and the reason."""

    name: str
    dist: str
    reason: str


_connectors: dict[str, type[Connector[Any]]] = {}
_failures: list[LoadFailure] = []
_loaded = False
_loading = False
_lock = threading.RLock()


def _describe(cls: Any) -> str:
    return f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', repr(cls))}"


def check_connector_class(cls: Any) -> None:
    """Raise :class:`ConnectorRegistrationError` unless ``cls`` is a valid connector class.

    Checks: a :class:`Connector` subclass with a ``key`` (lowercase identifier, at most 100
    characters), a non-empty ``label``, a pydantic ``Config`` whose every field the dialog
    supports, ``capabilities`` within :class:`Capability`, ``sync_connection`` in
    none/optional/required, and its own ``test_connection``.
    """
    if not (inspect.isclass(cls) and issubclass(cls, Connector)):
        raise ConnectorRegistrationError(f"{cls!r} is not a subclass of connectors.base.Connector.")
    name = _describe(cls)
    key = getattr(cls, "key", None)
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise ConnectorRegistrationError(
            f"{name}: key must be a lowercase identifier (a-z, 0-9, _), got {key!r}."
        )
    label = getattr(cls, "label", None)
    if label is None or not str(label).strip():
        raise ConnectorRegistrationError(f"{name}: label must not be empty.")
    config = getattr(cls, "Config", None)
    if not (inspect.isclass(config) and issubclass(config, BaseModel)):
        raise ConnectorRegistrationError(f"{name}: Config must be a pydantic BaseModel subclass.")
    try:
        check_config_schema(config)
    except UnsupportedFieldType as exc:
        raise ConnectorRegistrationError(f"{name}: {exc}") from exc
    for spec in field_specs(config):
        if spec.choices_from and not callable(getattr(cls, spec.choices_from, None)):
            raise ConnectorRegistrationError(
                f"{name}: field {spec.name!r} takes its choices from {spec.choices_from!r}, "
                "which the connector does not define."
            )
    capabilities = getattr(cls, "capabilities", None)
    if isinstance(capabilities, str) or not isinstance(capabilities, Iterable):
        raise ConnectorRegistrationError(f"{name}: capabilities must be a set of names.")
    unknown = sorted(str(c) for c in capabilities if c not in Capability._value2member_map_)
    if unknown:
        raise ConnectorRegistrationError(
            f"{name}: unknown capabilities {unknown}; "
            f"allowed: {sorted(c.value for c in Capability)}."
        )
    if getattr(cls, "sync_connection", None) not in SYNC_USAGES:
        raise ConnectorRegistrationError(
            f"{name}: sync_connection must be one of none/optional/required, "
            f"got {getattr(cls, 'sync_connection', None)!r}."
        )
    if cls.test_connection is Connector.test_connection and cls.check is Connector.check:
        raise ConnectorRegistrationError(
            f"{name}: implement check (or test_connection) to test a connection."
        )
    version = getattr(cls, "config_version", None)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ConnectorRegistrationError(
            f"{name}: config_version must be a positive integer, got {version!r}."
        )


def register[C: type[Connector[Any]]](cls: C) -> C:
    """Validate ``cls`` and add it under its ``key`` (built-ins and plugins both end here).

    Raises :class:`ConnectorRegistrationError` for an invalid class and
    :class:`DuplicateConnector` when another class holds the key. Registering the very
    same class again is a no-op. Capabilities are normalised to a frozenset of
    :class:`Capability`.
    """
    check_connector_class(cls)
    with _lock:
        existing = _connectors.get(cls.key)
        if existing is cls:
            return cls
        if existing is not None:
            raise DuplicateConnector(
                f"Connector key {cls.key!r} of {_describe(cls)} is already registered by "
                f"{_describe(existing)}."
            )
        cls.capabilities = frozenset(Capability(c) for c in cls.capabilities)
        _connectors[cls.key] = cls
    return cls


def get_connector_class(key: str) -> type[Connector[Any]]:
    """The connector class for ``key``; raises :class:`UnknownConnector` (a ``KeyError``)."""
    load_plugins()
    try:
        return _connectors[key]
    except KeyError:
        raise UnknownConnector(key) from None


def connector_classes() -> list[type[Connector[Any]]]:
    """Every registered connector class, sorted by its (translated) label, then key."""
    load_plugins()
    return sorted(_connectors.values(), key=lambda c: (str(c.label).casefold(), c.key))


def connector_keys() -> list[str]:
    """Every registered connector's key, sorted (what a posted choice is checked against)."""
    load_plugins()
    return sorted(_connectors)


def connector_choices() -> list[tuple[str, Any]]:
    """``(key, label)`` pairs for a select, in :func:`connector_classes` order."""
    return [(cls.key, cls.label) for cls in connector_classes()]


def load_failures() -> list[LoadFailure]:
    """The plugins skipped by :func:`load_plugins`, in discovery order."""
    load_plugins()
    return list(_failures)


def _load_object(path: str) -> Any:
    """The object a ``"module:attribute"`` path names (the value of an entry point)."""
    module_name, _sep, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def _register_object(obj: Any, origin: str) -> None:
    """The one way into the registry: ``obj`` must be a connector class; then register it."""
    if not (inspect.isclass(obj) and issubclass(obj, Connector)):
        raise ConnectorRegistrationError(f"{origin!r} is {obj!r}, not a Connector subclass.")
    register(obj)


def _entry_points() -> Iterable[importlib.metadata.EntryPoint]:
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def _load_entry_point(entry_point: importlib.metadata.EntryPoint) -> None:
    _register_object(entry_point.load(), f"Entry point {entry_point.value}")


def _record_failure(entry_point: importlib.metadata.EntryPoint, reason: str) -> None:
    dist = entry_point.dist.name if entry_point.dist is not None else ""
    failure = LoadFailure(name=entry_point.name, dist=dist, reason=reason)
    _failures.append(failure)
    logger.error(
        "Quote connector plugin %r from %s was skipped: %s",
        failure.name,
        failure.dist or "an unknown distribution",
        failure.reason,
    )


def load_plugins(*, entry_points: Callable[[], Iterable[Any]] | None = None) -> None:
    """Register the built-ins, then every entry-point plugin; runs once (idempotent).

    A failing built-in raises. A failing plugin is logged and recorded as a
    :class:`LoadFailure`, never raised. ``entry_points`` replaces the discovery (tests).
    """
    global _loaded, _loading
    if _loaded:
        return
    with _lock:
        if _loaded or _loading:  # _loading: a module being imported asked for the registry
            return
        _loading = True
        _failures.clear()
        try:
            for path in BUILTIN_CONNECTORS:
                _register_object(_load_object(path), path)
            for entry_point in (entry_points or _entry_points)():
                try:
                    _load_entry_point(entry_point)
                except ConnectorRegistrationError as exc:
                    _record_failure(entry_point, str(exc))
                except Exception as exc:  # a plugin's import error or bug must not stop start-up
                    _record_failure(entry_point, f"{type(exc).__name__}: {exc}")
            _loaded = True
        finally:
            _loading = False

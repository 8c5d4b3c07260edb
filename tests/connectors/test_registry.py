"""The connector registry: registration rules, built-ins and entry-point plugins."""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import logging
import sys
import types
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, Field

from connectors import base, registry
from connectors.base import Capability, Connector, Context
from connectors.registry import (
    ConnectorRegistrationError,
    DuplicateConnector,
    LoadFailure,
    UnknownConnector,
)

EXAMPLE_DIST = "erpsettings-example-connector"


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty, not yet loaded registry; the real one comes back after the test."""
    monkeypatch.setattr(registry, "_connectors", {})
    monkeypatch.setattr(registry, "_failures", [])
    monkeypatch.setattr(registry, "_loaded", False)


class GoodConfig(BaseModel):
    host: str = Field("erp.example.com", title="Host")


def make_connector(key: str = "good", **attrs: Any) -> type[Connector]:
    """A valid connector class; ``attrs`` override its class attributes."""

    def test_connection(self: Connector, config: BaseModel) -> base.TestResult:
        return base.TestResult(base.TestStatus.OK, "fine")

    namespace: dict[str, Any] = {
        "key": key,
        "label": f"Label {key}",
        "Config": GoodConfig,
        "capabilities": frozenset({Capability.PRICE_LISTS}),
        "sync_connection": "none",
        "test_connection": test_connection,
        "__module__": __name__,
    }
    namespace.update(attrs)
    return type(f"Connector_{key}", (Connector,), namespace)


class FakeEntryPoint:
    """Stands in for ``importlib.metadata.EntryPoint``: a name, a dist and ``load()``."""

    def __init__(self, name: str, load: Any, dist: str = "fake-dist") -> None:
        self.name = name
        self.value = f"fake_module:{name}"
        self.dist = SimpleNamespace(name=dist)
        self._load = load

    def load(self) -> Any:
        return self._load()


def entry_points_of(*eps: FakeEntryPoint) -> Any:
    return lambda: list(eps)


def _raise(exc: BaseException) -> Any:
    def load() -> Any:
        raise exc

    return load


# --- register -------------------------------------------------------------------------


@pytest.mark.usefixtures("fresh_registry")
def test_register_adds_connector_under_its_key() -> None:
    cls = registry.register(make_connector("good"))
    assert registry._connectors == {"good": cls}


@pytest.mark.usefixtures("fresh_registry")
def test_register_refuses_a_second_class_with_the_same_key() -> None:
    registry.register(make_connector("dup"))
    with pytest.raises(DuplicateConnector, match="already registered"):
        registry.register(make_connector("dup"))


@pytest.mark.usefixtures("fresh_registry")
def test_register_of_the_same_class_twice_is_a_no_op() -> None:
    cls = make_connector("same")
    registry.register(cls)
    registry.register(cls)
    assert registry._connectors == {"same": cls}


@pytest.mark.usefixtures("fresh_registry")
def test_register_refuses_a_capability_outside_the_vocabulary() -> None:
    with pytest.raises(ConnectorRegistrationError, match="unknown capabilities"):
        registry.register(make_connector(capabilities=frozenset({"teleport"})))


@pytest.mark.usefixtures("fresh_registry")
def test_register_turns_capability_names_into_the_enum() -> None:
    cls = registry.register(make_connector(capabilities={"price_lists", "place_order"}))
    assert cls.capabilities == frozenset({Capability.PRICE_LISTS, Capability.PLACE_ORDER})


@pytest.mark.usefixtures("fresh_registry")
def test_register_refuses_an_unknown_sync_connection_usage() -> None:
    with pytest.raises(ConnectorRegistrationError, match="sync_connection"):
        registry.register(make_connector(sync_connection="sometimes"))


@pytest.mark.usefixtures("fresh_registry")
def test_register_refuses_a_config_that_is_not_a_pydantic_model() -> None:
    with pytest.raises(ConnectorRegistrationError, match="BaseModel"):
        registry.register(make_connector(Config=dict))


@pytest.mark.usefixtures("fresh_registry")
def test_register_refuses_a_config_field_of_unsupported_type() -> None:
    class FloatConfig(BaseModel):
        ratio: float = 0.5

    with pytest.raises(ConnectorRegistrationError, match="ratio"):
        registry.register(make_connector(Config=FloatConfig))


@pytest.mark.parametrize("key", ["", "Bad-Key", "1st", "has space", None])
@pytest.mark.usefixtures("fresh_registry")
def test_register_refuses_a_key_that_is_not_a_lowercase_identifier(key: Any) -> None:
    with pytest.raises(ConnectorRegistrationError, match="key"):
        registry.register(make_connector(key=key))


@pytest.mark.usefixtures("fresh_registry")
def test_register_refuses_an_empty_label() -> None:
    with pytest.raises(ConnectorRegistrationError, match="label"):
        registry.register(make_connector(label=""))


@pytest.mark.usefixtures("fresh_registry")
def test_register_refuses_a_connector_without_its_own_test() -> None:
    cls = make_connector()
    del cls.test_connection
    with pytest.raises(ConnectorRegistrationError, match="test_connection"):
        registry.register(cls)


@pytest.mark.usefixtures("fresh_registry")
def test_register_refuses_a_class_that_is_not_a_connector() -> None:
    with pytest.raises(ConnectorRegistrationError, match="not a subclass"):
        registry.register(type("NotAConnector", (), {"key": "x"}))  # type: ignore[type-var]


# --- lookups --------------------------------------------------------------------------


@pytest.mark.usefixtures("fresh_registry")
def test_get_connector_class_of_an_unknown_key_raises_key_error() -> None:
    registry.load_plugins(entry_points=entry_points_of())
    with pytest.raises(KeyError):
        registry.get_connector_class("nope")
    with pytest.raises(UnknownConnector):
        registry.get_connector_class("nope")


@pytest.mark.usefixtures("fresh_registry")
def test_connector_classes_are_sorted_by_label() -> None:
    registry.load_plugins(entry_points=entry_points_of())
    registry.register(make_connector("zeta", label="Zeta ERP"))
    registry.register(make_connector("alpha", label="alpha ERP"))
    labels = [str(c.label) for c in registry.connector_classes()]
    assert labels == sorted(labels, key=str.casefold)
    assert labels.index("alpha ERP") < labels.index("Zeta ERP")


# --- load_plugins: built-ins ----------------------------------------------------------


@pytest.mark.usefixtures("fresh_registry")
def test_load_plugins_registers_the_built_in_product_register() -> None:
    registry.load_plugins(entry_points=entry_points_of())
    assert registry.get_connector_class("product_register").key == "product_register"


@pytest.mark.usefixtures("fresh_registry")
def test_load_plugins_is_idempotent() -> None:
    calls = []
    plugin = make_connector("once")

    def load() -> Any:
        calls.append(1)
        return plugin

    discovery = entry_points_of(FakeEntryPoint("once", load))
    registry.load_plugins(entry_points=discovery)
    registry.load_plugins(entry_points=discovery)
    assert calls == [1]
    assert registry.get_connector_class("once") is plugin


@pytest.mark.usefixtures("fresh_registry")
def test_a_built_in_with_an_unsupported_field_fails_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class BadConfig(BaseModel):
        items: list[str] = []

    module = types.ModuleType("connectors_test_bad_builtin")
    module.__spec__ = importlib.machinery.ModuleSpec(module.__name__, None)
    bad = make_connector("bad_builtin", Config=BadConfig, __module__=module.__name__)
    module.BadBuiltin = bad  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(registry, "BUILTIN_CONNECTORS", (f"{module.__name__}:BadBuiltin",))
    with pytest.raises(ConnectorRegistrationError, match="items"):
        registry.load_plugins(entry_points=entry_points_of())


@pytest.mark.usefixtures("fresh_registry")
def test_built_ins_and_plugins_enter_through_the_same_path(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(registry, "register", lambda cls: seen.append(cls.key) or cls)
    plugin = make_connector("plugged_in")
    registry.load_plugins(entry_points=entry_points_of(FakeEntryPoint("p", lambda: plugin)))
    assert seen == ["product_register", "rest_json", "tryton", "plugged_in"]


@pytest.mark.usefixtures("fresh_registry")
def test_a_built_in_that_is_not_a_connector_class_fails_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "BUILTIN_CONNECTORS", ("connectors.rules:round_price",))
    with pytest.raises(ConnectorRegistrationError, match="not a Connector subclass"):
        registry.load_plugins(entry_points=entry_points_of())


def test_register_refuses_a_field_whose_choices_method_is_missing() -> None:
    class WithChoices(BaseModel):
        company: int = Field(1, title="Company", json_schema_extra={"choices_from": "nope"})

    with pytest.raises(ConnectorRegistrationError, match="nope"):
        registry.register(make_connector("choosy", Config=WithChoices))


def test_register_refuses_a_config_version_below_one() -> None:
    with pytest.raises(ConnectorRegistrationError, match="config_version"):
        registry.register(make_connector("versioned", config_version=0))


# --- load_plugins: plugins ------------------------------------------------------------


@pytest.mark.usefixtures("fresh_registry")
def test_a_good_plugin_is_registered() -> None:
    plugin = make_connector("plugged")
    registry.load_plugins(entry_points=entry_points_of(FakeEntryPoint("plugged", lambda: plugin)))
    assert registry.get_connector_class("plugged") is plugin
    assert registry.load_failures() == []


@pytest.mark.usefixtures("fresh_registry")
def test_a_plugin_that_fails_to_import_is_recorded_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = make_connector("after_broken")
    discovery = entry_points_of(
        FakeEntryPoint("broken", _raise(ImportError("No module named 'nowhere'")), "bad-dist"),
        FakeEntryPoint("after_broken", lambda: good),
    )
    with caplog.at_level(logging.ERROR, logger="connectors.registry"):
        registry.load_plugins(entry_points=discovery)
    assert registry.load_failures() == [
        LoadFailure("broken", "bad-dist", "ImportError: No module named 'nowhere'")
    ]
    assert registry.get_connector_class("after_broken") is good
    assert "broken" in caplog.text


@pytest.mark.usefixtures("fresh_registry")
def test_a_plugin_that_crashes_while_loading_is_recorded() -> None:
    discovery = entry_points_of(FakeEntryPoint("crash", _raise(RuntimeError("boom"))))
    registry.load_plugins(entry_points=discovery)
    assert registry.load_failures()[0].reason == "RuntimeError: boom"


@pytest.mark.usefixtures("fresh_registry")
def test_a_plugin_object_that_is_not_a_connector_class_is_recorded() -> None:
    discovery = entry_points_of(FakeEntryPoint("module_not_class", lambda: types))
    registry.load_plugins(entry_points=discovery)
    (failure,) = registry.load_failures()
    assert failure.name == "module_not_class"
    assert "not a Connector subclass" in failure.reason


@pytest.mark.usefixtures("fresh_registry")
def test_a_plugin_reusing_a_built_in_key_is_recorded_and_the_built_in_kept() -> None:
    from connectors.builtin.product_register import ProductRegisterConnector

    impostor = make_connector("product_register")
    registry.load_plugins(entry_points=entry_points_of(FakeEntryPoint("dup", lambda: impostor)))
    assert registry.get_connector_class("product_register") is ProductRegisterConnector
    assert "already registered" in registry.load_failures()[0].reason


@pytest.mark.usefixtures("fresh_registry")
def test_a_plugin_with_a_bad_capability_is_recorded() -> None:
    bad = make_connector("badcap", capabilities=frozenset({"fly"}))
    registry.load_plugins(entry_points=entry_points_of(FakeEntryPoint("badcap", lambda: bad)))
    assert "unknown capabilities" in registry.load_failures()[0].reason
    with pytest.raises(KeyError):
        registry.get_connector_class("badcap")


@pytest.mark.usefixtures("fresh_registry")
def test_a_plugin_with_an_unsupported_field_type_is_recorded_not_raised() -> None:
    class DictConfig(BaseModel):
        mapping: dict[str, str] = {}

    bad = make_connector("dictcfg", Config=DictConfig)
    registry.load_plugins(entry_points=entry_points_of(FakeEntryPoint("dictcfg", lambda: bad)))
    assert "mapping" in registry.load_failures()[0].reason


# --- the real installed example package -----------------------------------------------


def _installed_example_entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    found = {
        ep.name: ep
        for ep in importlib.metadata.entry_points(group=registry.ENTRY_POINT_GROUP)
        if ep.dist is not None and ep.dist.name == EXAMPLE_DIST
    }
    if not found:
        pytest.fail(
            "The example plugin is not installed: "
            "pip install -e examples/example_connector (the Makefile's test target does it)."
        )
    return found


def test_the_example_package_declares_its_entry_points() -> None:
    assert set(_installed_example_entry_points()) == {"example_erp", "example_broken"}


@pytest.mark.usefixtures("fresh_registry")
def test_the_installed_example_connector_is_discovered() -> None:
    _installed_example_entry_points()
    registry.load_plugins()
    cls = registry.get_connector_class("example_erp")
    assert cls.__module__ == "erpsettings_example_connector"
    assert cls.sync_connection == "required"


@pytest.mark.usefixtures("fresh_registry")
def test_the_installed_broken_sibling_is_reported_not_fatal() -> None:
    _installed_example_entry_points()
    registry.load_plugins()
    failures = [f for f in registry.load_failures() if f.dist == EXAMPLE_DIST]
    assert [f.name for f in failures] == ["example_broken"]
    assert "ModuleNotFoundError" in failures[0].reason
    assert "product_register" in {c.key for c in registry.connector_classes()}


def test_the_started_application_has_the_example_plugin_and_its_failure() -> None:
    """Django start-up (``ConnectionsConfig.ready``) already ran the discovery."""
    assert registry._loaded
    assert registry.get_connector_class("example_erp").sync_connection == "required"
    assert "example_broken" in {f.name for f in registry.load_failures()}


def test_the_installed_example_connector_passes_its_test() -> None:
    cls = registry.get_connector_class("example_erp")
    connector = cls(Context(http=lambda *, timeout, verify=True: httpx.Client()))
    result = base.run_test(connector, cls.Config.model_validate({"company": "ACME"}))
    assert result.status == base.TestStatus.OK
    assert "ACME" in result.message

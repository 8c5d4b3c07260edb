"""The connector conformance kit (in the spirit of Airbyte's connector acceptance tests).

Use it from a plugin's own pytest run::

    from connectors.testing import ConnectorConformance

    class TestMyConnector(ConnectorConformance):
        connector_class = MyConnector

Each rule is also a plain function (``check_metadata(MyConnector)``, ...) that raises
:class:`ConformanceError` saying what to fix. The rules:

1. metadata complete (key, label, vendor, version, description);
2. every ``Config`` field of a supported kind, with a label;
3. a field whose name looks like a credential (password, secret, token, key) is a
   ``SecretStr``;
4. ``test_connection`` returns a valid ``TestResult`` and never raises, for an unreachable
   host and for a server that never answers (within the configured timeout);
5. every declared capability has its data method, returning the documented shapes
   (checked against a live ERP when :meth:`ConnectorConformance.data_config` gives one);
6. outgoing calls go through the guarded client (``self.context.http``); a call that
   bypasses it fails.

The kit starts its own servers on 127.0.0.1 and lets the guarded client reach them.
"""

from __future__ import annotations

import contextvars
import inspect
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, ClassVar
from unittest import mock

import httpcore
import pytest
from pydantic import BaseModel, ValidationError

from connectors.base import (
    Capability,
    Connector,
    Context,
    PriceList,
    Product,
    TestResult,
    TestStatus,
)
from connectors.http import GuardedBackend, GuardPolicy, client_factory
from connectors.schema import FieldSpec, UnsupportedFieldType, field_specs

#: The data method each capability needs, and what it returns.
CAPABILITY_METHODS: dict[Capability, tuple[str, str]] = {
    Capability.PRICE_LISTS: ("price_lists", "list[PriceList]"),
    Capability.PRODUCT_SEARCH: ("search_products", "list[Product]"),
    Capability.PRODUCT_DETAILS: ("product_details", "Product"),
    Capability.PRICE_CALCULATION: ("quote_price", "Decimal"),
    Capability.PLACE_ORDER: ("place_order", "dict"),
    Capability.ORDER_STATE: ("order_state", "dict"),
}
_CREDENTIAL = re.compile(r"(^|_)(password|passwd|secret|token|key|apikey)(_|$)")
#: Seconds a test may take beyond its configured timeout.
TIMEOUT_MARGIN = 2.0
_KIT_TIMEOUT = 1


class ConformanceError(AssertionError):
    """A rule the connector breaks; the message says what to fix."""


def _fail(cls: type, rule: str, fix: str) -> None:
    raise ConformanceError(f"{cls.__module__}.{cls.__qualname__}: {rule}. Fix: {fix}")


# --------------------------------------------------------------------------- static rules


def check_metadata(cls: type[Connector[Any]]) -> None:
    """Rule 1: ``key``, ``label``, ``vendor``, ``version`` and ``description`` are set."""
    for name in ("key", "label", "vendor", "version", "description"):
        if not str(getattr(cls, name, "") or "").strip():
            _fail(cls, f"{name} is empty", f"set the class attribute {name}.")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,99}", str(cls.key)):
        _fail(cls, f"key {cls.key!r} is not a lowercase identifier", "use a-z, 0-9 and _.")


def _specs(cls: type[Connector[Any]]) -> list[FieldSpec]:
    config = getattr(cls, "Config", None)
    if not (inspect.isclass(config) and issubclass(config, BaseModel)):
        _fail(cls, "Config is not a pydantic model", "declare Config as a BaseModel subclass.")
    try:
        return field_specs(config)  # type: ignore[arg-type]
    except UnsupportedFieldType as exc:
        _fail(cls, f"a Config field is not supported ({exc})", "use a kind docs list.")
    raise AssertionError  # pragma: no cover


def check_fields(cls: type[Connector[Any]]) -> None:
    """Rule 2: every field has a supported kind and an explicit label (``title``)."""
    for spec in _specs(cls):
        info = cls.Config.model_fields[spec.name]
        if spec.kind != "label" and not str(info.title or "").strip():
            _fail(
                cls,
                f"Config field {spec.name!r} has no label",
                'give it a title: Field(..., title=_("..."))',
            )


def check_secrets(cls: type[Connector[Any]]) -> None:
    """Rule 3: a field named like a credential is a secret (``SecretStr``)."""
    for spec in _specs(cls):
        if _CREDENTIAL.search(spec.name.lower()) and not spec.secret and spec.kind != "label":
            _fail(
                cls,
                f"Config field {spec.name!r} looks like a credential but is {spec.kind!r}",
                "annotate it as SecretStr (or SecretStr | None), so it is stored encrypted "
                "and never shown.",
            )


# --------------------------------------------------------------------------- servers


@contextmanager
def silent_server() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        for conn in accepted:
            conn.close()
        listener.close()


def refused_url() -> str:
    """``http://127.0.0.1:<port>`` where nothing listens (the port was just freed)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"


@contextmanager
def demo_erp(token: str = "demo-token") -> Iterator[str]:
    """The demo ERP (``connectors.demo_erp``) on 127.0.0.1; yields its URL."""
    from connectors import demo_erp as demo

    server = demo.make_server(port=0, token=token)
    demo.serve_in_thread(server)
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- the guard


_guarded = contextvars.ContextVar("guarded", default=False)


@contextmanager
def guard_watch() -> Iterator[list[str]]:
    """Record every TCP connection made outside the guarded client's backend."""
    bypasses: list[str] = []
    original_connect = socket.socket.connect
    original_connect_tcp = GuardedBackend.connect_tcp

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _guarded.get():
            bypasses.append(str(address))
        return original_connect(self, address)

    def connect_tcp(self: GuardedBackend, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        token = _guarded.set(True)
        try:
            return original_connect_tcp(self, *args, **kwargs)
        finally:
            _guarded.reset(token)

    with (
        mock.patch.object(socket.socket, "connect", connect),
        mock.patch.object(GuardedBackend, "connect_tcp", connect_tcp),
    ):
        yield bypasses


def kit_context() -> Context:
    """A context whose guarded client may reach the kit's servers on 127.0.0.1 only."""
    return Context(http=client_factory(GuardPolicy(allowed_hosts=frozenset({"127.0.0.1"}))))


# --------------------------------------------------------------------------- configurations


def sample_values(cls: type[Connector[Any]], url: str) -> dict[str, Any]:
    """Values for every required field: ``url`` for URL fields, samples for the rest, and
    the kit's short timeout when the Config has a ``timeout`` field."""
    values: dict[str, Any] = {}
    for spec in _specs(cls):
        if spec.kind == "url":
            values[spec.name] = url
        elif spec.name == "timeout" and spec.kind == "integer":
            values[spec.name] = _KIT_TIMEOUT
        elif spec.required and not spec.has_default:
            sample: Any = {
                "text": "example",
                "password": "example-secret",
                "integer": spec.min_value or 1,
                "decimal": spec.min_value or Decimal(1),
                "choice": spec.choices[0][0] if spec.choices else None,
                "datetime": "2030-01-01T00:00:00",
            }.get(spec.kind)
            values[spec.name] = sample
    return values


def build_config(cls: type[Connector[Any]], values: dict[str, Any]) -> BaseModel:
    try:
        return cls.Config.model_validate(values)
    except ValidationError as exc:
        _fail(
            cls,
            f"the kit's sample configuration does not validate ({exc.error_count()} errors)",
            "override config_values(url) in your ConnectorConformance subclass.",
        )
    raise AssertionError  # pragma: no cover


def _check_result(cls: type, result: Any, where: str) -> TestResult:
    if not isinstance(result, TestResult):
        _fail(cls, f"test_connection {where} returned {result!r}", "return a TestResult.")
    if not isinstance(result.status, TestStatus) or not str(result.message).strip():
        _fail(cls, f"test_connection {where} returned no status or message", "set both.")
    if not result.succeeded and not result.error_code:
        _fail(cls, f"the error result {where} has no error_code", "give each failure a code.")
    return result


def check_test_never_raises(
    cls: type[Connector[Any]], config_values: Callable[[str], dict[str, Any]]
) -> None:
    """Rule 4: ``test_connection`` returns an error result (it does not raise) for an
    unreachable host and for a server that never answers, within the timeout."""
    connector = cls(kit_context())
    with silent_server() as silent:
        cases = [("for an unreachable host", refused_url()), ("for a silent server", silent)]
        for where, url in cases:
            config = build_config(cls, config_values(url))
            limit = float(getattr(config, "timeout", 10)) + TIMEOUT_MARGIN
            started = time.monotonic()
            try:
                result = connector.test_connection(config)
            except Exception as exc:
                _fail(
                    cls,
                    f"test_connection raised {type(exc).__name__} {where}",
                    "catch failures and return TestResult(TestStatus.ERROR, ...), or build "
                    "on HttpConnector and implement check().",
                )
            elapsed = time.monotonic() - started
            if elapsed > limit:
                _fail(
                    cls,
                    f"test_connection took {elapsed:.1f} s {where} (limit {limit:.1f} s)",
                    "use the configured timeout: self.context.http(timeout=...).",
                )
            reaches_out = any(spec.kind == "url" for spec in _specs(cls))
            if _check_result(cls, result, where).succeeded and reaches_out:
                _fail(cls, f"test_connection succeeded {where}", "report the failure.")


def _shape_ok(value: Any, shape: str) -> bool:
    if shape == "list[PriceList]":
        return isinstance(value, list) and all(isinstance(v, PriceList) for v in value)
    if shape == "list[Product]":
        return isinstance(value, list) and all(isinstance(v, Product) for v in value)
    return isinstance(value, {"Product": Product, "Decimal": Decimal, "dict": dict}[shape])


def check_capabilities(
    cls: type[Connector[Any]], data_values: dict[str, Any] | None = None
) -> None:
    """Rule 5: each declared capability has its data method; with ``data_values`` (a
    configuration of a live ERP) each method answers in its documented shape."""
    for capability in sorted(cls.capabilities):
        method, shape = CAPABILITY_METHODS[Capability(capability)]
        own = getattr(cls, method, None)
        if own is None or own is getattr(Connector, method, None):
            _fail(
                cls,
                f"capability {capability} is declared but {method}() is missing",
                f"implement {method}() or remove {capability} from capabilities.",
            )
    if data_values is None:
        return
    connector: Any = cls(kit_context())
    config = build_config(cls, data_values)
    products: list[Product] = []
    for capability in sorted(cls.capabilities, key=list(CAPABILITY_METHODS).index):
        method, shape = CAPABILITY_METHODS[Capability(capability)]
        if method == "price_lists":
            value = connector.price_lists(config)
        elif method == "search_products":
            value = products = connector.search_products(config, q="", limit=5)
        elif method == "product_details" and products:
            value = connector.product_details(config, code=products[0].code)
        elif method == "quote_price":
            value = connector.quote_price(config, price=Decimal("10"), discount=Decimal(0))
        else:
            continue  # orders have no demo data to check against
        if not _shape_ok(value, shape):
            _fail(cls, f"{method}() returned {type(value).__name__}", f"return {shape}.")


def check_guarded_client(
    cls: type[Connector[Any]], config_values: Callable[[str], dict[str, Any]]
) -> None:
    """Rule 6: a test makes its calls through the injected (guarded) client factory."""
    connector = cls(kit_context())
    with demo_erp() as url, guard_watch() as bypasses:
        connector.test_connection(build_config(cls, config_values(url)))
    if bypasses:
        _fail(
            cls,
            f"test_connection connected to {', '.join(bypasses)} without the guarded client",
            "make every call with a client from self.context.http(timeout=..., verify=...) "
            "(HttpConnector.client() does).",
        )


# --------------------------------------------------------------------------- pytest


class ConnectorConformance:
    """Subclass in a test module and set ``connector_class``; pytest runs each rule.

    Override :meth:`config_values` when the kit cannot guess a valid configuration for a
    given URL, and the ``data_config`` fixture to check the data methods' shapes against a
    live ERP (``demo_erp()`` is a context manager that starts the demo ERP).
    """

    __test__ = False  # only subclasses are collected
    connector_class: ClassVar[type[Connector[Any]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__test__ = True

    def config_values(self, url: str) -> dict[str, Any]:
        """A configuration of the connector that points at ``url``."""
        return sample_values(self.connector_class, url)

    @pytest.fixture
    def data_config(self) -> dict[str, Any] | None:
        """A configuration of a live ERP for the shape checks (default: none)."""
        return None

    def test_metadata_is_complete(self) -> None:
        check_metadata(self.connector_class)

    def test_fields_have_supported_kinds_and_labels(self) -> None:
        check_fields(self.connector_class)

    def test_credential_fields_are_secret(self) -> None:
        check_secrets(self.connector_class)

    def test_test_connection_never_raises(self) -> None:
        check_test_never_raises(self.connector_class, self.config_values)

    def test_capabilities_have_their_data_methods(self, data_config: Any) -> None:
        check_capabilities(self.connector_class, data_config)

    def test_calls_go_through_the_guarded_client(self) -> None:
        check_guarded_client(self.connector_class, self.config_values)

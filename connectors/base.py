"""The quote connector plugin API.

A connector is a class with declarative attributes (``key``, ``label``, ``Config``,
``capabilities``, ``sync_connection``) and methods that receive the validated configuration.
It is built with a :class:`Context`, which injects the HTTP client factory (the guarded httpx
client in production, a ``MockTransport`` or loopback client in tests) and, where the
application has one, the built-in product register. Connectors know nothing of Django models.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import httpx
from pydantic import BaseModel

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Capability(StrEnum):
    """The fixed vocabulary of what a connector can do."""

    PRICE_LISTS = "price_lists"
    PRODUCT_SEARCH = "product_search"
    PRODUCT_DETAILS = "product_details"
    PRICE_CALCULATION = "price_calculation"
    PLACE_ORDER = "place_order"
    ORDER_STATE = "order_state"


SyncUsage = Literal["none", "optional", "required"]


class TestStatus(StrEnum):
    __test__ = False  # not a pytest test class

    OK = "ok"
    OK_WITH_INFO = "ok_with_info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def succeeded(self) -> bool:
        return self is not TestStatus.ERROR


@dataclass(frozen=True)
class TestResult:
    """The outcome of ``Connector.test_connection``.

    ``message`` is for the user (already translated when produced inside a request),
    ``technical_message`` is English and never contains a secret value.
    """

    __test__ = False  # not a pytest test class

    status: TestStatus
    message: str
    technical_message: str = ""
    error_code: str = ""
    duration_ms: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status.succeeded

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "message": str(self.message),
            "technical_message": self.technical_message,
            "error_code": self.error_code,
            "duration_ms": self.duration_ms,
            "details": self.details,
        }


@dataclass(frozen=True)
class PriceList:
    id: str
    name: str
    currency: str
    valid_from: str | None = None
    valid_to: str | None = None


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    price: Decimal
    currency: str
    vat: Decimal | None = None
    unit: str = ""
    notice: str = ""


class ConnectorError(Exception):
    """A failure a person can understand: a user message plus a stable error code.

    ``details`` go into the test result; ``unreachable`` says the system did not answer at
    all, so a fallback (the product register) may answer instead.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        technical: str = "",
        details: dict[str, Any] | None = None,
        unreachable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = str(code)
        self.technical = technical or message
        self.details = details or {}
        self.unreachable = unreachable


class ProductRegister(Protocol):
    """The application's own price lists and products, injected into connectors."""

    def price_lists(self, *, currency: str | None = None) -> list[PriceList]: ...

    def search_products(self, *, q: str, price_list: str | None, limit: int) -> list[Product]: ...

    def active_price_list_count(self) -> int: ...


class HttpClientFactory(Protocol):
    """Builds an httpx client with the given time limit and TLS verification."""

    def __call__(self, *, timeout: float, verify: bool = True) -> httpx.Client: ...


@dataclass(frozen=True)
class Context:
    http: HttpClientFactory
    register: ProductRegister | None = None


class Connector[C: BaseModel]:
    """Base class of every quote connector, generic in its ``Config``.

    A connector implements :meth:`check` (it may raise :class:`ConnectorError`) or overrides
    :meth:`test_connection` itself; either way ``test_connection`` never raises.
    ``config_version`` goes up when ``Config`` changes incompatibly; :meth:`migrate_config`
    then turns values stored under an older version into the current shape.
    """

    key: ClassVar[str]
    label: ClassVar[StrOrPromise]  # may be a lazy translation
    vendor: ClassVar[str] = ""
    version: ClassVar[str] = "1.0"
    description: ClassVar[StrOrPromise] = ""
    Config: type[C]
    config_version: ClassVar[int] = 1
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    sync_connection: ClassVar[SyncUsage] = "none"

    def __init__(self, context: Context) -> None:
        self.context = context

    @classmethod
    def migrate_config(cls, values: dict[str, Any], from_version: int) -> dict[str, Any]:
        """Stored (public) values of ``from_version`` in the shape of ``config_version``.

        The default changes nothing; a connector whose ``Config`` changed overrides it.
        """
        return values

    def check(self, config: C) -> TestResult:
        """The connector's own test: a result, or a :class:`ConnectorError` for a failure."""
        raise NotImplementedError

    def test_details(self, config: C) -> dict[str, Any]:
        """Details every test result of this configuration carries (failures included)."""
        return {}

    def test_connection(self, config: C) -> TestResult:
        """Check that the configured system answers; never raises, always timed."""
        return timed_test(lambda: self.check(config), details=self.test_details(config))

    def price_lists(self, config: C, *, currency: str | None = None) -> list[PriceList]:
        raise ConnectorError("This connector offers no price lists.", code="not_supported")

    def search_products(
        self, config: C, *, q: str, price_list: str | None = None, limit: int = 20
    ) -> list[Product]:
        raise ConnectorError("This connector offers no product search.", code="not_supported")


def error_result(exc: ConnectorError, *, details: dict[str, Any] | None = None) -> TestResult:
    """The ``error`` test result of a failure, keeping its code and details."""
    return TestResult(
        TestStatus.ERROR,
        exc.message,
        technical_message=exc.technical,
        error_code=exc.code,
        details={**(details or {}), **exc.details},
    )


def timed_test(
    test: Callable[[], TestResult], *, details: dict[str, Any] | None = None
) -> TestResult:
    """Run ``test``: a :class:`ConnectorError` or a crash becomes an ``error`` result (with
    ``details`` and the error's own details), and the result gets its duration."""
    started = time.monotonic()
    try:
        result = test()
    except ConnectorError as exc:
        result = error_result(exc, details=details)
    except Exception as exc:  # a plugin's bug must not break the page
        result = TestResult(
            TestStatus.ERROR,
            "The connector failed unexpectedly.",
            technical_message=f"{type(exc).__name__}: {exc}",
            error_code="connector_crashed",
            details=dict(details or {}),
        )
    if not result.duration_ms:
        elapsed = max(1, int((time.monotonic() - started) * 1000))
        result = dataclasses.replace(result, duration_ms=elapsed)
    return result


def run_test(connector: Connector[Any], config: BaseModel) -> TestResult:
    """Run a connector's test; a connector that raises yields an ``error``, never a crash."""
    return timed_test(lambda: connector.test_connection(config))

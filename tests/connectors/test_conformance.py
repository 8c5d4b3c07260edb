"""The conformance kit: the built-in connectors and the example plugin pass it, and a
deliberately broken connector fails each rule with a message that says what to fix."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from erpsettings_example_connector import ExampleERPConnector
from pydantic import AnyHttpUrl, BaseModel, Field, SecretStr

from connectors.base import Capability, Connector, PriceList, TestResult, TestStatus
from connectors.builtin.product_register import ProductRegisterConnector
from connectors.builtin.rest_json import RestJsonConnector
from connectors.builtin.tryton import TrytonConnector
from connectors.http_connector import HttpConnector
from connectors.testing import (
    ConformanceError,
    ConnectorConformance,
    check_capabilities,
    check_fields,
    check_guarded_client,
    check_metadata,
    check_secrets,
    check_test_never_raises,
    demo_erp,
    sample_values,
)

# --------------------------------------------------------------------------- they pass


class TestRestJsonConformance(ConnectorConformance):
    connector_class = RestJsonConnector

    @pytest.fixture
    def data_config(self) -> Iterator[dict[str, Any]]:
        with demo_erp() as url:
            yield {"base_url": url, "authentication": "bearer", "api_token": "demo-token"}


class TestTrytonConformance(ConnectorConformance):
    connector_class = TrytonConnector  # its data shapes: tests/connectors/test_tryton.py


class TestProductRegisterConformance(ConnectorConformance):
    connector_class = ProductRegisterConnector


class TestExamplePluginConformance(ConnectorConformance):
    connector_class = ExampleERPConnector


# --------------------------------------------------------------------------- broken ones


class UrlConfig(BaseModel):
    base_url: AnyHttpUrl = Field(title="Base URL")
    timeout: int = Field(1, ge=1, le=60, title="Timeout")


class Good(HttpConnector[UrlConfig]):
    key = "kit_good"
    label = "Kit good"
    vendor = "Kit"
    version = "1.0"
    description = "A connector that follows every rule."
    Config = UrlConfig
    capabilities = frozenset({Capability.PRICE_LISTS})

    def server_url(self, config: UrlConfig) -> str:
        return str(config.base_url)

    def check(self, config: UrlConfig) -> TestResult:
        with self.client(config) as client:
            self.request(client, config, "GET", self.url(config, "health"))
        return TestResult(TestStatus.OK, "fine")

    def price_lists(self, config: UrlConfig, *, currency: str | None = None) -> list[PriceList]:
        return [PriceList(id="1", name="Standard", currency="EUR")]


def broken(**attrs: Any) -> type[Connector[Any]]:
    return type("Broken", (Good,), {"__module__": __name__, **attrs})


def fails(rule: Any, *args: Any, match: str) -> str:
    with pytest.raises(ConformanceError, match=match) as caught:
        rule(*args)
    assert "Fix:" in str(caught.value)
    return str(caught.value)


def test_the_well_behaved_connector_passes_every_rule() -> None:
    values = lambda url: sample_values(Good, url)  # noqa: E731
    for rule in (check_metadata, check_fields, check_secrets):
        rule(Good)
    check_test_never_raises(Good, values)
    check_capabilities(Good, {"base_url": "http://127.0.0.1:1"})
    check_guarded_client(Good, values)


def test_missing_metadata_fails() -> None:
    message = fails(check_metadata, broken(vendor=""), match="vendor is empty")
    assert "set the class attribute vendor" in message


def test_a_field_without_a_label_fails() -> None:
    class NoLabel(BaseModel):
        base_url: AnyHttpUrl = Field(title="Base URL")
        company: str = "main"

    message = fails(check_fields, broken(Config=NoLabel), match="'company' has no label")
    assert "title" in message


def test_a_credential_that_is_not_secret_fails() -> None:
    class PlainToken(UrlConfig):
        api_token: str = Field("", title="API token")

    message = fails(check_secrets, broken(Config=PlainToken), match="'api_token' looks like")
    assert "SecretStr" in message


def test_a_test_that_raises_fails() -> None:
    def test_connection(self: Any, config: Any) -> TestResult:
        raise RuntimeError("boom")

    cls = broken(test_connection=test_connection)
    fails(check_test_never_raises, cls, lambda url: sample_values(cls, url), match="raised")


def test_a_test_that_ignores_the_timeout_fails() -> None:
    def test_connection(self: Any, config: Any) -> TestResult:
        time.sleep(3.5)
        return TestResult(TestStatus.ERROR, "late", error_code="late")

    cls = broken(test_connection=test_connection)
    message = fails(check_test_never_raises, cls, lambda url: sample_values(cls, url), match="took")
    assert "configured timeout" in message


def test_a_declared_capability_without_its_method_fails() -> None:
    cls = broken(capabilities=frozenset({Capability.PRICE_LISTS, Capability.PRODUCT_SEARCH}))
    message = fails(check_capabilities, cls, match="product_search is declared")
    assert "implement search_products()" in message


def test_a_data_method_with_the_wrong_shape_fails() -> None:
    def price_lists(self: Any, config: Any, *, currency: str | None = None) -> Any:
        return [{"id": "1"}]

    cls = broken(price_lists=price_lists)
    fails(check_capabilities, cls, {"base_url": "http://127.0.0.1:1"}, match="price_lists")


def test_a_call_that_bypasses_the_guarded_client_fails() -> None:
    def check(self: Any, config: UrlConfig) -> TestResult:
        httpx.get(f"{config.base_url}health", timeout=1)  # not self.context.http
        return TestResult(TestStatus.OK, "fine")

    cls = broken(check=check)
    message = fails(
        check_guarded_client, cls, lambda url: sample_values(cls, url), match="without the guarded"
    )
    assert "self.context.http" in message


def test_a_credential_field_declared_as_secret_passes() -> None:
    class SecretToken(UrlConfig):
        api_token: SecretStr | None = Field(None, title="API token")

    check_secrets(broken(Config=SecretToken))

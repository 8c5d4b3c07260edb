"""Fixtures of the quote side: sales users and groups, register price lists, connections
of the product register and of the REST/JSON connector against ERPs on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.connectors.fake_erp import FakeErp


@pytest.fixture
def sales(make_user: Callable[..., Any]) -> Any:
    """A sales user: logged in, active, no settings permission."""
    return make_user("sam")


@pytest.fixture
def sales_client(client: Any, sales: Any) -> Any:
    client.force_login(sales)
    return client


@pytest.fixture
def register_lists(db: Any) -> dict[str, Any]:
    """The product register: an EUR list with products and a USD list."""
    from connections.models import PriceList, Product

    eur = PriceList.objects.create(name="Standard", currency="EUR")
    usd = PriceList.objects.create(name="Export", currency="USD")
    Product.objects.create(
        price_list=eur, code="CHR-1", name="Chair", price=Decimal("12.5"), vat=21, unit="pcs"
    )
    Product.objects.create(
        price_list=eur, code="DSK-1", name="Desk", price=Decimal("100.005"), vat=21, unit="pcs"
    )
    Product.objects.create(
        price_list=usd, code="CHR-1", name="Chair", price=Decimal("14"), vat=0, unit="pcs"
    )
    return {"EUR": eur, "USD": usd}


@pytest.fixture
def register_connection(manager: Any) -> Callable[..., Any]:
    """A product register connection (no HTTP): rules as given."""
    from connections.models import ERPConnection

    def make(name: str = "Register", *, users=(), groups=(), **rules: Any) -> ERPConnection:
        scope = ERPConnection.Scope.SPECIFIC if users or groups else ERPConnection.Scope.ALL
        config = {"price_decimals": 2, "rounding_mode": "half_up", "max_discount": "25", **rules}
        connection = ERPConnection.objects.create(
            name=name,
            connector_key="product_register",
            config={k: str(v) if isinstance(v, Decimal) else v for k, v in config.items()},
            scope=scope,
            created_by=manager,
        )
        connection.users.set(users)
        connection.groups.set(groups)
        return connection

    return make


@pytest.fixture
def rest_connection(manager: Any, settings: Any) -> Callable[..., Any]:
    """A REST/JSON connection to ``url`` (an ERP on 127.0.0.1), with a bearer token."""
    from connections import crypto
    from connections.models import ERPConnection

    settings.ERP_ALLOW_PRIVATE_NETWORKS = True

    def make(
        name: str, url: str, *, users=(), groups=(), token: str = "demo-token", **rules: Any
    ) -> ERPConnection:
        scope = ERPConnection.Scope.SPECIFIC if users or groups else ERPConnection.Scope.ALL
        connection = ERPConnection.objects.create(
            name=name,
            connector_key="rest_json",
            config={
                "base_url": url,
                "authentication": "bearer",
                "timeout": 2,
                "price_decimals": 2,
                "rounding_mode": "half_up",
                "max_discount": "15",
                **rules,
            },
            secrets=crypto.encrypt_secrets({"api_token": token}),
            scope=scope,
            created_by=manager,
        )
        connection.users.set(users)
        connection.groups.set(groups)
        return connection

    return make


@pytest.fixture
def fake_erp(settings: Any) -> Iterator[FakeErp]:
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    with FakeErp() as fake:
        yield fake

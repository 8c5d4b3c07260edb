"""The built-in product register: the Django-backed register and its connector."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connections.models import PriceList, Product
from connections.register import DjangoProductRegister
from connectors import base, registry
from connectors.builtin.product_register import ProductRegisterConfig, ProductRegisterConnector

TODAY = dt.date(2025, 6, 15)


def register_on(day: dt.date = TODAY) -> DjangoProductRegister:
    return DjangoProductRegister(today=lambda: day)


def no_http(*, timeout: float, verify: bool = True) -> httpx.Client:
    raise AssertionError("the product register makes no HTTP calls")


def connector(product_register: Any = None) -> ProductRegisterConnector:
    return ProductRegisterConnector(base.Context(http=no_http, register=product_register))


@pytest.fixture
def lists(db: None) -> dict[str, PriceList]:
    day = dt.timedelta(days=1)
    made = {
        "eur": PriceList.objects.create(name="Standard", currency="EUR"),
        "usd": PriceList.objects.create(name="Export", currency="USD"),
        "window": PriceList.objects.create(
            name="Summer", currency="EUR", valid_from=TODAY - day, valid_to=TODAY + day
        ),
        "inactive": PriceList.objects.create(name="Old", currency="EUR", active=False),
        "expired": PriceList.objects.create(name="Spring", currency="EUR", valid_to=TODAY - day),
        "future": PriceList.objects.create(name="Autumn", currency="EUR", valid_from=TODAY + day),
    }
    for key, price_list in made.items():
        Product.objects.create(
            price_list=price_list, code=f"BOLT-{key}", name=f"Bolt M8 {key}", price="1.2345"
        )
    Product.objects.create(price_list=made["eur"], code="NUT-1", name="Hex nut", price="0.10")
    return made


# --- DjangoProductRegister ------------------------------------------------------------


def test_price_lists_are_only_the_active_and_currently_valid_ones(
    lists: dict[str, PriceList],
) -> None:
    assert {p.name for p in register_on().price_lists()} == {"Standard", "Export", "Summer"}


def test_validity_dates_are_inclusive(lists: dict[str, PriceList]) -> None:
    on_last_day = register_on(TODAY + dt.timedelta(days=1))
    assert "Summer" in {p.name for p in on_last_day.price_lists()}
    assert "Autumn" in {p.name for p in on_last_day.price_lists()}


def test_price_lists_filter_by_currency_case_insensitively(lists: dict[str, PriceList]) -> None:
    assert [p.name for p in register_on().price_lists(currency="usd")] == ["Export"]


def test_price_lists_carry_id_currency_and_validity(lists: dict[str, PriceList]) -> None:
    summer = next(p for p in register_on().price_lists() if p.name == "Summer")
    assert summer.id == str(lists["window"].pk)
    assert (summer.currency, summer.valid_from, summer.valid_to) == (
        "EUR",
        "2025-06-14",
        "2025-06-16",
    )


def test_active_price_list_count_counts_the_valid_lists(lists: dict[str, PriceList]) -> None:
    assert register_on().active_price_list_count() == 3


def test_search_matches_code_or_name_ignoring_case(lists: dict[str, PriceList]) -> None:
    assert [p.code for p in register_on().search_products(q="hex", price_list=None, limit=10)] == [
        "NUT-1"
    ]
    assert [p.code for p in register_on().search_products(q="nut-", price_list=None, limit=10)] == [
        "NUT-1"
    ]


def test_search_skips_products_of_inactive_expired_and_future_lists(
    lists: dict[str, PriceList],
) -> None:
    codes = {p.code for p in register_on().search_products(q="bolt", price_list=None, limit=50)}
    assert codes == {"BOLT-eur", "BOLT-usd", "BOLT-window"}


def test_search_narrows_to_one_price_list(lists: dict[str, PriceList]) -> None:
    found = register_on().search_products(q="", price_list=str(lists["eur"].pk), limit=50)
    assert {p.code for p in found} == {"BOLT-eur", "NUT-1"}


def test_search_in_an_inactive_price_list_finds_nothing(lists: dict[str, PriceList]) -> None:
    assert register_on().search_products(q="", price_list=str(lists["inactive"].pk), limit=50) == []


def test_search_with_a_malformed_price_list_id_finds_nothing(
    lists: dict[str, PriceList],
) -> None:
    assert register_on().search_products(q="", price_list="abc", limit=50) == []


def test_search_returns_at_most_limit_products(lists: dict[str, PriceList]) -> None:
    assert len(register_on().search_products(q="", price_list=None, limit=2)) == 2


def test_search_products_carry_the_currency_of_their_list(lists: dict[str, PriceList]) -> None:
    (product,) = register_on().search_products(q="BOLT-usd", price_list=None, limit=5)
    assert (product.currency, product.price, product.unit) == ("USD", Decimal("1.2345"), "pcs")


def test_search_runs_a_single_query(
    lists: dict[str, PriceList], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        register_on().search_products(q="bolt", price_list=None, limit=50)


# --- ProductRegisterConnector ---------------------------------------------------------


def test_the_connector_is_registered_with_its_contract() -> None:
    cls = registry.get_connector_class("product_register")
    assert cls is ProductRegisterConnector
    assert str(cls.label) == "Built-in product register"
    assert cls.sync_connection == "none"
    assert {str(c) for c in cls.capabilities} == {
        "price_lists",
        "product_search",
        "product_details",
    }


def test_the_config_has_the_rules_but_no_fallback() -> None:
    assert set(ProductRegisterConfig.model_fields) == {
        "about",
        "price_decimals",
        "rounding_mode",
        "max_discount",
    }


def test_the_test_reports_the_number_of_active_price_lists(lists: dict[str, PriceList]) -> None:
    result = base.run_test(connector(register_on()), ProductRegisterConfig())
    assert result.status == base.TestStatus.OK
    assert result.message == "Product register OK: 3 active price lists"
    assert result.details == {"price_lists": 3}


@pytest.mark.django_db
def test_the_test_of_an_empty_register_is_ok_with_info() -> None:
    result = base.run_test(connector(register_on()), ProductRegisterConfig())
    assert result.status == base.TestStatus.OK_WITH_INFO
    assert result.succeeded


def test_the_test_without_a_register_is_an_error() -> None:
    result = base.run_test(connector(None), ProductRegisterConfig())
    assert (result.status, result.error_code) == (base.TestStatus.ERROR, "register_unavailable")


class BrokenRegister:
    def active_price_list_count(self) -> int:
        raise RuntimeError("database is locked")


def test_the_test_of_an_unreadable_register_is_an_error() -> None:
    result = base.run_test(connector(BrokenRegister()), ProductRegisterConfig())
    assert (result.status, result.error_code) == (base.TestStatus.ERROR, "register_unreadable")
    assert "database is locked" in result.technical_message


@pytest.mark.parametrize(
    ("decimals", "mode", "expected"),
    [(2, "half_up", "1.23"), (3, "half_up", "1.235"), (3, "down", "1.234"), (0, "half_up", "1")],
)
def test_search_rounds_prices_by_the_rule(
    lists: dict[str, PriceList], decimals: int, mode: str, expected: str
) -> None:
    config = ProductRegisterConfig(price_decimals=decimals, rounding_mode=mode)
    (product,) = connector(register_on()).search_products(config, q="BOLT-eur", limit=5)
    assert product.price == Decimal(expected)
    assert str(product.price) == expected


def test_price_lists_come_from_the_register(lists: dict[str, PriceList]) -> None:
    found = connector(register_on()).price_lists(ProductRegisterConfig(), currency="EUR")
    assert {p.name for p in found} == {"Standard", "Summer"}

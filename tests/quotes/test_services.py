"""The business rules on the quote side: rounding in every mode, the maximum discount, the
fallback to the product register with its notice, and the lines of a quote."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connections import quoting
from connectors.rules import BusinessRulesConfig
from quotes import services
from quotes.models import Quote
from tests.connectors.fake_erp import Reply, closed_port

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("mode", "decimals", "price", "expected"),
    [
        ("half_up", 2, "2.345", "2.35"),
        ("half_up", 2, "2.355", "2.36"),
        ("half_even", 2, "2.345", "2.34"),
        ("half_even", 2, "2.355", "2.36"),
        ("down", 2, "2.349", "2.34"),
        ("down", 0, "9.99", "9"),
        ("half_up", 3, "1.0005", "1.001"),
        ("half_even", 4, "1.00005", "1.0000"),
    ],
)
def test_product_prices_follow_the_rounding_rule(
    fake_erp, rest_connection, mode, decimals, price, expected
):
    fake_erp.reply(
        "/products",
        json={"products": [{"code": "P", "name": "P", "price": price, "currency": "EUR"}]},
    )
    connection = rest_connection("ERP", fake_erp.url, rounding_mode=mode, price_decimals=decimals)
    found = quoting.search_products(quoting.handle_for(connection), q="P", price_list=None)
    assert [str(p.price) for p in found.products] == [expected]


@pytest.mark.parametrize(
    ("mode", "expected"), [("half_up", "3.03"), ("half_even", "3.02"), ("down", "3.02")]
)
def test_line_totals_follow_the_rounding_rule(mode, expected):
    rules = BusinessRulesConfig(rounding_mode=mode, price_decimals=2)
    # 1.21 x 2.5 = 3.025; 1.25 x 3 less 10 % = 3.375 (half even: to the even 8)
    assert str(quoting.line_total(Decimal("1.21"), Decimal("2.5"), Decimal(0), rules)) == expected
    assert quoting.line_total(Decimal("1.25"), Decimal(3), Decimal(10), rules) == Decimal(
        "3.37" if mode == "down" else "3.38"
    )


def test_a_discount_above_the_maximum_is_refused_with_the_limit():
    rules = BusinessRulesConfig(max_discount=Decimal("15"))
    quoting.check_discount(Decimal("15"), rules)
    with pytest.raises(quoting.DiscountTooHigh) as refused:
        quoting.check_discount(Decimal("15.01"), rules)
    assert refused.value.message == "The maximum discount for this connection is 15 %."


def test_the_discount_limit_message_is_in_dutch():
    from django.utils import translation

    with translation.override("nl"), pytest.raises(quoting.DiscountTooHigh) as refused:
        quoting.check_discount(Decimal("30"), BusinessRulesConfig(max_discount=Decimal("12.5")))
    assert refused.value.message == "De maximale korting voor deze verbinding is 12,5 %."


def test_an_unreachable_erp_with_fallback_answers_from_the_register_with_the_notice(
    rest_connection, register_lists
):
    down = f"http://127.0.0.1:{closed_port()}/"
    connection = rest_connection("ERP", down, fallback_to_register=True)
    found = quoting.search_products(quoting.handle_for(connection), q="chair", price_list=None)
    assert [p.code for p in found.products] == ["CHR-1", "CHR-1"]
    assert found.notice == "The ERP cannot be reached; prices come from the product register."


def test_an_unreachable_erp_without_fallback_gives_the_connectors_message(
    rest_connection, register_lists
):
    connection = rest_connection("ERP", f"http://127.0.0.1:{closed_port()}/")
    with pytest.raises(quoting.UseError) as failed:
        quoting.search_products(quoting.handle_for(connection), q="chair", price_list=None)
    assert failed.value.code == "connection_refused"
    assert failed.value.message.startswith("Cannot reach 127.0.0.1")


def test_a_reachable_erp_gives_no_notice(fake_erp, rest_connection, register_lists):
    connection = rest_connection("ERP", fake_erp.url, fallback_to_register=True)
    found = quoting.search_products(quoting.handle_for(connection), q="", price_list=None)
    assert found.products and found.notice == ""


def test_the_product_register_itself_gives_no_notice(register_connection, register_lists):
    connection = register_connection()
    found = quoting.search_products(quoting.handle_for(connection), q="chair", price_list=None)
    assert found.products and found.notice == ""


def test_a_connector_error_status_becomes_its_message(fake_erp, rest_connection):
    fake_erp.reply("/products", Reply(status=503, json={}))
    connection = rest_connection("ERP", fake_erp.url)
    with pytest.raises(quoting.UseError) as failed:
        quoting.search_products(quoting.handle_for(connection), q="x", price_list=None)
    assert "HTTP 503" in failed.value.message


def test_a_missing_connector_cannot_be_used(register_connection):
    connection = register_connection()
    connection.connector_key = "gone"
    with pytest.raises(quoting.UseError) as failed:
        quoting.handle_for(connection)
    assert failed.value.code == "connector_missing"


# --- quote lines -------------------------------------------------------------------------


@pytest.fixture
def quote(sales, register_connection, register_lists):
    connection = register_connection(max_discount="20")
    created, _choice = services.quote_create(
        owner=sales, title="Office", customer="ACME", currency="EUR"
    )
    assert created.connection == connection
    return created


def test_a_new_quote_takes_the_only_connection_and_its_first_price_list(quote, register_lists):
    assert quote.price_list == str(register_lists["EUR"].pk)
    assert quote.price_list_name == "Standard"


def test_add_puts_the_product_on_the_quote_with_quantity_one(quote):
    handle = quoting.handle_for(quote.connection)
    line = services.quote_line_add(quote=quote, handle=handle, code="DSK-1")
    assert (line.name, line.quantity, line.discount_percent) == ("Desk", 1, 0)
    assert line.unit_price == Decimal("100.01") and line.total == Decimal("100.01")


def test_editing_saves_valid_values_and_refuses_a_discount_above_the_maximum(quote):
    handle = quoting.handle_for(quote.connection)
    line = services.quote_line_add(quote=quote, handle=handle, code="CHR-1")
    edit = services.quote_line_update(line=line, handle=handle, quantity="3", discount="25")
    line.refresh_from_db()
    assert line.quantity == 3 and line.discount_percent == 0 and line.total == Decimal("37.50")
    assert edit.typed == {"discount_percent": "25"}
    assert edit.errors == {"discount_percent": "The maximum discount for this connection is 20 %."}
    edit = services.quote_line_update(line=line, handle=handle, quantity="3", discount="10")
    line.refresh_from_db()
    assert not edit.errors and line.total == Decimal("33.75")


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "1.0001", "NaN", ""])
def test_a_bad_quantity_is_refused_and_kept_as_typed(quote, quantity):
    handle = quoting.handle_for(quote.connection)
    line = services.quote_line_add(quote=quote, handle=handle, code="CHR-1")
    edit = services.quote_line_update(line=line, handle=handle, quantity=quantity, discount="0")
    assert edit.typed == {"quantity": quantity} and "quantity" in edit.errors
    line.refresh_from_db()
    assert line.quantity == 1


def test_a_dutch_decimal_comma_is_understood(quote):
    handle = quoting.handle_for(quote.connection)
    line = services.quote_line_add(quote=quote, handle=handle, code="CHR-1")
    services.quote_line_update(line=line, handle=handle, quantity="1,5", discount="2,5")
    line.refresh_from_db()
    assert (line.quantity, line.discount_percent) == (Decimal("1.5"), Decimal("2.5"))


def test_an_unknown_code_is_not_added(quote):
    handle = quoting.handle_for(quote.connection)
    with pytest.raises(quoting.UseError) as failed:
        services.quote_line_add(quote=quote, handle=handle, code="NOPE")
    assert failed.value.code == "product_not_found"
    assert not quote.lines.exists()


def test_a_quote_needs_a_title_customer_and_currency(sales):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.quote_create(owner=sales, title=" ", customer="", currency="E")
    assert set(refused.value.message_dict) == {"title", "customer", "currency"}
    assert not Quote.objects.exists()


def test_another_price_list_prices_the_lines_again(fake_erp, rest_connection, sales):
    def products(received):
        price = {"A": "10.00", "B": "8.00"}[received.query.get("price_list", "A")]
        items = [{"code": "P1", "name": "One", "price": price, "currency": "EUR"}]
        if received.query.get("price_list") != "B":
            items.append({"code": "P2", "name": "Two", "price": "5.00", "currency": "EUR"})
        return Reply(json={"products": items})

    fake_erp.reply("/products", products)
    fake_erp.reply(
        "/price-lists",
        json={
            "price_lists": [
                {"id": "A", "name": "List A", "currency": "EUR"},
                {"id": "B", "name": "List B", "currency": "EUR"},
            ]
        },
    )
    connection = rest_connection("ERP", fake_erp.url, users=[sales])
    quote, _choice = services.quote_create(owner=sales, title="T", customer="C", currency="EUR")
    assert quote.connection == connection and quote.price_list == "A"
    handle = quoting.handle_for(connection)
    one = services.quote_line_add(quote=quote, handle=handle, code="P1")
    services.quote_line_update(line=one, handle=handle, quantity="2", discount="10")
    services.quote_line_add(quote=quote, handle=handle, code="P2")
    kept = services.quote_set_price_list(quote=quote, handle=handle, price_list="B")
    assert kept == ["P2"]
    one.refresh_from_db()
    assert (one.unit_price, one.total) == (Decimal("8.00"), Decimal("14.40"))
    assert quote.price_list_name == "List B"

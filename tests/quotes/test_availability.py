"""The quote side and availability: an unavailable connection is not offered, a quote on it
cannot be re-priced and says why, and the API marks it with the message."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils.html import escape

from connections import health, services as connection_services
from connections.models import ERPConnection
from connections.selectors import connection_choice, connections_for_user
from connectors.base import TestResult, TestStatus
from quotes.models import Quote
from tests.connectors.fake_erp import FakeErp

pytestmark = pytest.mark.django_db

DOWN = "The ERP server reported an error (HTTP 503)."


def _fail(connection: ERPConnection, message: str = DOWN) -> None:
    """What a failed health check records (the same service the check calls)."""
    connection_services.connection_result_record(
        connection=connection,
        result=TestResult(TestStatus.ERROR, message, error_code="server_error"),
        automatic=True,
    )


def _recover(connection: ERPConnection) -> None:
    connection_services.connection_result_record(
        connection=connection, result=TestResult(TestStatus.OK, "OK"), automatic=True
    )


def test_a_failed_health_check_takes_the_connection_off_the_quote_side(
    sales, rest_connection, settings
):
    with FakeErp() as erp:
        connection = rest_connection("Flaky ERP", erp.url)
        erp.reply("/health", status=503, json={})
        health.connection_health_check(connection_id=connection.pk)
        [item] = connections_for_user(sales)
        assert item.usable is False and "HTTP 503" in item.message
        erp.reply("/health", json={"status": "ok", "name": "Fake", "version": "1"})
        health.connection_health_check(connection_id=connection.pk)
        [item] = connections_for_user(sales)
        assert item.usable is True and item.message == ""


def test_an_unavailable_connection_is_not_chosen_nor_offered(
    sales, sales_client, register_connection, register_lists
):
    down = register_connection("Register A")
    up = register_connection("Register B")
    _fail(down)
    choice = connection_choice(sales, currency="EUR")
    assert choice.chosen is not None and choice.chosen.connection == up  # taken without asking
    sales_client.post("/quote/new/", {"title": "T", "customer": "C", "currency": "EUR"})
    quote = Quote.objects.get()
    assert quote.connection == up
    html = sales_client.get(f"/quote/{quote.pk}/connection/").content.decode()
    assert "Register B" in html and "Register A" not in html
    response = sales_client.post(f"/quote/{quote.pk}/connection/", {"connection": down.pk})
    assert response.status_code == 400
    quote.refresh_from_db()
    assert quote.connection == up


@pytest.fixture
def quote_on(sales_client: Any, register_connection: Any, register_lists: Any) -> Quote:
    register_connection(max_discount="20")
    sales_client.post("/quote/new/", {"title": "T", "customer": "C", "currency": "EUR"})
    quote = Quote.objects.get()
    sales_client.post(f"/quote/{quote.pk}/lines/add/", {"code": "CHR-1"})
    return quote


def test_a_quote_on_an_unavailable_connection_shows_its_message_and_cannot_reprice(
    sales_client, quote_on, register_lists
):
    connection = quote_on.connection
    assert connection is not None
    _fail(connection)
    html = sales_client.get(f"/quote/{quote_on.pk}/").content.decode()
    assert 'id="connection-unavailable"' in html and DOWN in html
    assert 'id="price-list-form"' not in html  # nothing to re-price with
    line = quote_on.lines.get()
    before = (line.quantity, line.total)
    response = sales_client.post(
        f"/quote/{quote_on.pk}/price-list/", {"price_list": register_lists["USD"].pk}, follow=True
    )
    shown = f'The ERP connection "Register" is unavailable: {DOWN}'
    assert escape(shown) in response.content.decode()
    response = sales_client.post(
        f"/quote/{quote_on.pk}/lines/", {f"quantity-{line.pk}": "3"}, follow=True
    )
    assert DOWN in response.content.decode()
    line.refresh_from_db()
    assert (line.quantity, line.total) == before
    _recover(connection)
    html = sales_client.get(f"/quote/{quote_on.pk}/").content.decode()
    assert 'id="connection-unavailable"' not in html and 'id="price-list-form"' in html


def test_the_api_marks_an_unavailable_connection_with_its_message(
    sales_client, register_connection, register_lists
):
    down = register_connection("Register A")
    register_connection("Register B")
    _fail(down)
    body = sales_client.get("/api/quote/connections/?currency=EUR").json()
    marked = {c["name"]: (c["available"], c["message"]) for c in body["connections"]}
    assert marked == {"Register A": (False, DOWN), "Register B": (True, "")}
    assert body["select_required"] is False  # one usable connection has EUR lists
    response = sales_client.get(f"/api/quote/connections/{down.pk}/price-lists/")
    assert response.status_code == 502
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("unavailable", DOWN)
    response = sales_client.post(
        f"/api/quote/connections/{down.pk}/price/",
        {
            "price_list": str(register_lists["EUR"].pk),
            "lines": [{"code": "CHR-1", "quantity": "1"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 502 and response.json()["error"]["message"] == DOWN


def test_preview_as_user_says_why_a_connection_is_missing(
    manager_client, sales, register_connection
):
    down = register_connection("Register A")
    _fail(down)
    html = manager_client.get(
        "/settings/quote-sync/erp-connections/preview/", {"user": sales.pk}
    ).content.decode()
    assert f"unavailable: {DOWN}" in html

"""The quote pages: My quotes, New quote, Select ERP connection, the quote, failures."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from connections import services as connection_services
from connections.models import ERPConnection
from quotes.models import Quote
from tests.connectors.fake_erp import closed_port

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def create(client: Any, **values: str) -> Any:
    data = {"title": "Office", "customer": "ACME", "currency": "EUR", **values}
    return client.post("/quote/new/", data)


def test_a_sales_user_landing_on_home_goes_to_my_quotes(sales_client):
    response = sales_client.get("/")
    assert response.status_code == 302 and response["Location"] == "/quote/"


def test_my_quotes_needs_a_login(client):
    response = client.get("/quote/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_new_quote_offers_the_reachable_currencies_eur_first(
    sales_client, register_connection, register_lists
):
    register_connection()
    html = sales_client.get("/quote/").content.decode()
    assert html.index('<option value="EUR"') < html.index('<option value="USD"')
    assert "New quote" in html and "My quotes" in html


def test_my_quotes_reads_the_users_connections_once(
    sales_client, register_connection, register_lists
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for name in ("Register A", "Register B", "Register C"):
        register_connection(name)
    with CaptureQueriesContext(connection) as queries:
        html = sales_client.get("/quote/").content.decode()
    assert '<option value="EUR"' in html
    through = ERPConnection.users.through._meta.db_table
    scope_lookups = [q for q in queries.captured_queries if through in q["sql"]]
    assert len(scope_lookups) == 1


def test_a_user_without_connections_gets_a_plain_message(
    sales_client, register_connection, make_user
):
    register_connection("Secret ERP", users=[make_user("olga")])
    html = sales_client.get("/quote/").content.decode()
    assert "no ERP connection is available to you" in html
    assert "Secret ERP" not in html and 'id="new-quote-form"' not in html


def test_one_connection_in_the_currency_opens_the_quote(
    sales_client, register_connection, register_lists
):
    register_connection()
    response = create(sales_client)
    quote = Quote.objects.get()
    assert response["Location"] == f"/quote/{quote.pk}/"
    assert quote.connection_name == "Register"


def test_several_connections_ask_to_select_one(
    sales_client, sales, register_connection, register_lists
):
    register_connection("Register A")
    chosen = register_connection("Register B", users=[sales])
    response = create(sales_client)
    quote = Quote.objects.get()
    assert response["Location"] == f"/quote/{quote.pk}/connection/"
    html = sales_client.get(response["Location"]).content.decode()
    assert "Select ERP connection" in html and "Register A" in html and "Register B" in html
    response = sales_client.post(response["Location"], {"connection": chosen.pk})
    assert response["Location"] == f"/quote/{quote.pk}/"
    quote.refresh_from_db()
    assert quote.connection == chosen


def test_none_in_the_currency_says_so_and_lists_all(
    sales_client, register_connection, register_lists
):
    register_connection("Register A")
    register_connection("Register B")
    register_lists["USD"].delete()
    sales_client.post("/quote/new/", {"title": "T", "customer": "C", "currency": "EUR"})
    quote = Quote.objects.get()
    quote.currency = "USD"
    quote.save()
    html = sales_client.get(f"/quote/{quote.pk}/connection/").content.decode()
    assert "No ERP connection has a price list in USD." in html
    assert "Register A" in html and "Register B" in html


def test_select_refuses_a_connection_outside_the_scope(
    sales_client, register_connection, register_lists, make_user
):
    register_connection("Register A")
    register_connection("Register B")
    other = register_connection("Olga's", users=[make_user("olga")])
    create(sales_client)
    quote = Quote.objects.get()
    response = sales_client.post(f"/quote/{quote.pk}/connection/", {"connection": other.pk})
    assert response.status_code == 400
    quote.refresh_from_db()
    assert quote.connection is None


def test_new_quote_keeps_what_was_typed_on_an_error(
    sales_client, register_connection, register_lists
):
    register_connection()
    response = create(sales_client, title="", customer="Typed customer")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="Typed customer"' in html and "This field is required." in html
    assert not Quote.objects.exists()


@pytest.fixture
def quote(sales_client, register_connection, register_lists):
    register_connection(max_discount="20")
    create(sales_client)
    return Quote.objects.get()


def test_the_quote_page_searches_adds_edits_and_totals(sales_client, quote):
    page = sales_client.get(f"/quote/{quote.pk}/?q=chair").content.decode()
    assert "Standard" in page and "CHR-1" in page
    products = sales_client.get(
        f"/quote/{quote.pk}/?q=desk", headers={**HTMX, "HX-Target": "products"}
    ).content.decode()
    assert products.startswith('\n  <div id="products"') or 'id="products"' in products[:80]
    assert "DSK-1" in products and "CHR-1" not in products
    lines = sales_client.post(f"/quote/{quote.pk}/lines/add/", {"code": "CHR-1"}, headers=HTMX)
    line = quote.lines.get()
    assert 'id="lines"' in lines.content.decode()
    response = sales_client.post(
        f"/quote/{quote.pk}/lines/",
        {f"quantity-{line.pk}": "4", f"discount-{line.pk}": "10"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert 'id="quote-total">EUR 45.00' in html
    line.refresh_from_db()
    assert (line.quantity, line.discount_percent, str(line.total)) == (4, 10, "45.0000")


def test_a_refused_discount_is_shown_on_its_line_and_kept_as_typed(sales_client, quote):
    sales_client.post(f"/quote/{quote.pk}/lines/add/", {"code": "CHR-1"})
    line = quote.lines.get()
    html = sales_client.post(
        f"/quote/{quote.pk}/lines/",
        {f"quantity-{line.pk}": "2", f"discount-{line.pk}": "21"},
        headers=HTMX,
    ).content.decode()
    assert "The maximum discount for this connection is 20 %." in html
    assert f'id="error-discount-{line.pk}"' in html
    assert 'value="21"' in html
    line.refresh_from_db()
    assert line.quantity == 2 and line.discount_percent == 0


def test_another_users_quote_is_404(client, quote, make_user):
    client.force_login(make_user("olga"))
    assert client.get(f"/quote/{quote.pk}/").status_code == 404
    assert client.post(f"/quote/{quote.pk}/lines/add/", {"code": "CHR-1"}).status_code == 404
    assert client.get(f"/quote/{quote.pk}/connection/").status_code == 404
    assert not quote.lines.exists()


def test_my_quotes_lists_only_mine(sales_client, quote, make_user):
    Quote.objects.create(owner=make_user("olga"), title="Olga's", customer="X", currency="EUR")
    html = sales_client.get("/quote/").content.decode()
    assert "Office" in html and "Olga&#x27;s" not in html and "Olga's" not in html


def test_a_deleted_connection_leaves_the_quote_readable(sales_client, quote, manager):
    sales_client.post(f"/quote/{quote.pk}/lines/add/", {"code": "CHR-1"})
    connection_services.connection_delete(actor=manager, connection=quote.connection)
    response = sales_client.get(f"/quote/{quote.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "is no longer available to you" in html and "CHR-1" in html
    refused = sales_client.post(f"/quote/{quote.pk}/lines/add/", {"code": "DSK-1"}, headers=HTMX)
    assert "no longer available" in refused.content.decode()
    assert quote.lines.count() == 1


def test_scope_changed_while_the_quote_is_open(sales_client, quote, sales, make_user):
    connection = quote.connection
    connection.scope = ERPConnection.Scope.SPECIFIC
    connection.save()
    connection.users.set([make_user("olga")])
    html = sales_client.get(f"/quote/{quote.pk}/").content.decode()
    assert "is no longer available to you" in html
    team = Group.objects.create(name="Team")
    sales.groups.add(team)
    connection.groups.add(team)
    html = sales_client.get(f"/quote/{quote.pk}/").content.decode()
    assert "is no longer available to you" not in html


def test_an_unreachable_erp_shows_the_connectors_message(
    sales_client, sales, rest_connection, register_lists
):
    connection = rest_connection("Down ERP", f"http://127.0.0.1:{closed_port()}/", users=[sales])
    quote = Quote.objects.create(
        owner=sales, title="T", customer="C", currency="EUR", connection=connection
    )
    html = sales_client.get(f"/quote/{quote.pk}/?q=chair").content.decode()
    assert "Cannot reach 127.0.0.1" in html


def test_the_fallback_shows_the_registers_products_with_the_notice(
    sales_client, sales, rest_connection, register_lists
):
    connection = rest_connection(
        "Down ERP", f"http://127.0.0.1:{closed_port()}/", users=[sales], fallback_to_register=True
    )
    quote = Quote.objects.create(
        owner=sales, title="T", customer="C", currency="EUR", connection=connection
    )
    html = sales_client.get(f"/quote/{quote.pk}/?q=chair").content.decode()
    assert "The ERP cannot be reached; prices come from the product register." in html
    assert "CHR-1" in html


def test_the_quote_page_is_in_dutch(sales_client, quote):
    html = sales_client.get(f"/quote/{quote.pk}/", headers={"Accept-Language": "nl"}).content
    assert "Prijslijst" in html.decode()


def test_an_anonymous_visit_to_home_logs_in_first_and_comes_back(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/"


def test_the_admin_shows_quotes_read_only(admin_client, quote):
    response = admin_client.get(f"/admin/quotes/quote/{quote.pk}/change/")
    assert response.status_code == 200 and "Office" in response.content.decode()
    assert admin_client.get("/admin/quotes/quote/add/").status_code == 403


def test_choosing_a_price_list_on_the_page(sales_client, quote, register_lists):
    response = sales_client.post(
        f"/quote/{quote.pk}/price-list/", {"price_list": "nonsense", "q": "chair"}
    )
    assert response["Location"] == f"/quote/{quote.pk}/?q=chair"
    html = sales_client.get(response["Location"]).content.decode()
    assert "Choose one of the price lists shown." in html
    sales_client.post(f"/quote/{quote.pk}/price-list/", {"price_list": register_lists["EUR"].pk})
    quote.refresh_from_db()
    assert quote.price_list == str(register_lists["EUR"].pk)


def test_a_restored_connection_makes_the_quote_editable_again(sales_client, quote, manager):
    connection_services.connection_delete(actor=manager, connection=quote.connection)
    assert "no longer available" in sales_client.get(f"/quote/{quote.pk}/").content.decode()
    connection_services.connection_restore(actor=manager, connection=quote.connection)
    html = sales_client.get(f"/quote/{quote.pk}/").content.decode()
    assert "no longer available" not in html and 'id="product-search"' in html


def test_the_lines_form_that_posts_each_change_stays_in_the_page(sales_client, quote):
    """Only ``#lines`` inside the form is swapped. htmx wires up swapped-in elements after
    its settle delay, so a form that came with each answer would miss a change made in that
    moment (a quick Tab after an edit), and the edit would be lost."""
    page = sales_client.get(f"/quote/{quote.pk}/").content.decode()
    form = page.index('<form id="lines-form"')
    assert 'hx-trigger="change"' in page[form : page.index(">", form)]
    assert form < page.index('<div id="lines"') < page.index("</form>", form)
    answer = sales_client.post(f"/quote/{quote.pk}/lines/add/", {"code": "CHR-1"}, headers=HTMX)
    html = answer.content.decode()
    assert html.lstrip().startswith('<div id="lines"')
    assert "<form" not in html and "hx-trigger" not in html

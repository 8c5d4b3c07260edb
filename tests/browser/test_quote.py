"""The quote side in a real browser: a sales user creates a quote, passes Select ERP
connection, finds a product, edits quantity and discount and sees the totals."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABELS = {
    "en": {
        "new": "New quote",
        "title": "Title",
        "customer": "Customer",
        "currency": "Currency",
        "create": "Create quote",
        "select": "Select ERP connection",
        "find": "Find a product",
        "add": "Add Monitor 27 inch QHD",
        "quantity": "Quantity of Monitor 27 inch QHD",
        "discount": "Discount (%) of Monitor 27 inch QHD",
        "refused": "The maximum discount for this connection is 15 %.",
        "totals": ("319.48", "638.96", "575.06"),
        "preview": "Preview as user",
        "search_users": "Search users",
    },
    "nl": {
        "new": "Nieuwe offerte",
        "title": "Titel",
        "customer": "Klant",
        "currency": "Valuta",
        "create": "Offerte maken",
        "select": "ERP-verbinding selecteren",
        "find": "Product zoeken",
        "add": "Monitor 27 inch QHD toevoegen",
        "quantity": "Aantal van Monitor 27 inch QHD",
        "discount": "Korting (%) op Monitor 27 inch QHD",
        "refused": "De maximale korting voor deze verbinding is 15 %.",
        "totals": ("319,48", "638,96", "575,06"),
        "preview": "Voorbeeld als gebruiker",
        "search_users": "Gebruikers zoeken",
    },
}


def test_a_sales_user_writes_a_quote(
    page: Page,
    live_server,
    password,
    sales,
    register_connection,
    rest_connection,
    demo_erp,
    register_lists,
    language,
):
    labels = LABELS[language]
    register_connection("Register", max_discount="20")
    rest_connection("Demo ERP", demo_erp, users=[sales], max_discount="15")

    page.goto(f"{live_server.url}/")
    page.locator("#id_username").fill("sam")
    page.locator("#id_password").fill(password)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/quote/$"))

    expect(page.get_by_role("heading", name=labels["new"])).to_be_visible()
    assert_accessible(page)
    page.get_by_label(labels["title"]).fill("Office move")
    page.get_by_label(labels["customer"]).fill("ACME")
    expect(page.get_by_label(labels["currency"])).to_have_value("EUR")
    page.get_by_role("button", name=labels["create"]).click()

    expect(page.get_by_role("heading", name=labels["select"])).to_be_visible()
    assert_accessible(page)
    page.get_by_label(re.compile("Demo ERP")).check()
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#quote-connection")).to_contain_text("Demo ERP")

    page.get_by_label(labels["find"]).fill("monitor")
    expect(page).to_have_url(re.compile(r"\?q=monitor"))
    page.get_by_role("button", name=labels["add"]).click()

    quantity = page.get_by_label(labels["quantity"])
    expect(quantity).to_have_value("1")
    total = page.locator("#quote-total")
    expect(total).to_contain_text(labels["totals"][0])

    quantity.fill("2")
    quantity.press("Tab")
    expect(total).to_contain_text(labels["totals"][1])

    discount = page.get_by_label(labels["discount"])
    discount.fill("20")
    discount.press("Tab")
    expect(page.get_by_role("alert").filter(has_text=labels["refused"])).to_be_visible()
    expect(page.get_by_label(labels["discount"])).to_have_value("20")
    expect(total).to_contain_text(labels["totals"][1])

    page.get_by_label(labels["discount"]).fill("10")
    page.get_by_label(labels["discount"]).press("Tab")
    expect(total).to_contain_text(labels["totals"][2])
    expect(page.get_by_text(labels["refused"])).to_have_count(0)
    assert_accessible(page)

    page.reload()  # saved as edited
    expect(page.get_by_label(labels["quantity"])).to_have_value("2")
    expect(page.locator("#quote-total")).to_contain_text(labels["totals"][2])


def test_an_administrator_previews_what_a_user_gets(
    page: Page, log_in, manager, sales, register_connection, register_lists, language
):
    labels = LABELS[language]
    register_connection("Register for all")
    log_in(page, "manager")
    page.get_by_role("button", name=labels["preview"]).click()
    dialog = page.locator("#preview-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label(labels["search_users"]).fill("sam")
    dialog.get_by_role("link", name="sam", exact=True).click()
    expect(dialog.locator("#preview-result")).to_contain_text("Register for all")
    expect(dialog.locator("#preview-result")).to_contain_text("Standard")
    assert_accessible(page)
    expect(page).to_have_url(re.compile(rf"user={sales.pk}"))
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(page).not_to_have_url(re.compile("preview"))


def test_the_api_docs_show_every_endpoint_to_a_logged_in_user(
    page: Page, live_server, password, sales, language
):
    page.goto(f"{live_server.url}/api/quote/docs")
    page.locator("#id_username").fill("sam")
    page.locator("#id_password").fill(password)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/api/quote/docs$"))
    for path in [
        "/api/quote/connections/",
        "/api/quote/connections/{connection_id}/price-lists/",
        "/api/quote/connections/{connection_id}/products/",
        "/api/quote/connections/{connection_id}/price/",
    ]:
        expect(page.locator(".opblock-summary-path", has_text=path).first).to_be_visible()

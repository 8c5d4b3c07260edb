"""Conditional fields, tooltips and choices from the ERP in a real browser."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_dialog import LABELS, assert_same_page, mark_page, open_add

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.parametrize("language", ["en"]),
]


def test_choosing_bearer_token_shows_the_token_field(page: Page, log_in, manager, language):
    log_in(page, "manager")
    mark_page(page)
    dialog = open_add(page, LABELS["en"])
    dialog.get_by_label("Quote connector", exact=True).select_option("rest_json")
    token = dialog.locator("[name=config__api_token]")
    username = dialog.locator("[name=config__username]")
    expect(dialog.locator("[name=config__base_url]")).to_be_visible()
    expect(token).to_be_hidden()
    expect(username).to_be_hidden()

    dialog.locator("[name=config__authentication]").select_option(label="Bearer token")
    expect(token).to_be_visible()
    expect(token).to_be_enabled()
    expect(username).to_be_hidden()

    dialog.locator("[name=config__authentication]").select_option(label="Basic")
    expect(token).to_be_hidden()
    expect(token).to_be_disabled()  # hidden fields are not posted
    expect(username).to_be_visible()
    expect(dialog.locator("[name=config__password]")).to_be_visible()
    assert_same_page(page)


def test_help_is_a_tooltip_reached_with_the_keyboard(page: Page, log_in, manager, language):
    log_in(page, "manager")
    dialog = open_add(page, LABELS["en"])
    dialog.get_by_label("Quote connector", exact=True).select_option("rest_json")
    info = dialog.locator("#field-config__base_url").get_by_role("button", name="More information")
    tooltip = dialog.locator("#id_config__base_url_helptext")
    expect(tooltip).to_be_hidden()
    dialog.locator("[name=config__base_url]").focus()
    page.keyboard.press("Shift+Tab")  # the info button sits next to the label
    expect(info).to_be_focused()
    expect(tooltip).to_be_visible()
    expect(tooltip).to_have_text(
        "Address of the ERP's REST/JSON interface, for example https://erp.example.com/api."
    )
    expect(info).to_have_accessible_description(tooltip.inner_text())
    page.keyboard.press("Escape")
    expect(tooltip).to_be_hidden()
    expect(dialog).to_be_visible()


@pytest.mark.tryton
def test_tryton_credentials_fill_the_company_list_from_the_server(
    page: Page, log_in, manager, language, tryton_server: Any, settings: Any
):
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    log_in(page, "manager")
    dialog = open_add(page, LABELS["en"])
    dialog.get_by_label("Quote connector", exact=True).select_option("tryton")
    company = dialog.locator("select[name=config__company]")
    expect(dialog.locator("#choices-message-config__company")).to_contain_text("Fill in")
    dialog.locator("[name=config__server_url]").fill(tryton_server.url)
    dialog.locator("[name=config__database]").fill(tryton_server.database)
    dialog.locator("[name=config__api_key]").fill(tryton_server.api_key)
    dialog.locator("[name=config__api_key]").press("Tab")
    expect(company.locator("option", has_text="Demo Office Supplies (EUR)")).to_have_count(1)
    expect(dialog.locator("#choices-message-config__company")).to_be_hidden()
    price_list = dialog.locator("select[name=config__price_list]")
    expect(price_list.locator("option", has_text="None: use list prices")).to_have_count(1)
    options = price_list.locator("option")
    expect(options).not_to_have_count(1)  # the price lists of the company came too

    def price_list_reload(response: Any) -> bool:
        return "field=price_list" in (response.request.post_data or "")

    with page.expect_response(price_list_reload) as reloaded:
        company.select_option(str(tryton_server.company_id))
    assert "None: use list prices" in reloaded.value.text()

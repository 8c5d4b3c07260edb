from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en"], indirect=False)
def test_add_smoke(page: Page, log_in, manager, demo_erp):
    log_in(page, "manager")
    page.get_by_role("button", name="Add").click()
    dialog = page.get_by_role("dialog", name="Define new ERP connection")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name").fill("Demo")
    dialog.get_by_label("Quote connector").select_option("rest_json")
    expect(dialog.get_by_label("Base URL")).to_be_visible()
    dialog.get_by_label("Base URL").fill(demo_erp)
    dialog.get_by_label("Authentication").select_option("bearer")
    dialog.get_by_label("API token").fill("demo-token")
    ok = dialog.get_by_role("button", name="OK", exact=True)
    expect(ok).to_be_disabled()
    dialog.get_by_role("button", name="Test ERP connection").click()
    expect(dialog.locator("#test-result")).to_contain_text("Connection OK")
    expect(ok).to_be_enabled()
    page.screenshot(path="/tmp/dialog.png")
    ok.click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#connection-table")).to_contain_text("Demo")

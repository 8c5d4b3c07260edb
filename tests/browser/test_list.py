"""The ERP connections list in a real browser: delete, show deleted, restore."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from connections.models import ERPConnection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABELS = {
    "en": {
        "tab": "ERP connections",
        "header": "Settings and maintenance",
        "delete": "Delete",
        "deleted": "Deleted",
        "restore": "Restore",
        "deleted_by": "Deleted by manager on",
    },
    "nl": {
        "tab": "ERP-verbindingen",
        "header": "Instellingen en onderhoud",
        "delete": "Verwijderen",
        "deleted": "Verwijderd",
        "restore": "Herstellen",
        "deleted_by": "Verwijderd door manager op",
    },
}


def test_delete_then_restore_a_connection(page: Page, log_in, manager, make_connection, language):
    labels = LABELS[language]
    make_connection("Keep me")
    doomed = make_connection("Delete me")

    log_in(page, "manager")
    expect(page.get_by_role("heading", name=labels["header"])).to_be_visible()
    expect(page.get_by_role("link", name=labels["tab"], exact=True)).to_be_visible()
    rows = page.locator("#connection-table tbody tr.connection-row")
    expect(rows).to_have_count(2)

    page.locator(f"#connection-{doomed.pk} input[name=ids]").check()
    page.get_by_role("button", name=labels["delete"], exact=True).click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name=labels["delete"], exact=True).click()
    expect(confirm).to_have_count(0)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Keep me")
    assert ERPConnection.all_objects.get(pk=doomed.pk).deleted_at is not None

    page.get_by_label(labels["deleted"], exact=True).check()
    expect(page).to_have_url(re.compile(r"deleted=1"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(labels["deleted_by"])

    page.locator(f"#connection-{doomed.pk} input[name=ids]").check()
    page.get_by_role("button", name=labels["restore"], exact=True).click()
    expect(rows).to_have_count(0)
    assert ERPConnection.objects.get(pk=doomed.pk).deleted_at is None

    page.get_by_label(labels["deleted"], exact=True).uncheck()
    expect(rows).to_have_count(2)


def test_search_state_survives_reload_and_back(page: Page, log_in, manager, make_connection):
    make_connection("North ERP")
    make_connection("South ERP")
    log_in(page, "manager")
    rows = page.locator("#connection-table tbody tr.connection-row")

    page.get_by_role("searchbox").fill("north")
    expect(page).to_have_url(re.compile(r"q=north"))
    expect(rows).to_have_count(1)

    page.reload()
    expect(rows).to_have_count(1)
    expect(page.get_by_role("searchbox")).to_have_value("north")

    page.go_back()
    expect(rows).to_have_count(2)


def test_sorting_and_deleting_replace_the_list_without_nesting_it(
    page: Page, log_in, manager, make_connection
):
    make_connection("Alpha")
    doomed = make_connection("Beta")
    log_in(page, "manager")
    page.locator("#connection-table thead a").first.click()
    expect(page).to_have_url(re.compile(r"sort=-name"))
    expect(page.locator("#connection-table tbody tr.connection-row").first).to_contain_text("Beta")
    page.locator(f"#connection-{doomed.pk} input[name=ids]").check()
    page.locator("#delete-button").click()
    page.locator("#confirm-delete").click()
    expect(page.locator("#connection-table tbody tr.connection-row")).to_have_count(1)
    assert page.locator("#results").count() == 1
    assert page.locator("#connection-table").count() == 1


def test_the_language_switch_changes_the_language_under_the_policy(
    page: Page, log_in, manager, live_server
):
    log_in(page, "manager")
    page.locator("#language-select").select_option("nl")
    expect(page.locator("h1.app-title")).to_have_text("Instellingen en onderhoud")
    policy = page.request.get(f"{live_server.url}/accounts/login/").headers[
        "content-security-policy"
    ]
    assert "script-src 'self'" in policy

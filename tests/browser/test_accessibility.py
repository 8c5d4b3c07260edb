"""axe-core on the ERP connections list, the connection dialog and the access dialog:
no violation of impact "serious" or "critical"."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}


def blocking_violations(page: Page) -> list[dict[str, Any]]:
    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(
        [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [
                    {"target": n["target"], "summary": n.get("failureSummary", "")}
                    for n in v["nodes"]
                ],
            }
            for v in violations
        ],
        indent=2,
    )


def assert_accessible(page: Page) -> None:
    violations = blocking_violations(page)
    assert not violations, describe(violations)


def test_the_list_page_is_accessible(page: Page, log_in, manager, make_connection, language):
    make_connection("North ERP", description="Prices for the north")
    make_connection("South ERP")
    log_in(page, "manager")
    expect(page.locator("#connection-table tr.connection-row")).to_have_count(2)
    page.locator("#connection-table tr.connection-row").first.get_by_role("checkbox").check()
    assert_accessible(page)


def test_the_connection_dialog_is_accessible(
    page: Page, log_in, manager, settings, make_user, language
):
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    make_user("jdoe", first_name="Jane", last_name="Doe")
    Group.objects.create(name="Sales")
    log_in(page, "manager")
    page.locator("#add-button").click()
    dialog = page.locator("#connection-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("[name=name]").fill("Nobody home")
    dialog.locator("[name=connector]").select_option("rest_json")
    expect(dialog.locator("[name=config__base_url]")).to_be_visible()
    dialog.locator("[name=config__base_url]").fill("http://127.0.0.1:9/")
    # A failed test: the result, the technical detail and its colours are on screen.
    dialog.locator("#test-button").click()
    result = dialog.locator("#test-result")
    expect(result).to_have_class(re.compile(r"\bstatus-error\b"))
    result.locator("details summary").click()
    assert_accessible(page)

    # Field errors next to their fields (an invalid Base URL, nobody picked).
    dialog.locator("input[name=scope][value=specific]").check()
    dialog.locator("[name=config__base_url]").fill("not a url")
    dialog.locator("#test-button").click()
    expect(dialog.locator("#error-config__base_url")).not_to_be_empty()
    expect(dialog.locator("#error-scope")).not_to_be_empty()
    assert_accessible(page)

    dialog.locator("#open-access").click()
    access = page.locator("#access-dialog")
    expect(access).to_be_visible()
    expect(access.get_by_role("checkbox", name="Jane Doe")).to_be_visible()
    access.get_by_role("checkbox", name="Jane Doe").check()
    assert_accessible(page)

    access.locator("#access-ok").click()
    expect(access).to_be_hidden()
    expect(dialog.locator("#picked .pick")).to_have_count(1)
    assert_accessible(page)


def test_the_delete_confirmation_and_history_dialogs_are_accessible(
    page: Page, log_in, manager, make_connection, language
):
    from connections import services

    north = make_connection("North ERP")
    gone = make_connection("Old ERP")
    services.connection_delete(actor=manager, connection=gone)
    log_in(page, "manager")
    page.locator(f"#connection-{north.pk} input[name=ids]").check()
    page.locator("#delete-button").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    assert_accessible(page)
    page.keyboard.press("Escape")
    page.locator("#show-deleted").check()
    page.locator(f"#connection-{gone.pk} .history-button").click()
    expect(page.locator("#history-dialog")).to_be_visible()
    assert_accessible(page)


def test_the_edit_dialog_with_its_history_is_accessible(
    page: Page, log_in, manager, make_connection, language
):
    connection = make_connection("North ERP")
    log_in(page, "manager")
    page.locator(f"#connection-{connection.pk} a.edit-link").click()
    dialog = page.locator("#connection-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#dialog-history summary").click()
    assert_accessible(page)


def test_the_other_pages_are_accessible(
    page: Page, log_in, manager, live_server, make_user, password, language
):
    log_in(page, "manager")
    for path in [
        "/settings/quote-sync/quote-connectors/",
        "/settings/quote-sync/sync-connections/",
    ]:
        page.goto(f"{live_server.url}{path}")
        assert_accessible(page)
    page.context.clear_cookies()
    make_user("anna")
    page.goto(f"{live_server.url}/accounts/login/?next=/settings/quote-sync/erp-connections/")
    page.locator("#id_username").fill("anna")
    page.locator("#id_password").fill(password)
    page.locator("form button[type=submit]").click()
    expect(page.locator(".no-access")).to_be_visible()
    assert_accessible(page)

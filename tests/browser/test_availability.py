"""Availability on the list in a real browser: icon and message, the *Unavailable* filter,
and a successful test from the list that makes a connection available again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from connections import health
from tests.connectors.fake_erp import FakeErp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABELS = {
    "en": {"unavailable": "Unavailable", "test": "Test ERP connection", "auto": "automatic check"},
    "nl": {
        "unavailable": "Niet beschikbaar",
        "test": "ERP-verbinding testen",
        "auto": "automatische controle",
    },
}


@pytest.fixture
def fake_erp(settings: Any) -> Iterator[FakeErp]:
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    with FakeErp() as erp:
        yield erp


def test_unavailable_connection_is_marked_filtered_and_recovers_from_the_list(
    page: Page, log_in, manager, make_connection, fake_erp, language
):
    labels = LABELS[language]
    config = {"base_url": fake_erp.url, "auth": "none", "timeout": 2}
    down = make_connection("Down ERP", config=config)
    make_connection("Product register", connector_key="product_register", config={})
    fake_erp.reply("/health", status=503, json={})
    health.connection_health_check(connection_id=down.pk)

    log_in(page, "manager")
    rows = page.locator("#connection-table tbody tr.connection-row")
    expect(rows).to_have_count(2)
    down_row = page.locator(f"#connection-{down.pk}")
    expect(down_row.get_by_role("img", name=labels["unavailable"])).to_be_visible()
    expect(down_row).to_contain_text("HTTP 503")
    expect(down_row).to_contain_text(labels["auto"])

    page.get_by_role("checkbox", name=labels["unavailable"], exact=True).check()
    expect(page).to_have_url(re.compile(r"unavailable=1"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Down ERP")

    fake_erp.reply("/health", json={"status": "ok", "name": "Fake", "version": "1"})
    down_row.locator("input[name=ids]").check()
    page.get_by_role("button", name=labels["test"], exact=True).click()
    expect(page.locator("#connection-table tbody td.empty")).to_be_visible()  # none left
    page.get_by_role("checkbox", name=labels["unavailable"], exact=True).uncheck()
    expect(rows).to_have_count(2)
    expect(page.get_by_role("img", name=labels["unavailable"])).to_have_count(0)

"""The administrator's side as a new administrator meets it (issue 12, points 1-7).

Every test here also fails on a console error or a native browser box (conftest).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from playwright.sync_api import Locator, Page, expect

from connections import services
from connections.models import ConnectionEvent, ERPConnection
from tests.browser.test_dialog import (
    LABELS as DIALOG_LABELS,
    choose_rest_json,
    fill_rest_json,
    name_box,
    ok_button,
    open_add,
    rest_connection,
    run_test,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

english_only = pytest.mark.parametrize("language", ["en"])

WORDS = {
    "en": {
        "not_tested": "Not tested",
        "outdated": "The values changed since this test. Test again.",
        "taken": "A connection with this name already exists.",
        "blocked": "The connection works, but it cannot be saved yet:",
        "edit_first": "Select a connection to edit first.",
        "select_first": "Select one or more connections first.",
        "delete": "Delete",
        "cancel": "Cancel",
        "confirm_one": "Delete this ERP connection?",
        "confirm_two": "Delete these 2 ERP connections?",
        "deleted": "Deleted",
        "restore": "Restore",
        "history": "History",
        "changed_timeout": "Timeout (seconds): 10 -> 7",
        "changed_token": "API token: changed",
        "created": "Created",
        "changed": "Changed",
        "tested_changes": "Tested changes (not saved)",
        "deleted_action": "Deleted",
        "no_access": "No access to these settings",
        "log_out": "Log out",
        "choice": "Choice: Half up, Half even, Down",
        "password": "Password",
        "price_lists": "Price lists",
        "unavailable": "Unavailable",
        "live_ok": "Test result: OK.",
        "restored": "Restored 1 connection.",
        "deleted_one": "Deleted 1 connection.",
    },
    "nl": {
        "not_tested": "Niet getest",
        "outdated": "De waarden zijn gewijzigd sinds deze test. Test opnieuw.",
        "taken": "Er bestaat al een verbinding met deze naam.",
        "blocked": "De verbinding werkt, maar kan nog niet worden opgeslagen:",
        "edit_first": "Selecteer eerst een verbinding om te bewerken.",
        "select_first": "Selecteer eerst een of meer verbindingen.",
        "delete": "Verwijderen",
        "cancel": "Annuleren",
        "confirm_one": "Deze ERP-verbinding verwijderen?",
        "confirm_two": "Deze 2 ERP-verbindingen verwijderen?",
        "deleted": "Verwijderd",
        "restore": "Herstellen",
        "history": "Geschiedenis",
        "changed_timeout": "Time-out (seconden): 10 -> 7",
        "changed_token": "API-token: gewijzigd",
        "created": "Aangemaakt",
        "changed": "Gewijzigd",
        "tested_changes": "Wijzigingen getest (niet opgeslagen)",
        "deleted_action": "Verwijderd",
        "no_access": "Geen toegang tot deze instellingen",
        "log_out": "Uitloggen",
        "choice": "Keuze: Half naar boven, Half naar even, Naar beneden",
        "password": "Wachtwoord",
        "price_lists": "Prijslijsten",
        "unavailable": "Niet beschikbaar",
        "live_ok": "Testresultaat: OK.",
        "restored": "1 verbinding hersteld.",
        "deleted_one": "1 verbinding verwijderd.",
    },
}


def open_edit(page: Page, connection: ERPConnection, language: str) -> Locator:
    page.locator(f"#connection-{connection.pk}").get_by_role("link", name=connection.name).click()
    dialog = page.get_by_role("dialog", name=DIALOG_LABELS[language]["edit_title"])
    expect(dialog).to_be_visible()
    return dialog


# --- 1. an honest last test ---------------------------------------------------------------------


def test_the_test_that_allowed_the_save_is_the_rows_last_test(
    page: Page, log_in, manager, demo_erp, language
):
    labels, words = DIALOG_LABELS[language], WORDS[language]
    log_in(page, "manager")
    dialog = open_add(page, labels)
    name_box(dialog, labels).fill("Demo ERP")
    choose_rest_json(dialog, labels)
    fill_rest_json(dialog, demo_erp)
    expect(run_test(dialog, labels)).to_have_class(re.compile(r"\bstatus-ok\b"))
    ok_button(dialog, labels).click()
    expect(dialog).to_be_hidden()
    last_test = page.locator("#connection-table tr.connection-row td.last-test")
    expect(last_test).not_to_contain_text(words["not_tested"])
    expect(last_test.locator(".status")).to_have_class(re.compile(r"\bstatus-ok\b"))
    expect(last_test).to_contain_text("manager")
    connection = ERPConnection.objects.get()
    assert connection.last_test_status == "ok" and connection.last_test_by == manager


def test_a_test_of_unsaved_values_does_not_touch_the_row(
    page: Page, log_in, manager, make_connection, demo_erp, language
):
    labels, words = DIALOG_LABELS[language], WORDS[language]
    connection = rest_connection(make_connection, "Demo ERP", demo_erp, token="demo-token")
    log_in(page, "manager")
    row = page.locator(f"#connection-{connection.pk}")
    dialog = open_edit(page, connection, language)
    dialog.locator("[name=config__timeout]").fill("7")
    expect(run_test(dialog, labels)).to_have_class(re.compile(r"\bstatus-ok\b"))
    dialog.get_by_role("button", name=labels["cancel"], exact=True).click()
    expect(dialog).to_be_hidden()
    expect(row.locator("td.last-test")).to_have_text(words["not_tested"])
    connection.refresh_from_db()
    assert connection.last_test_at is None and connection.config["timeout"] == 10
    event = connection.events.get(action=ConnectionEvent.Action.TEST)
    assert event.changes["unsaved"] is True and event.actor == manager


# --- 2. the dialog says what a result applies to ------------------------------------------------


def test_a_change_marks_the_result_outdated_and_disables_ok(
    page: Page, log_in, manager, demo_erp, language
):
    labels, words = DIALOG_LABELS[language], WORDS[language]
    log_in(page, "manager")
    dialog = open_add(page, labels)
    name_box(dialog, labels).fill("Demo ERP")
    choose_rest_json(dialog, labels)
    fill_rest_json(dialog, demo_erp)
    result = run_test(dialog, labels)
    ok = ok_button(dialog, labels)
    expect(ok).to_be_enabled()
    expect(result.locator(".test-outdated")).to_be_hidden()
    dialog.locator("[name=config__api_token]").fill("another-token")
    expect(result).to_have_class(re.compile(r"\boutdated\b"))
    expect(result.locator(".test-outdated")).to_have_text(words["outdated"])
    expect(page.locator("#test-live")).to_have_text(words["outdated"])
    expect(ok).to_be_disabled()


def test_the_test_reports_a_taken_name_without_enabling_ok(
    page: Page, log_in, manager, make_connection, demo_erp, language
):
    labels, words = DIALOG_LABELS[language], WORDS[language]
    make_connection("Demo ERP")
    log_in(page, "manager")
    dialog = open_add(page, labels)
    name_box(dialog, labels).fill("demo erp")
    choose_rest_json(dialog, labels)
    fill_rest_json(dialog, demo_erp)
    result = run_test(dialog, labels)
    expect(result).to_have_class(re.compile(r"\bstatus-ok\b"))
    expect(result.locator(".test-blockers")).to_contain_text(words["blocked"])
    expect(result.locator(".test-blockers")).to_contain_text(words["taken"])
    expect(dialog.locator("#error-name")).to_have_text(words["taken"])
    expect(name_box(dialog, labels)).to_have_attribute("aria-invalid", "true")
    expect(ok_button(dialog, labels)).to_be_disabled()

    name_box(dialog, labels).fill("Demo ERP 2")
    result = run_test(dialog, labels)
    expect(result.locator(".test-blockers")).to_have_count(0)
    expect(dialog.locator("#error-name")).to_be_empty()
    expect(ok_button(dialog, labels)).to_be_enabled()


# --- 3. no native boxes (conftest fails on any) ---------------------------------------------------


def test_edit_and_delete_without_a_selection_say_so_in_the_page(
    page: Page, log_in, manager, make_connection, language
):
    labels, words = DIALOG_LABELS[language], WORDS[language]
    make_connection("North ERP")
    log_in(page, "manager")
    page.get_by_role("button", name=labels["edit"], exact=True).click()
    message = page.locator("#results .messages")
    expect(message).to_have_text(words["edit_first"])
    expect(message).to_be_focused()
    page.get_by_role("button", name=words["delete"], exact=True).click()
    expect(message).to_have_text(words["select_first"])
    expect(page.locator("dialog[open]")).to_have_count(0)


def test_delete_confirms_in_a_small_dialog_that_names_the_connections(
    page: Page, log_in, manager, make_connection, language
):
    words = WORDS[language]
    north, south = make_connection("North ERP"), make_connection("South ERP")
    make_connection("West ERP")
    log_in(page, "manager")
    delete = page.get_by_role("button", name=words["delete"], exact=True)
    for connection in (north, south):
        page.locator(f"#connection-{connection.pk} input[name=ids]").check()
    delete.click()
    confirm = page.get_by_role("dialog", name=words["confirm_two"])
    expect(confirm).to_be_visible()
    expect(confirm.locator(".confirm-names li")).to_have_text(["North ERP", "South ERP"])
    expect(confirm.get_by_role("button", name=words["cancel"], exact=True)).to_be_focused()

    page.keyboard.press("Escape")  # Esc closes it, nothing is deleted, focus goes back
    expect(confirm).to_have_count(0)
    expect(delete).to_be_focused()
    assert ERPConnection.objects.count() == 3

    delete.click()
    confirm = page.get_by_role("dialog", name=words["confirm_two"])
    confirm.get_by_role("button", name=words["cancel"], exact=True).click()
    expect(confirm).to_have_count(0)
    assert ERPConnection.objects.count() == 3

    delete.click()
    page.get_by_role("dialog", name=words["confirm_two"]).get_by_role(
        "button", name=words["delete"], exact=True
    ).click()
    expect(page.locator("#connection-table tr.connection-row")).to_have_count(1)
    assert list(ERPConnection.objects.values_list("name", flat=True)) == ["West ERP"]


# --- 4. focus ------------------------------------------------------------------------------------


def test_focus_after_test_ok_delete_and_restore(page: Page, log_in, manager, demo_erp, language):
    labels, words = DIALOG_LABELS[language], WORDS[language]
    log_in(page, "manager")
    dialog = open_add(page, labels)
    name_box(dialog, labels).fill("Demo ERP")
    choose_rest_json(dialog, labels)
    fill_rest_json(dialog, demo_erp)
    test_button = dialog.get_by_role("button", name=labels["test"])
    test_button.focus()
    page.keyboard.press("Enter")
    expect(dialog.locator("#test-result .test-status")).to_be_visible()
    expect(test_button).to_be_focused()  # not lost to <body>
    live = page.locator("#test-live")
    expect(live).to_have_attribute("role", "status")
    expect(live).to_contain_text(words["live_ok"])
    page.keyboard.press("Tab")  # the next Tab reaches OK
    ok = ok_button(dialog, labels)
    expect(ok).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    connection = ERPConnection.objects.get()
    name_link = page.locator(f"#connection-{connection.pk}").get_by_role("link", name="Demo ERP")
    expect(name_link).to_be_focused()

    page.locator(f"#connection-{connection.pk} input[name=ids]").check()
    page.get_by_role("button", name=words["delete"], exact=True).click()
    page.locator("#confirm-delete").click()
    message = page.locator("#results .messages")
    expect(message).to_have_text(words["deleted_one"])
    expect(message).to_be_focused()

    page.get_by_label(words["deleted"], exact=True).check()
    page.locator(f"#connection-{connection.pk} input[name=ids]").check()
    page.get_by_role("button", name=words["restore"], exact=True).click()
    expect(message).to_have_text(words["restored"])
    expect(message).to_be_focused()


# --- 5. history in the app ----------------------------------------------------------------------


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # Not the server's time zone (Europe/Amsterdam): the history must follow the browser.
    return {**browser_context_args, "timezone_id": "America/New_York"}


def test_the_edit_dialog_shows_the_history_in_words_and_local_time(
    page: Page, log_in, manager, make_connection, demo_erp, language
):
    words = WORDS[language]
    manager.first_name, manager.last_name = "Mia", "Manager"
    manager.save()
    connection = rest_connection(make_connection, "Demo ERP", demo_erp, token="demo-token")
    services.event_record(
        connection=connection,
        actor=manager,
        action=ConnectionEvent.Action.CREATE,
        changes={"name": "Demo ERP", "connector": "rest_json"},
    )
    services.event_record(
        connection=connection,
        actor=manager,
        action=ConnectionEvent.Action.CHANGE,
        changes={
            "config": [{**connection.config, "timeout": 10}, {**connection.config, "timeout": 7}],
            "secrets_changed": ["api_token"],
        },
    )
    at = datetime(2026, 3, 14, 15, 30, tzinfo=UTC)
    ConnectionEvent.objects.filter(connection=connection).update(at=at)
    log_in(page, "manager")
    dialog = open_edit(page, connection, language)
    history = dialog.locator("#dialog-history")
    history.get_by_text(words["history"], exact=True).click()
    entries = history.locator(".history-entry")
    expect(entries).to_have_count(2)
    changed = entries.filter(has_text=words["changed"])
    expect(changed).to_contain_text(words["changed_timeout"])
    expect(changed).to_contain_text(words["changed_token"])
    expect(changed).to_contain_text("Mia Manager")
    expect(changed).not_to_contain_text("demo-token")
    # 15:30 UTC is 11:30 in New York (EDT), 16:30 in Amsterdam.
    expect(changed.locator("time")).to_contain_text("11:30")
    expect(entries.filter(has_text=words["created"])).to_be_visible()
    assert "demo-token" not in page.content()


def test_a_deleted_connection_shows_its_history_from_the_list(
    page: Page, log_in, manager, make_connection, language
):
    words = WORDS[language]
    connection = make_connection("Old ERP")
    services.connection_delete(actor=manager, connection=connection)
    log_in(page, "manager")
    page.get_by_label(words["deleted"], exact=True).check()
    row = page.locator(f"#connection-{connection.pk}")
    history_button = row.get_by_role("button", name=re.compile(words["history"]))
    history_button.click()
    history = page.locator("#history-dialog")
    expect(history).to_be_visible()
    expect(history.locator(".history-entry").first).to_contain_text(words["deleted_action"])
    expect(history.locator(".history-entry").first).to_contain_text("manager")
    page.keyboard.press("Escape")
    expect(history).to_have_count(0)
    expect(history_button).to_be_focused()


@english_only
def test_the_django_admin_shows_the_same_history_and_its_history_button_works(
    page: Page, live_server, make_user, make_connection, manager, password, language
):
    support = make_user("helpdesk", staff=True, is_superuser=True)
    connection = make_connection("Old ERP")
    services.connection_update(
        actor=manager,
        connection=connection,
        name="Old ERP",
        connector_key="rest_json",
        config=services.connection_config(connection=connection),
        proof=None,
        description="Now with words",
    )
    services.connection_delete(actor=manager, connection=connection)
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill(support.username)
    page.locator("#id_password").fill(password)
    page.locator("input[type=submit]").click()
    changelist = f"{live_server.url}/admin/connections/erpconnection/"
    page.goto(f"{changelist}?deleted=yes")
    expect(page.locator("#result_list")).to_contain_text("REST/JSON ERP")  # a label, no key
    expect(page.locator("#result_list")).not_to_contain_text("rest_json")
    scope_filter = page.locator("#changelist-filter")
    expect(scope_filter.get_by_role("link", name="All", exact=True)).to_have_count(4)  # one each

    page.locator("#result_list input[name=_selected_action]").first.check()
    page.locator("select[name=action]").select_option("restore_selected")
    page.locator("button[name=index]").click()
    expect(page.locator(".messagelist")).to_contain_text("Restored 1 connection.")
    assert LogEntry.objects.filter(object_id=str(connection.pk)).exists()

    page.goto(f"{changelist}{connection.pk}/change/")
    inline = page.locator("#events-group, .inline-group").first
    expect(inline).to_contain_text("Description: - -> Now with words")
    expect(inline).not_to_contain_text("{")  # no raw JSON
    page.get_by_role("link", name="History").click()
    expect(page.locator("#connection-history")).to_contain_text("Restored")
    expect(page.locator("#connection-history")).to_contain_text("Description: - -> Now with words")
    expect(page.locator("#change-history")).to_contain_text("Restored.")
    expect(page.locator("body")).not_to_contain_text("doesn’t have a change history")

    page.goto(f"{changelist}{connection.pk}/delete/")
    expect(page.locator("#content")).not_to_contain_text("History")
    expect(page.locator("#content")).not_to_contain_text("history entr")


# --- 6. available quote connectors for administrators --------------------------------------------


def test_available_quote_connectors_speak_to_administrators(
    page: Page, log_in, manager, live_server, language
):
    words = WORDS[language]
    log_in(page, "manager")
    page.goto(f"{live_server.url}/settings/quote-sync/quote-connectors/")
    rest = page.locator("#connector-rest_json")
    expect(rest.locator("h3")).not_to_contain_text("rest_json")
    expect(rest).to_contain_text(words["price_lists"])
    expect(rest).not_to_contain_text("price_lists")
    fields = rest.locator("table.fields")
    expect(fields).to_contain_text(words["choice"])
    expect(
        fields.locator("td", has_text=re.compile(f"^{words['password']}$")).first
    ).to_be_visible()
    expect(fields).not_to_contain_text("half_up")
    expect(fields).not_to_contain_text("True")
    expect(fields).not_to_contain_text("choice")
    # A static label is text, not a row of the field table.
    register = page.locator("#connector-product_register")
    expect(register.locator(".config-static-text")).to_be_visible()
    expect(register.locator("table.fields")).not_to_contain_text("about")
    # The example plugin is installed, its broken entry point reported.
    expect(page.locator("#connector-example_erp")).to_be_visible()
    expect(page.locator(".connector.unavailable")).to_contain_text(words["unavailable"])


# --- 7. the small ones --------------------------------------------------------------------------


def test_a_user_without_the_permission_gets_a_friendly_page(
    page: Page, live_server, make_user, manager, password, language
):
    words = WORDS[language]
    manager.email = "manager@example.com"
    manager.save()
    make_user("anna")
    page.goto(f"{live_server.url}/settings/quote-sync/erp-connections/")
    page.locator("#id_username").fill("anna")
    page.locator("#id_password").fill(password)
    page.locator("form button[type=submit]").click()
    expect(page.get_by_role("heading", name=words["no_access"])).to_be_visible()
    expect(page.locator("main")).to_contain_text("anna")
    expect(page.get_by_role("link", name="manager@example.com")).to_be_visible()
    page.locator("main").get_by_role("button", name=words["log_out"]).click()
    expect(page.locator("#id_username")).to_be_visible()


@english_only
def test_no_page_logs_a_console_error(
    page: Page, log_in, manager, make_connection, live_server, no_console_errors, language
):
    connection = make_connection("North ERP")
    log_in(page, "manager")
    base = live_server.url
    for path in [
        "/settings/quote-sync/erp-connections/",
        "/settings/quote-sync/erp-connections/?deleted=1",
        "/settings/quote-sync/erp-connections/add/",
        f"/settings/quote-sync/erp-connections/{connection.pk}/edit/",
        "/settings/quote-sync/sync-connections/",
        "/settings/quote-sync/quote-connectors/",
        "/favicon.ico",
    ]:
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
    icon = page.request.get(f"{base}/favicon.ico")
    assert icon.ok and "svg" in icon.headers["content-type"]
    # A connector with a static label: a test logs no htmx:oobErrorNoTarget.
    page.goto(f"{base}/settings/quote-sync/erp-connections/add/")
    dialog = page.locator("#connection-dialog")
    dialog.locator("[name=connector]").select_option("product_register")
    expect(dialog.locator(".config-static-text")).to_be_visible()
    dialog.locator("#test-button").click()
    expect(dialog.locator("#test-result .test-status")).to_be_visible()
    assert no_console_errors == []


@english_only
def test_the_console_error_check_can_fail(page: Page, live_server, no_console_errors, language):
    page.goto(f"{live_server.url}/no-such-page/")  # a 404 is logged as a console error
    assert no_console_errors, "the check would not notice a console error"
    no_console_errors.clear()


def test_usable_at_420_pixels(page: Page, log_in, manager, make_connection, language):
    labels = DIALOG_LABELS[language]
    make_connection("A connection with a long name", description="A long description " * 8)
    page.set_viewport_size({"width": 420, "height": 800})
    log_in(page, "manager")
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 420, f"the page scrolls sideways: {page_width}px"
    scroller = page.locator(".table-scroll")
    assert scroller.evaluate("el => getComputedStyle(el).overflowX") == "auto"
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth")  # the list scrolls
    dialog = open_add(page, labels)
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 420
    for button in (labels["test"], labels["ok"], labels["cancel"]):
        target = dialog.get_by_role("button", name=button, exact=True).bounding_box()
        assert target is not None and target["x"] + target["width"] <= 420


@english_only
def test_access_dialog_chips_come_from_the_server(page: Page, log_in, manager, make_user, language):
    make_user("jdoe", first_name="Jane", last_name="Doe")
    for i in range(25):  # more than one page of principals
        make_user(f"zz{i:02d}", first_name=f"Zed{i:02d}")
    log_in(page, "manager")
    dialog = open_add(page, DIALOG_LABELS[language])
    dialog.get_by_label("Specific users and groups").check()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    dialog.get_by_role("button", name="Select users and groups").click()
    access = page.get_by_role("dialog", name="Select users and groups")
    access.get_by_role("checkbox", name="Jane Doe").check()
    access.get_by_role("button", name="Next").click()  # the pick survives another page
    expect(access.get_by_text("Page 2 of 2")).to_be_visible()
    access.get_by_role("checkbox", name=re.compile("Zed2")).first.check()
    access.get_by_role("button", name="OK", exact=True).click()
    expect(access).to_be_hidden()
    picked = dialog.locator("#picked .pick")
    expect(picked).to_have_count(2)
    expect(picked.filter(has_text="Jane Doe")).to_be_visible()
    assert any("/erp-connections/picks/" in url for url in requests)
    expect(dialog.get_by_role("button", name="Select users and groups")).to_be_focused()

"""The *Define new ERP connection* / *Edit ERP connection* dialog in a real browser.

PRODUCT.md sections 3.2 and 6: test before save, OK enabled only for tested values, the
connector's configuration block, the access dialog, kept secrets and the refused rebind,
keyboard behaviour of the modal dialog.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Locator, Page, expect

from connections import crypto
from connections.models import ERPConnection, SyncConnection
from connectors.builtin.rest_json import RestJsonConfig
from connectors.schema import split_config

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIST_URL = re.compile(r"/settings/quote-sync/erp-connections/$")

# The labels PRODUCT.md section 3 fixes, per UI language.
LABELS = {
    "en": {
        "add": "Add",
        "edit": "Edit",
        "add_title": "Define new ERP connection",
        "edit_title": "Edit ERP connection",
        "name": "Name",
        "connector": "Quote connector",
        "all": "All",
        "specific": "Specific users and groups",
        "select_principals": "Select users and groups",
        "sync_connection": "ERP connection",
        "description": "Description",
        "test": "Test ERP connection",
        "ok": "OK",
        "cancel": "Cancel",
        "remove": "Remove {}",
    },
    "nl": {
        "add": "Toevoegen",
        "edit": "Bewerken",
        "add_title": "Nieuwe ERP-verbinding definiëren",
        "edit_title": "ERP-verbinding bewerken",
        "name": "Naam",
        "connector": "Quote Connector",
        "all": "Alles",
        "specific": "Specifieke gebruikers en groepen",
        "select_principals": "Gebruikers en groepen selecteren",
        "sync_connection": "ERP-verbinding",
        "description": "Beschrijving",
        "test": "ERP-verbinding testen",
        "ok": "OK",
        "cancel": "Annuleren",
        "remove": "{} verwijderen",  # the Dutch catalogue's "%(label)s verwijderen"
    },
}

english_only = pytest.mark.parametrize("language", ["en"])


# --- helpers -------------------------------------------------------------------------------


def rest_connection(
    make_connection: Any, name: str, base_url: str, *, token: str | None = None, **fields: Any
) -> ERPConnection:
    """A saved REST/JSON connection as the service would store it (secret encrypted)."""
    config = RestJsonConfig(
        base_url=base_url, authentication="bearer" if token else "none", api_token=token
    )
    public, secrets = split_config(config)
    return make_connection(
        name,
        config=public,
        secrets=crypto.encrypt_secrets(secrets) if secrets else "",
        **fields,
    )


def open_add(page: Page, labels: dict[str, str]) -> Locator:
    page.get_by_role("button", name=labels["add"], exact=True).click()
    dialog = page.get_by_role("dialog", name=labels["add_title"])
    expect(dialog).to_be_visible()
    return dialog


def choose_rest_json(dialog: Locator, labels: dict[str, str]) -> None:
    dialog.get_by_label(labels["connector"], exact=True).select_option("rest_json")
    expect(dialog.locator("[name=config__base_url]")).to_be_visible()


def fill_rest_json(dialog: Locator, base_url: str, token: str = "demo-token") -> None:
    dialog.locator("[name=config__base_url]").fill(base_url)
    dialog.locator("[name=config__authentication]").select_option("bearer")
    dialog.locator("[name=config__api_token]").fill(token)


def name_box(dialog: Locator, labels: dict[str, str]) -> Locator:
    # By role: the accessible name leaves out the required marker ("Name *").
    return dialog.get_by_role("textbox", name=labels["name"], exact=True)


def ok_button(dialog: Locator, labels: dict[str, str]) -> Locator:
    return dialog.get_by_role("button", name=labels["ok"], exact=True)


def run_test(dialog: Locator, labels: dict[str, str]) -> Locator:
    """Click *Test ERP connection* and wait for the result of that test."""
    dialog.get_by_role("button", name=labels["test"]).click()
    result = dialog.locator("#test-result")
    expect(result.locator(".test-status")).to_be_visible()
    return result


def mark_page(page: Page) -> None:
    """A flag that only survives as long as the document does (no full page reload)."""
    page.evaluate("window.__samePage = true")


def assert_same_page(page: Page) -> None:
    assert page.evaluate("window.__samePage === true"), "the page was reloaded"


# --- adding --------------------------------------------------------------------------------


def test_add_with_a_successful_test_saves_and_shows_the_row(
    page: Page, log_in, manager, demo_erp, language
):
    labels = LABELS[language]
    log_in(page, "manager")
    mark_page(page)
    dialog = open_add(page, labels)
    expect(name_box(dialog, labels)).to_be_focused()
    name_box(dialog, labels).fill("Demo ERP")
    choose_rest_json(dialog, labels)
    fill_rest_json(dialog, demo_erp)
    dialog.get_by_label(labels["description"], exact=True).fill("Prices from the demo ERP")
    ok = ok_button(dialog, labels)
    expect(ok).to_be_disabled()

    # Hold the test request so that its progress can be seen, then let it through.
    held: list[Any] = []

    def hold_test(route: Any) -> None:
        held.append(route)

    page.route("**/erp-connections/add/test/", hold_test)
    dialog.get_by_role("button", name=labels["test"]).click()
    result = dialog.locator("#test-result")
    progress = result.locator(".test-progress")
    expect(progress).to_be_visible()
    expect(progress).to_have_text({"en": "Testing...", "nl": "Bezig met testen..."}[language])
    expect(ok).to_be_disabled()
    assert len(held) == 1
    held[0].continue_()

    expect(result.locator(".test-status")).to_be_visible()
    expect(result).to_have_class(re.compile(r"\bstatus-ok\b"))
    expect(result.locator(".test-message")).not_to_be_empty()
    if language == "en":
        expect(result.locator(".test-status")).to_contain_text("OK")
        expect(result.locator(".test-message")).to_contain_text(
            re.compile(r"Connection OK: \d+ price lists? available")
        )
    technical = result.locator("details .technical")
    expect(technical).to_be_hidden()
    result.locator("details summary").click()
    expect(technical).to_be_visible()
    expect(technical).not_to_be_empty()
    expect(ok).to_be_enabled()
    page.unroute("**/erp-connections/add/test/")

    ok.click()
    expect(dialog).to_be_hidden()
    row = page.locator("#connection-table tr.connection-row", has_text="Demo ERP")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Prices from the demo ERP")
    expect(page).to_have_url(LIST_URL)
    assert_same_page(page)
    connection = ERPConnection.objects.get()
    assert connection.name == "Demo ERP" and connection.connector_key == "rest_json"
    assert connection.config["base_url"] == demo_erp
    assert "demo-token" not in connection.secrets


@english_only
def test_a_failed_test_keeps_ok_disabled(page: Page, log_in, manager, settings, language):
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    labels = LABELS[language]
    log_in(page, "manager")
    dialog = open_add(page, labels)
    name_box(dialog, labels).fill("Nobody home")
    choose_rest_json(dialog, labels)
    dialog.get_by_label("Base URL").fill("http://127.0.0.1:9/")  # the discard port: closed
    dialog.get_by_label("Authentication").select_option("bearer")
    dialog.get_by_label("API token").fill("demo-token")

    result = run_test(dialog, labels)
    expect(result).to_have_class(re.compile(r"\bstatus-error\b"))
    expect(result.locator(".test-status")).to_contain_text("Error")
    expect(result.locator(".test-message")).to_contain_text("Cannot reach 127.0.0.1")
    expect(dialog.get_by_role("button", name="Test ERP connection")).to_be_enabled()
    expect(ok_button(dialog, labels)).to_be_disabled()


@english_only
def test_a_change_after_a_successful_test_disables_ok(
    page: Page, log_in, manager, demo_erp, language
):
    labels = LABELS[language]
    log_in(page, "manager")
    dialog = open_add(page, labels)
    name_box(dialog, labels).fill("Demo ERP")
    choose_rest_json(dialog, labels)
    fill_rest_json(dialog, demo_erp)
    ok = ok_button(dialog, labels)
    expect(run_test(dialog, labels)).to_have_class(re.compile(r"\bstatus-ok\b"))
    expect(ok).to_be_enabled()

    # Fields the test does not depend on leave OK and the result as they are.
    dialog.get_by_label("Description", exact=True).fill("Only words")
    expect(ok).to_be_enabled()
    result = dialog.locator("#test-result")
    outdated = result.locator(".test-outdated")
    expect(outdated).to_be_hidden()

    timeout = dialog.get_by_label("Timeout (seconds)")
    timeout.fill("11")
    expect(ok).to_be_disabled()
    expect(outdated).to_be_visible()
    expect(outdated).to_have_text("The values changed since this test. Test again.")
    timeout.fill("10")  # the tested values again: still a new test, the server decides
    expect(ok).to_be_disabled()
    expect(run_test(dialog, labels)).to_have_class(re.compile(r"\bstatus-ok\b"))
    expect(outdated).to_be_hidden()
    expect(ok).to_be_enabled()
    dialog.get_by_label("Verify TLS certificates").uncheck()
    expect(ok).to_be_disabled()
    expect(outdated).to_be_visible()


@english_only
def test_changing_the_connector_replaces_only_the_configuration_block(
    page: Page, log_in, manager, language
):
    labels = LABELS[language]
    log_in(page, "manager")
    mark_page(page)
    dialog = open_add(page, labels)
    name = name_box(dialog, labels)
    description = dialog.get_by_label("Description", exact=True)
    name.fill("Typed name")
    description.fill("Typed description")
    # Mark the elements outside the block: a replaced element would lose the mark.
    page.evaluate(
        "for (const id of ['id_name', 'id_description', 'id_connector'])"
        " document.getElementById(id).__kept = true"
    )

    choose_rest_json(dialog, labels)
    base_url = dialog.get_by_label("Base URL")
    base_url.fill("https://erp.example.com/")
    expect(dialog.get_by_label("API token")).to_be_hidden()  # Authentication is None
    dialog.get_by_label("Authentication").select_option("bearer")
    expect(dialog.get_by_label("API token")).to_be_visible()

    dialog.get_by_label("Quote connector", exact=True).select_option("product_register")
    expect(base_url).to_have_count(0)
    expect(dialog.get_by_label("API token")).to_have_count(0)

    expect(name).to_have_value("Typed name")
    expect(description).to_have_value("Typed description")
    kept = page.evaluate(
        "['id_name', 'id_description', 'id_connector']"
        ".map(id => document.getElementById(id).__kept === true)"
    )
    assert kept == [True, True, True]
    assert_same_page(page)


# --- editing -------------------------------------------------------------------------------


def open_edit_by(page: Page, how: str, connection: ERPConnection, labels: dict[str, str]) -> None:
    row = page.locator(f"#connection-{connection.pk}")
    if how == "name link":
        row.get_by_role("link", name=connection.name).click()
    elif how == "double-click":
        row.locator("td.description").dblclick()
    else:
        row.get_by_role("checkbox").check()
        page.get_by_role("button", name=labels["edit"], exact=True).click()


@english_only
@pytest.mark.parametrize("how", ["name link", "double-click", "selection and Edit"])
def test_editing_only_the_name_needs_no_test(
    page: Page, log_in, manager, make_connection, language, how
):
    labels = LABELS[language]
    connection = rest_connection(
        make_connection, "Old name", "https://erp.example.com/", description="Stays"
    )
    log_in(page, "manager")
    mark_page(page)
    open_edit_by(page, how, connection, labels)
    dialog = page.get_by_role("dialog", name=labels["edit_title"])
    expect(dialog).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/erp-connections/{connection.pk}/edit/"))
    name = name_box(dialog, labels)
    expect(name).to_have_value("Old name")
    expect(dialog.get_by_label("Base URL")).to_have_value("https://erp.example.com/")

    name.fill("New name")
    ok = ok_button(dialog, labels)
    expect(ok).to_be_enabled()
    ok.click()
    expect(dialog).to_be_hidden()
    row = page.locator(f"#connection-{connection.pk}")
    expect(row.locator("td.name")).to_have_text("New name")
    expect(page).to_have_url(LIST_URL)
    assert_same_page(page)
    connection.refresh_from_db()
    assert connection.name == "New name" and connection.description == "Stays"


def test_edit_with_a_kept_secret_tests_with_the_stored_token(
    page: Page, log_in, manager, make_connection, demo_erp, language
):
    labels = LABELS[language]
    connection = rest_connection(make_connection, "Demo ERP", demo_erp, token="demo-token")
    log_in(page, "manager")
    page.locator(f"#connection-{connection.pk}").get_by_role("link", name="Demo ERP").click()
    dialog = page.get_by_role("dialog", name=labels["edit_title"])
    expect(dialog).to_be_visible()

    token = dialog.locator("[name=config__api_token]")
    expect(token).to_have_value("")
    expect(token).to_have_attribute("type", "password")
    if language == "en":
        expect(dialog.locator("#id_config__api_token_helptext")).to_contain_text("Unchanged")
        expect(token).to_have_attribute("placeholder", "(unchanged)")
    assert "demo-token" not in page.content()

    ok = ok_button(dialog, labels)
    dialog.locator("[name=config__timeout]").fill("5")
    expect(ok).to_be_disabled()
    result = run_test(dialog, labels)
    expect(result).to_have_class(re.compile(r"\bstatus-ok\b"))
    expect(ok).to_be_enabled()
    ok.click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#connection-{connection.pk} td.last-test")).to_contain_text("manager")

    connection.refresh_from_db()
    assert connection.config["timeout"] == 5
    assert crypto.decrypt_secrets(connection.secrets) == {"api_token": "demo-token"}


@english_only
def test_moving_the_server_with_a_kept_token_asks_for_the_token_again(
    page: Page, log_in, manager, make_connection, demo_erp, language
):
    labels = LABELS[language]
    connection = rest_connection(make_connection, "Demo ERP", demo_erp, token="demo-token")
    log_in(page, "manager")
    page.locator(f"#connection-{connection.pk}").get_by_role("link", name="Demo ERP").click()
    dialog = page.get_by_role("dialog", name=labels["edit_title"])
    expect(dialog).to_be_visible()

    dialog.get_by_label("Base URL").fill(demo_erp.replace("127.0.0.1", "localhost"))
    dialog.get_by_role("button", name="Test ERP connection").click()
    error = dialog.locator("#error-config__api_token")
    expect(error).to_have_text("Re-enter API token to use it with the new server address.")
    token = dialog.get_by_label("API token")
    expect(token).to_have_attribute("aria-invalid", "true")
    expect(token).to_have_accessible_description(re.compile("Re-enter API token"))
    ok = ok_button(dialog, labels)
    expect(ok).to_be_disabled()

    token.fill("demo-token")
    result = run_test(dialog, labels)
    expect(result).to_have_class(re.compile(r"\bstatus-ok\b"))
    expect(error).to_be_empty()
    expect(ok).to_be_enabled()


# --- scope and the access dialog -------------------------------------------------------------


def test_specific_scope_with_users_and_groups_from_the_access_dialog(
    page: Page, log_in, manager, make_user, demo_erp, language
):
    labels = LABELS[language]
    make_user("jdoe", first_name="Jane", last_name="Doe", email="jane@example.com")
    make_user("bob", first_name="Bob")
    janitors = Group.objects.create(name="Janitors")
    Group.objects.create(name="Sales")

    log_in(page, "manager")
    dialog = open_add(page, labels)
    name_box(dialog, labels).fill("For a few")
    choose_rest_json(dialog, labels)
    fill_rest_json(dialog, demo_erp)
    ok = ok_button(dialog, labels)
    expect(run_test(dialog, labels)).to_have_class(re.compile(r"\bstatus-ok\b"))
    expect(ok).to_be_enabled()

    select_link = dialog.get_by_role("button", name=labels["select_principals"])
    expect(select_link).to_be_hidden()
    dialog.get_by_label(labels["specific"], exact=True).check()
    expect(select_link).to_be_visible()
    expect(ok).to_be_enabled()  # the scope is not part of the test
    ok.click()  # nobody picked yet: refused next to the scope
    scope_error = dialog.locator("#error-scope")
    expect(scope_error).not_to_be_empty()
    if language == "en":
        expect(scope_error).to_have_text("Select at least one user or group, or choose All.")
    expect(dialog).to_be_visible()
    assert not ERPConnection.objects.exists()

    select_link.click()
    access = page.get_by_role("dialog", name=labels["select_principals"])
    expect(access).to_be_visible()
    results = access.locator("#principal-results")
    # Everyone at first (a migration's "Support" group may be there too), then the search.
    expect(results.get_by_role("checkbox", name="Bob")).to_be_visible()
    access.get_by_role("searchbox").fill("jan")
    expect(results.locator("input[type=checkbox]")).to_have_count(2)
    results.get_by_role("checkbox", name="Janitors").check()
    results.get_by_role("checkbox", name="Jane Doe").check()
    ok_button(access, labels).click()
    expect(access).to_be_hidden()

    picked = dialog.locator("#picked .pick")
    expect(picked).to_have_count(2)
    expect(picked.filter(has_text="Janitors")).to_be_visible()
    expect(picked.filter(has_text="Jane Doe")).to_be_visible()
    expect(picked.get_by_role("button")).to_have_count(2)
    picked.get_by_role("button", name=labels["remove"].format("Jane Doe"), exact=True).click()
    expect(picked).to_have_count(1)
    expect(picked).to_have_text(re.compile("Janitors"))

    expect(ok).to_be_enabled()
    ok.click()
    expect(dialog).to_be_hidden()
    expect(
        page.locator("#connection-table tr.connection-row", has_text="For a few")
    ).to_be_visible()
    connection = ERPConnection.objects.get()
    assert connection.scope == ERPConnection.Scope.SPECIFIC
    assert list(connection.groups.all()) == [janitors]
    assert list(connection.users.all()) == []


@english_only
@pytest.mark.parametrize("problem", ["empty name", "specific scope with nobody"])
def test_test_runs_while_fields_outside_the_test_are_incomplete(
    page: Page, log_in, manager, demo_erp, language, problem
):
    labels = LABELS[language]
    log_in(page, "manager")
    dialog = open_add(page, labels)
    if problem == "empty name":
        name_box(dialog, labels).fill("")
    else:
        name_box(dialog, labels).fill("Someone")
        dialog.get_by_label(labels["specific"], exact=True).check()
    choose_rest_json(dialog, labels)
    fill_rest_json(dialog, demo_erp)
    dialog.get_by_role("button", name=labels["test"]).click()
    result = dialog.locator("#test-result")
    expect(result).to_have_class(re.compile(r"\bstatus-"))  # finished, one way or another
    assert "status-ok" in (result.get_attribute("class") or ""), result.inner_text()
    # The connection works, but the name or the scope keeps it from being saved: both say so.
    expect(result.locator(".test-blockers")).to_contain_text("it cannot be saved yet")
    field = "#error-name" if problem == "empty name" else "#error-scope"
    expect(dialog.locator(field)).not_to_be_empty()
    expect(ok_button(dialog, labels)).to_be_disabled()


# --- the sync connection select ------------------------------------------------------------


def test_sync_connection_select_offers_only_active_live_ones(page: Page, log_in, manager, language):
    from django.utils import timezone

    labels = LABELS[language]
    SyncConnection.objects.create(name="Live sync", sync_connector="erp_sync")
    SyncConnection.objects.create(name="Inactive sync", sync_connector="erp_sync", active=False)
    SyncConnection.objects.create(
        name="Deleted sync", sync_connector="erp_sync", deleted_at=timezone.now()
    )
    log_in(page, "manager")
    dialog = open_add(page, labels)
    sync = dialog.get_by_label(labels["sync_connection"], exact=True)

    dialog.get_by_label(labels["connector"], exact=True).select_option("product_register")
    expect(sync).to_have_count(0)

    choose_rest_json(dialog, labels)
    expect(sync).to_be_visible()
    options = sync.locator("option")
    expect(options.filter(has_text="Live sync")).to_have_count(1)
    expect(options.filter(has_text="Inactive sync")).to_have_count(0)
    expect(options.filter(has_text="Deleted sync")).to_have_count(0)
    expect(options).to_have_count(2)  # the empty choice (optional) and "Live sync"
    expect(sync).to_have_value("")

    dialog.get_by_label(labels["connector"], exact=True).select_option("product_register")
    expect(sync).to_have_count(0)


# --- the list's test --------------------------------------------------------------------------


@english_only
def test_testing_a_selected_row_updates_its_last_test(
    page: Page, log_in, manager, make_connection, demo_erp, language
):
    connection = rest_connection(make_connection, "Demo ERP", demo_erp, token="demo-token")
    other = rest_connection(make_connection, "Other ERP", "https://erp.example.com/")
    log_in(page, "manager")
    row = page.locator(f"#connection-{connection.pk}")
    expect(row.locator("td.last-test")).to_have_text("Not tested")

    row.get_by_role("checkbox").check()
    page.locator(".toolbar").get_by_role("button", name="Test ERP connection").click()
    last_test = page.locator(f"#connection-{connection.pk} td.last-test")
    expect(last_test).to_contain_text("manager")
    expect(last_test.locator(".status")).to_have_class(re.compile(r"\bstatus-ok\b"))
    expect(page.locator("#results .messages")).to_contain_text("Demo ERP: Connection OK")
    expect(page.locator(f"#connection-{other.pk} td.last-test")).to_have_text("Not tested")
    connection.refresh_from_db()
    assert connection.last_test_status == "ok" and connection.last_test_by == manager


# --- keyboard ----------------------------------------------------------------------------------


def test_esc_and_cancel_close_the_dialog_and_focus_returns(page: Page, log_in, manager, language):
    labels = LABELS[language]
    log_in(page, "manager")
    add = page.get_by_role("button", name=labels["add"], exact=True)

    dialog = open_add(page, labels)
    expect(page).to_have_url(re.compile(r"/add/"))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(add).to_be_focused()
    expect(page).to_have_url(LIST_URL)

    dialog = open_add(page, labels)
    dialog.get_by_role("button", name=labels["cancel"], exact=True).click()
    expect(dialog).to_be_hidden()
    expect(add).to_be_focused()
    expect(page).to_have_url(LIST_URL)
    assert not ERPConnection.objects.exists()


@english_only
def test_tab_keeps_focus_inside_the_dialog(page: Page, log_in, manager, language):
    labels = LABELS[language]
    log_in(page, "manager")
    dialog = open_add(page, labels)
    choose_rest_json(dialog, labels)
    inside = "document.getElementById('connection-dialog').contains(document.activeElement)"
    # More Tabs than the dialog has controls, both ways: focus never leaves it.
    for key in ["Tab"] * 25 + ["Shift+Tab"] * 25:
        page.keyboard.press(key)
        assert page.evaluate(inside), page.evaluate("document.activeElement.outerHTML")

    # The access dialog on top keeps focus too, and Esc closes only it.
    dialog.get_by_label("Specific users and groups").check()
    select_link = dialog.get_by_role("button", name="Select users and groups")
    select_link.click()
    access = page.get_by_role("dialog", name="Select users and groups")
    expect(access).to_be_visible()
    expect(access.get_by_role("searchbox")).to_be_focused()
    inside_access = "document.getElementById('access-dialog').contains(document.activeElement)"
    for key in ["Tab"] * 8 + ["Shift+Tab"] * 8:
        page.keyboard.press(key)
        assert page.evaluate(inside_access), page.evaluate("document.activeElement.outerHTML")
    page.keyboard.press("Escape")
    expect(access).to_be_hidden()
    expect(dialog).to_be_visible()
    expect(select_link).to_be_focused()


@english_only
def test_a_shared_edit_link_opens_the_dialog_over_the_list(
    page: Page, log_in, manager, make_connection, live_server, language
):
    connection = rest_connection(make_connection, "Linked ERP", "https://erp.example.com/")
    log_in(page, "manager")
    page.goto(f"{live_server.url}/settings/quote-sync/erp-connections/{connection.pk}/edit/")
    dialog = page.get_by_role("dialog", name="Edit ERP connection")
    expect(dialog).to_be_visible()
    expect(name_box(dialog, LABELS[language])).to_have_value("Linked ERP")
    expect(page.locator(f"#connection-{connection.pk}")).to_be_attached()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(LIST_URL)


@english_only
def test_a_test_in_the_edit_dialog_shows_in_the_row_after_cancel(
    page: Page, log_in, manager, make_connection, demo_erp, language
):
    connection = rest_connection(make_connection, "Demo ERP", demo_erp, token="demo-token")
    log_in(page, "manager")
    row = page.locator(f"#connection-{connection.pk}")
    expect(row.locator("td.last-test")).to_contain_text("Not tested")
    row.get_by_role("link", name=connection.name).click()
    dialog = page.locator("#connection-dialog")
    dialog.get_by_role("button", name="Test ERP connection").click()
    expect(dialog.locator("#test-result")).to_contain_text("Connection OK")
    dialog.get_by_role("button", name="Cancel").click()
    expect(row.locator("td.last-test")).to_contain_text("OK")
    expect(row.locator("td.last-test")).not_to_contain_text("Not tested")

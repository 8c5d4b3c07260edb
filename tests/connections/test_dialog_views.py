"""The connection dialog through the Django test client, htmx requests included."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from connections import services
from connections.models import ERPConnection, SyncConnection

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
ADD_URL = "/settings/quote-sync/erp-connections/add/"


def edit_url(connection):
    return reverse("connections:edit", args=[connection.pk])


def rest_values(url, **overrides):
    values = {
        "name": "Demo ERP",
        "connector": "rest_json",
        "scope": "all",
        "config__base_url": url,
        "config__authentication": "bearer",
        "config__api_token": "demo-token",
        "config__timeout": "10",
        "config__verify_tls": "on",
        "config__price_decimals": "2",
        "config__rounding_mode": "half_up",
        "config__max_discount": "100",
        "description": "",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def post(client, url, values, **kwargs):
    """Post the dialog to its Test or OK URL (``action``: "test" or "save")."""
    values = dict(values)
    action = values.pop("action", "save")
    return client.post(url.replace("/edit/", "/").rstrip("/") + f"/{action}/", values, **kwargs)


def ok_button(html):
    match = re.search(r'<button type="submit" id="ok-button"[^>]*>', html)
    assert match, html
    return "disabled" if " disabled" in match.group(0) else "enabled"


def proof_from(response):
    match = re.search(r'name="proof" id="id_proof" value="([^"]*)"', response.content.decode())
    assert match, response.content.decode()
    return match.group(1)


def test_add_opens_the_dialog_with_its_fields_in_order(manager_client):
    html = manager_client.get(ADD_URL, headers=HTMX).content.decode()
    assert "Define new ERP connection" in html
    order = [html.index(f'name="{name}"') for name in ("name", "connector", "scope")]
    order.append(html.index('name="description"'))
    assert order == sorted(order)
    assert 'id="test-button"' in html and 'id="ok-button"' in html and "disabled" in html


def test_add_without_htmx_shows_the_list_with_the_dialog_open(manager_client):
    html = manager_client.get(ADD_URL).content.decode()
    assert "<html" in html and 'id="connection-dialog"' in html and "connection-table" in html


def test_the_dialog_is_in_dutch_for_a_dutch_browser(manager_client):
    html = manager_client.get(ADD_URL, headers={**HTMX, "Accept-Language": "nl"}).content.decode()
    assert "Nieuwe ERP-verbinding definiëren" in html
    assert "ERP-verbinding testen" in html and "Annuleren" in html


def test_connector_change_returns_only_the_configuration_block(manager_client):
    response = manager_client.get(
        reverse("connections:connector_fields"), {"connector": "rest_json"}, headers=HTMX
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="config-fields"')
    assert 'name="config__base_url"' in html and "Base URL" in html
    assert 'name="sync_connection"' in html  # optional for REST/JSON
    assert 'name="name"' not in html


def test_a_connector_without_sync_connection_has_no_sync_select(manager_client):
    html = manager_client.get(
        reverse("connections:connector_fields"), {"connector": "product_register"}, headers=HTMX
    ).content.decode()
    assert 'name="sync_connection"' not in html


def test_sync_select_lists_only_active_live_sync_connections(manager_client):
    SyncConnection.objects.create(name="Live sync", sync_connector="s")
    SyncConnection.objects.create(name="Off sync", sync_connector="s", active=False)
    html = manager_client.get(
        reverse("connections:connector_fields"), {"connector": "rest_json"}, headers=HTMX
    ).content.decode()
    assert "Live sync" in html and "Off sync" not in html


def test_a_connector_requiring_a_sync_connection_refuses_none(manager_client):
    response = post(
        manager_client,
        ADD_URL,
        {"name": "Plugin", "connector": "example_erp", "scope": "all", "action": "test"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert 'id="error-sync_connection"' in html and "This field is required." in html


def test_test_with_valid_values_shows_the_result_and_returns_a_proof(manager_client, demo_erp):
    response = post(
        manager_client, ADD_URL, {**rest_values(demo_erp), "action": "test"}, headers=HTMX
    )
    html = response.content.decode()
    assert "Connection OK:" in html and "price lists available" in html
    assert proof_from(response)
    assert ok_button(html) == "enabled"
    assert 'id="test-live" hx-swap-oob="innerHTML">Test result: OK.' in html
    assert "demo-token" not in html


def test_a_failed_test_shows_the_error_and_no_proof(manager_client, settings):
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    response = post(
        manager_client,
        ADD_URL,
        {**rest_values("http://127.0.0.1:9/"), "action": "test"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert "Cannot reach 127.0.0.1" in html
    assert proof_from(response) == ""
    assert "<details>" in html  # the technical message is collapsible


def test_a_refused_address_is_explained(manager_client):
    response = post(
        manager_client,
        ADD_URL,
        {**rest_values("http://127.0.0.1:9/"), "action": "test"},
        headers=HTMX,
    )
    assert "This address is not allowed" in response.content.decode()


def test_invalid_configuration_shows_errors_next_to_fields(manager_client):
    response = post(
        manager_client,
        ADD_URL,
        {**rest_values("not a url", config__timeout="99"), "action": "test"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert re.search(r'id="error-config__base_url" hx-swap-oob="true"><span>', html)
    assert re.search(r'id="error-config__timeout" hx-swap-oob="true"><span>', html)


def test_save_without_a_test_is_refused(manager_client, demo_erp):
    response = post(
        manager_client, ADD_URL, {**rest_values(demo_erp), "action": "save"}, headers=HTMX
    )
    assert "Test the ERP connection successfully before you save it." in response.content.decode()
    assert not ERPConnection.objects.exists()


def test_save_after_a_successful_test_closes_and_refreshes_the_list(manager_client, demo_erp):
    values = rest_values(demo_erp)
    proof = proof_from(post(manager_client, ADD_URL, {**values, "action": "test"}, headers=HTMX))
    response = post(
        manager_client, ADD_URL, {**values, "proof": proof, "action": "save"}, headers=HTMX
    )
    assert response["HX-Retarget"] == "#results"
    connection = ERPConnection.objects.get()
    assert json.loads(response["HX-Trigger-After-Settle"]) == {
        "erp:focus": {"selector": f"#connection-{connection.pk} a.edit-link"}
    }
    assert "Demo ERP" in response.content.decode()
    assert "demo-token" not in connection.secrets and connection.secrets


def test_a_replayed_save_with_altered_values_is_refused(manager_client, demo_erp):
    values = rest_values(demo_erp)
    proof = proof_from(post(manager_client, ADD_URL, {**values, "action": "test"}, headers=HTMX))
    altered = {**values, "config__max_discount": "50", "proof": proof, "action": "save"}
    response = post(manager_client, ADD_URL, altered, headers=HTMX)
    assert "The values changed after the last test." in response.content.decode()
    assert not ERPConnection.objects.exists()


@pytest.fixture
def saved(manager_client, demo_erp):
    values = rest_values(demo_erp)
    proof = proof_from(post(manager_client, ADD_URL, {**values, "action": "test"}, headers=HTMX))
    post(manager_client, ADD_URL, {**values, "proof": proof, "action": "save"}, headers=HTMX)
    return ERPConnection.objects.get()


def test_edit_never_renders_a_secret_and_notes_it_is_unchanged(manager_client, saved):
    html = manager_client.get(edit_url(saved), headers=HTMX).content.decode()
    assert "Edit ERP connection" in html
    assert "demo-token" not in html
    assert "nchanged" in html  # the "unchanged" note on the secret field


def test_edit_of_only_the_name_needs_no_test(manager_client, saved, demo_erp):
    values = rest_values(demo_erp, name="Renamed", config__api_token="")
    response = post(manager_client, edit_url(saved), {**values, "action": "save"}, headers=HTMX)
    assert response["HX-Retarget"] == "#results"
    saved.refresh_from_db()
    assert saved.name == "Renamed"
    assert services.connection_stored_secrets(connection=saved) == {"api_token": "demo-token"}


def test_edit_test_with_a_blank_secret_uses_the_stored_one(manager_client, saved, demo_erp):
    values = rest_values(demo_erp, config__api_token="", config__timeout="5")
    response = post(manager_client, edit_url(saved), {**values, "action": "test"}, headers=HTMX)
    assert "Connection OK:" in response.content.decode()


def test_edit_moving_the_server_with_a_kept_secret_is_refused(manager_client, saved, demo_erp):
    moved = demo_erp.replace("127.0.0.1", "localhost")
    values = rest_values(moved, config__api_token="")
    response = post(manager_client, edit_url(saved), {**values, "action": "test"}, headers=HTMX)
    assert "Re-enter API token to use it with the new server address." in (
        response.content.decode()
    )


def test_garbage_input_never_ends_in_a_server_error(manager_client):
    for values in [
        {"connector": "no_such_connector", "action": "test"},
        {"connector": "rest_json", "users": "abc", "sync_connection": "999", "action": "save"},
        {"connector": "rest_json", "config__timeout": "ten", "action": "test"},
        {"name": "x" * 500, "action": "save", "proof": "garbage"},
    ]:
        response = post(manager_client, ADD_URL, values, headers=HTMX)
        assert response.status_code == 200


def test_edit_of_a_deleted_or_unknown_connection_is_404(manager_client, saved, manager):
    services.connection_delete(actor=manager, connection=saved)
    assert manager_client.get(edit_url(saved), headers=HTMX).status_code == 404
    assert manager_client.get("/settings/quote-sync/erp-connections/999/edit/").status_code == 404


def test_specific_scope_without_anyone_is_refused(manager_client, demo_erp):
    values = rest_values(demo_erp, scope="specific")
    response = post(manager_client, ADD_URL, {**values, "action": "save"}, headers=HTMX)
    assert "Select at least one user or group, or choose All." in response.content.decode()


def test_specific_scope_with_a_group_is_saved(manager_client, demo_erp):
    group = Group.objects.create(name="Sales")
    values = rest_values(demo_erp, scope="specific", groups=str(group.pk))
    proof = proof_from(post(manager_client, ADD_URL, {**values, "action": "test"}, headers=HTMX))
    post(manager_client, ADD_URL, {**values, "proof": proof, "action": "save"}, headers=HTMX)
    assert list(ERPConnection.objects.get().groups.all()) == [group]


def searched(client, q: str) -> str:
    """The access dialog's results for ``q``."""
    response = client.get(reverse("connections:principals"), {"q": q}, headers=HTMX)
    return response.content.decode()


def test_principal_search_finds_users_by_email_and_groups_by_name(manager_client, make_user):
    make_user("jdoe", email="jane.doe@example.com", first_name="Jane")
    Group.objects.create(name="Janitors")
    html = searched(manager_client, "jan")
    assert "Janitors" in html and "Jane" in html
    html = searched(manager_client, "doe@example")
    assert "Jane" in html and "Janitors" not in html


def test_principal_search_shows_kind_name_and_detail_escaped(manager_client, make_user):
    make_user("o'neil", first_name="<b>Odd</b>", email="odd&co@example.com")
    Group.objects.create(name='Odd "team"')
    html = searched(manager_client, "odd")
    assert "<b>" not in html
    assert '<span class="principal-kind">Group</span>\nOdd &quot;team&quot;</label>' in html
    assert (
        '<span class="principal-kind">User</span>\n&lt;b&gt;Odd&lt;/b&gt; '
        '<span class="muted">(o&#x27;neil · odd&amp;co@example.com)</span></label>'
    ) in html
    nobody = manager_client.get(reverse("connections:principals"), {"q": "zzz"}, headers=HTMX)
    assert "No users or groups match your search." in nobody.content.decode()


def test_principal_search_paginates_many_users(
    manager_client, django_user_model, django_assert_max_num_queries
):
    django_user_model.objects.bulk_create(
        django_user_model(username=f"user{i:05d}") for i in range(2000)
    )
    with django_assert_max_num_queries(8):
        response = manager_client.get(
            reverse("connections:principals"), {"page": "3"}, headers=HTMX
        )
    html = response.content.decode()
    assert html.count('type="checkbox"') == 20
    assert "Page 3 of" in html


def test_test_from_the_list_updates_the_last_test_column(manager_client, saved):
    response = manager_client.post(
        reverse("connections:test_selected"), {"ids": [saved.pk]}, headers=HTMX
    )
    html = response.content.decode()
    assert "Demo ERP: Connection OK:" in html
    saved.refresh_from_db()
    assert saved.last_test_status == "ok"


@pytest.mark.tryton
def test_the_dialog_tests_a_tryton_connection_against_a_real_server(
    manager_client, tryton_server, settings
):
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    html = manager_client.get(
        reverse("connections:connector_fields"), {"connector": "tryton"}, headers=HTMX
    ).content.decode()
    assert "Server URL" in html and 'name="config__api_key"' in html
    values = {
        "name": "Tryton",
        "connector": "tryton",
        "scope": "all",
        "config__server_url": tryton_server.url,
        "config__database": tryton_server.database,
        "config__api_key": tryton_server.api_key,
        "config__company": "1",
        "config__price_list": "",
        "config__timeout": "10",
        "config__verify_tls": "on",
        "config__price_decimals": "2",
        "config__rounding_mode": "half_up",
        "config__max_discount": "100",
    }
    response = post(manager_client, ADD_URL, {**values, "action": "test"}, headers=HTMX)
    assert "Connection OK:" in response.content.decode()
    proof = proof_from(response)
    post(manager_client, ADD_URL, {**values, "proof": proof, "action": "save"}, headers=HTMX)
    connection = ERPConnection.objects.get(name="Tryton")
    assert tryton_server.api_key not in connection.secrets
    assert services.connection_test_saved(
        actor=connection.created_by, connection=connection
    ).succeeded


@pytest.mark.parametrize("incomplete", [{"name": ""}, {"scope": "specific"}])
def test_test_runs_while_fields_outside_the_test_are_incomplete(
    manager_client, demo_erp, incomplete
):
    values = {**rest_values(demo_erp), **incomplete, "action": "test"}
    response = post(manager_client, ADD_URL, values, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Connection OK:" in html
    # ...but it is reported, next to the field and in the result, and OK stays disabled.
    assert "The connection works, but it cannot be saved yet:" in html
    field = "name" if "name" in incomplete else "scope"
    assert re.search(rf'id="error-{field}" hx-swap-oob="true"><span>', html)
    assert ok_button(html) == "disabled"


def test_an_inactive_picked_user_is_reported_under_scope(manager_client, demo_erp, make_user):
    gone = make_user("gone", is_active=False)
    values = rest_values(demo_erp, scope="specific", users=str(gone.pk), action="save")
    html = post(manager_client, ADD_URL, values, headers=HTMX).content.decode()
    scope_errors = re.search(r'id="error-scope" hx-swap-oob="true">(.*?)</div>', html).group(1)
    assert scope_errors.startswith("<span>Select a valid choice.")


def test_opening_the_edit_dialog_decrypts_no_secret(manager_client, saved, monkeypatch):
    from connections import crypto

    def refuse(stored):
        raise AssertionError("decrypted to show the dialog")

    monkeypatch.setattr(crypto, "decrypt_secrets", refuse)
    html = manager_client.get(edit_url(saved), headers=HTMX).content.decode()
    assert "nchanged" in html
    fields = manager_client.get(
        reverse("connections:connector_fields"),
        {"connector": "rest_json", "connection": saved.pk},
        headers=HTMX,
    ).content.decode()
    assert "nchanged" in fields


def test_unreadable_stored_secrets_ask_to_enter_them_again(manager_client, saved, demo_erp):
    ERPConnection.objects.filter(pk=saved.pk).update(secrets='{"api_token": "garbage"}')
    assert manager_client.get(edit_url(saved), headers=HTMX).status_code == 200
    blank = rest_values(demo_erp, config__api_token="", action="test")
    html = post(manager_client, edit_url(saved), blank, headers=HTMX).content.decode()
    assert re.search(
        r'id="error-config__api_token" hx-swap-oob="true"><span>The stored value cannot be read',
        html,
    )
    typed = rest_values(demo_erp, action="test")
    response = post(manager_client, edit_url(saved), typed, headers=HTMX)
    assert "Connection OK:" in response.content.decode()
    saved_values = {**rest_values(demo_erp), "proof": proof_from(response), "action": "save"}
    response = post(manager_client, edit_url(saved), saved_values, headers=HTMX)
    assert response["HX-Retarget"] == "#results"
    assert services.connection_stored_secrets(connection=ERPConnection.objects.get()) == {
        "api_token": "demo-token"
    }


def test_editing_a_connection_of_an_uninstalled_connector_says_so(manager_client, make_connection):
    connection = make_connection("Orphan", connector_key="no_longer_installed")
    html = manager_client.get(edit_url(connection), headers=HTMX).content.decode()
    assert 'The quote connector "no_longer_installed" of this connection is not installed.' in (
        html.replace("&quot;", '"')
    )


def test_a_test_reports_a_taken_name_and_keeps_ok_disabled(manager_client, saved, demo_erp):
    values = rest_values(demo_erp, name="demo erp", action="test")
    html = post(manager_client, ADD_URL, values, headers=HTMX).content.decode()
    assert "Connection OK:" in html
    assert re.search(
        r'id="error-name" hx-swap-oob="true"><span>A connection with this name already exists.',
        html,
    )
    assert "Name: A connection with this name already exists." in html  # in the result
    assert ok_button(html) == "disabled"


def test_testing_the_saved_values_returns_the_row_out_of_band(manager_client, saved, demo_erp):
    values = rest_values(demo_erp, config__api_token="", action="test", row_on_page="1")
    html = post(manager_client, edit_url(saved), values, headers=HTMX).content.decode()
    assert f'<tr id="connection-{saved.pk}"' in html and 'hx-swap-oob="true"' in html
    saved.refresh_from_db()
    assert saved.last_test_by is not None


def test_testing_changed_values_leaves_the_row_alone(manager_client, saved, demo_erp):
    ERPConnection.objects.filter(pk=saved.pk).update(last_test_status="warning")
    values = rest_values(
        demo_erp, config__api_token="", config__timeout="7", action="test", row_on_page="1"
    )
    html = post(manager_client, edit_url(saved), values, headers=HTMX).content.decode()
    assert "Connection OK:" in html and f'<tr id="connection-{saved.pk}"' not in html
    saved.refresh_from_db()
    assert saved.last_test_status == "warning"
    assert saved.events.first().changes["unsaved"] is True


def test_the_saved_connection_shows_the_test_that_allowed_it(manager_client, saved, manager):
    assert saved.last_test_status == "ok" and saved.last_test_by == manager
    html = manager_client.get(reverse("connections:list")).content.decode()
    assert "Not tested" not in html


def test_a_static_label_gets_no_out_of_band_error_box(manager_client):
    values = {"name": "Plugin", "connector": "example_erp", "scope": "all", "action": "test"}
    html = post(manager_client, ADD_URL, values, headers=HTMX).content.decode()
    assert 'id="error-config__about"' not in html
    assert 'id="error-sync_connection"' in html


def test_the_test_and_the_save_have_their_own_urls(manager_client):
    assert reverse("connections:add_test") == ADD_URL + "test/"
    assert reverse("connections:add_save") == ADD_URL + "save/"
    assert manager_client.post(ADD_URL, {"action": "test"}).status_code == 405
    assert manager_client.get(reverse("connections:add_test")).status_code == 405


def test_a_save_request_reads_the_schema_once_and_decrypts_once(
    manager_client, saved, demo_erp, monkeypatch
):
    from connections import crypto
    from connectors import schema

    calls = {"specs": 0, "decrypt": 0}
    real_specs, real_decrypt = schema._field_specs.__wrapped__, crypto.decrypt_secrets
    schema._field_specs.cache_clear()

    def counting_specs(config_cls):
        calls["specs"] += 1
        return real_specs(config_cls)

    def counting_decrypt(stored):
        calls["decrypt"] += 1
        return real_decrypt(stored)

    monkeypatch.setattr(schema, "_field_specs", __import__("functools").cache(counting_specs))
    monkeypatch.setattr(crypto, "decrypt_secrets", counting_decrypt)
    values = rest_values(demo_erp, config__api_token="", name="Renamed", action="save")
    response = post(manager_client, edit_url(saved), values, headers=HTMX)
    assert response["HX-Retarget"] == "#results"
    assert calls == {"specs": 1, "decrypt": 1}


def test_edit_without_a_selection_says_so_in_the_page(manager_client):
    response = manager_client.get(reverse("connections:edit_selected"), headers=HTMX)
    assert response["HX-Retarget"] == "#results"
    assert "Select a connection to edit first." in response.content.decode()


def test_edit_with_a_selection_opens_the_first_and_pushes_its_url(manager_client, saved):
    response = manager_client.get(
        reverse("connections:edit_selected"), {"ids": [saved.pk], "q": "demo"}, headers=HTMX
    )
    assert response["HX-Push-Url"] == f"{edit_url(saved)}?q=demo"
    assert "Edit ERP connection" in response.content.decode()


def test_delete_asks_in_a_dialog_naming_the_connections(manager_client, make_connection):
    one, two = make_connection("North ERP"), make_connection("South ERP")
    html = manager_client.get(
        reverse("connections:delete_confirm"), {"ids": [one.pk, two.pk]}, headers=HTMX
    ).content.decode()
    assert "Delete these 2 ERP connections?" in html
    assert "<li>North ERP</li>" in html and "<li>South ERP</li>" in html
    assert "autofocus>Cancel</button>" in html
    assert ERPConnection.objects.count() == 2


def test_delete_without_a_selection_says_so_in_the_page(manager_client):
    response = manager_client.get(reverse("connections:delete_confirm"), headers=HTMX)
    assert "Select one or more connections first." in response.content.decode()
    assert response["HX-Retarget"] == "#results"


def test_the_access_dialog_keeps_picks_across_searches(manager_client, make_user):
    jane = make_user("jdoe", first_name="Jane")
    bob = make_user("bob", first_name="Bob")
    html = manager_client.get(
        reverse("connections:principals"), {"q": "jane", "users": [jane.pk, bob.pk]}, headers=HTMX
    ).content.decode()
    assert re.search(rf'name="users" value="{jane.pk}" checked', html)
    assert f'<input type="hidden" name="users" value="{bob.pk}">' in html


def test_the_access_dialogs_ok_renders_the_chips(manager_client, make_user):
    jane = make_user("jdoe", first_name="Jane", last_name="Doe")
    sales = Group.objects.create(name="Sales")
    html = manager_client.get(
        reverse("connections:picks"), {"users": [jane.pk], "groups": [sales.pk]}, headers=HTMX
    ).content.decode()
    assert html.strip().startswith('<ul id="picked"')
    assert 'aria-label="Remove Jane Doe"' in html and 'aria-label="Remove Sales"' in html
    assert f'name="users" value="{jane.pk}"' in html and f'name="groups" value="{sales.pk}"' in html


def test_a_chip_escapes_the_name_it_shows(manager_client, make_user):
    odd = make_user("odd", first_name='<b>"O\'Neil"</b>', last_name="& Co")
    html = manager_client.get(reverse("connections:picks"), {"users": [odd.pk]}, headers=HTMX)
    text = html.content.decode()
    assert "<b>" not in text
    assert "<span>&lt;b&gt;&quot;O&#x27;Neil&quot;&lt;/b&gt; &amp; Co</span>" in text
    assert 'aria-label="Remove &lt;b&gt;&quot;O&#x27;Neil&quot;&lt;/b&gt; &amp; Co"' in text


def test_the_edit_dialog_reads_a_connection_in_constant_queries_whoever_it_names(
    manager_client, make_connection, make_user, django_assert_num_queries
):
    connection = make_connection("Branch ERP", scope="specific")
    connection.users.set([make_user(f"user{i}", first_name=f"User {i}") for i in range(10)])
    connection.groups.set([Group.objects.create(name=f"Team {i}") for i in range(5)])
    # user, its two permission lookups; the connection, its users and groups (one query),
    # the active sync connections (the session is read from the cache; the history when it
    # is opened)
    with django_assert_num_queries(6):
        html = manager_client.get(edit_url(connection), headers=HTMX).content.decode()
    assert html.count('class="pick"') == 15


def test_the_edit_dialog_shows_the_chosen_sync_connection_without_reading_it_apart(
    manager_client, make_connection, django_assert_num_queries
):
    SyncConnection.objects.create(name="Head office", sync_connector="csv")
    chosen = SyncConnection.objects.create(name="Warehouse", sync_connector="csv")
    connection = make_connection("Branch ERP", sync_connection=chosen)
    # as without one: the option list is the one query that reads sync connections
    with django_assert_num_queries(6):
        html = manager_client.get(edit_url(connection), headers=HTMX).content.decode()
    assert f'<option value="{chosen.pk}" selected>Warehouse</option>' in html
    assert "Head office</option>" in html


def test_the_edit_dialogs_history_is_loaded_when_it_is_opened(
    manager_client, make_connection, manager
):
    connection = make_connection("Branch ERP")
    services.event_record(
        connection=connection, actor=manager, action="change", changes={"description": ["", "x"]}
    )
    html = manager_client.get(edit_url(connection), headers=HTMX).content.decode()
    entries_url = reverse("connections:history_entries", args=[connection.pk])
    assert f'hx-get="{entries_url}"' in html and 'hx-trigger="toggle once"' in html
    assert "history-entry" not in html

    entries = manager_client.get(entries_url, headers=HTMX).content.decode()
    assert entries.strip().startswith('<ol class="history-entries">')
    assert entries.count('class="history-entry') == 1 and "Description" in entries


def test_the_history_entries_need_the_manage_permission(client, make_connection, make_user):
    connection = make_connection("Branch ERP")
    client.force_login(make_user("sales"))
    response = client.get(
        reverse("connections:history_entries", args=[connection.pk]), headers=HTMX
    )
    assert response.status_code == 403

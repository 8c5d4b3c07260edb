from __future__ import annotations

import pytest
from django.urls import reverse

from connections import services
from connections.models import ERPConnection

pytestmark = pytest.mark.django_db

LIST_URL = "/settings/quote-sync/erp-connections/"


def test_root_redirects_to_the_erp_connections_tab(manager_client):
    response = manager_client.get("/")
    assert response.status_code == 302
    assert response.url == LIST_URL


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(LIST_URL)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


def test_non_staff_user_is_refused(client, make_user):
    client.force_login(make_user("sales", manage=True))
    assert client.get(LIST_URL).url == reverse("connections:no_access")
    assert client.get(LIST_URL, headers={"HX-Request": "true"}).status_code == 403


def test_staff_user_without_the_permission_is_refused(client, make_user):
    client.force_login(make_user("clerk", staff=True))
    assert client.get(LIST_URL).url == reverse("connections:no_access")
    assert client.post(reverse("connections:delete"), {"ids": [1]}).status_code == 403


def test_a_user_without_access_gets_a_friendly_page(client, make_user, manager):
    manager.first_name, manager.last_name, manager.email = "Mia", "Manager", "mia@example.com"
    manager.save()
    client.force_login(make_user("sales"))
    response = client.get(LIST_URL, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert client.post(reverse("connections:delete")).status_code == 403
    assert "No access to these settings" in html
    assert "You are logged in as sales" in html
    assert "Mia Manager" in html and "mailto:mia@example.com" in html
    assert 'action="/accounts/logout/"' in html


def test_the_friendly_page_is_in_dutch(client, make_user):
    client.force_login(make_user("sales"))
    html = client.get(LIST_URL, headers={"Accept-Language": "nl"}, follow=True).content.decode()
    assert "Geen toegang tot deze instellingen" in html


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response.url.endswith("favicon.svg")


def test_login_page_uses_djangos_login_view(client, manager, password):
    page = client.get("/accounts/login/")
    assert b'name="username"' in page.content and b'name="password"' in page.content
    response = client.post("/accounts/login/", {"username": "manager", "password": password})
    assert response.status_code == 302


def test_healthz_reports_the_database_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_list_shows_rows_with_name_connector_scope_and_description(manager_client, make_connection):
    make_connection("Main ERP", description="The main one")
    html = manager_client.get(LIST_URL).content.decode()
    assert "Main ERP" in html and "REST/JSON ERP" in html and "The main one" in html
    assert "<table" in html and 'name="ids"' in html


def test_htmx_request_gets_only_the_results_partial(manager_client, make_connection):
    make_connection("Main ERP")
    response = manager_client.get(LIST_URL, {"q": "main"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_history_restore_request_gets_the_full_page(manager_client):
    response = manager_client.get(
        LIST_URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


def test_delete_via_htmx_soft_deletes_and_rerenders_the_list(manager_client, make_connection):
    connection = make_connection("Doomed")
    response = manager_client.post(
        reverse("connections:delete"), {"ids": [connection.pk]}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "Deleted 1 connection." in response.content.decode()
    assert ERPConnection.all_objects.get(pk=connection.pk).deleted_at is not None


def test_delete_without_htmx_redirects_back_to_the_same_list_state(manager_client, make_connection):
    connection = make_connection("Doomed")
    response = manager_client.post(
        reverse("connections:delete"), {"ids": [connection.pk], "q": "doo"}
    )
    assert response.status_code == 302
    assert response.url == f"{LIST_URL}?q=doo"


def test_delete_with_nothing_or_garbage_selected_warns(manager_client):
    response = manager_client.post(
        reverse("connections:delete"), {"ids": ["x", "999"]}, headers={"HX-Request": "true"}
    )
    assert "Select one or more connections first." in response.content.decode()


def test_deleted_list_shows_who_deleted_and_restore(manager_client, make_connection, manager):
    services.connection_delete(actor=manager, connection=make_connection("Gone"))
    html = manager_client.get(LIST_URL, {"deleted": "1"}).content.decode()
    assert "Deleted by manager on" in html
    assert "Restore" in html


def test_restore_into_a_taken_name_shows_the_message(manager_client, make_connection, manager):
    old = make_connection("Twin")
    services.connection_delete(actor=manager, connection=old)
    make_connection("Twin")
    response = manager_client.post(
        reverse("connections:restore"),
        {"ids": [old.pk], "deleted": "1"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "A live connection named &quot;Twin&quot; already exists." in html
    assert ERPConnection.all_objects.get(pk=old.pk).deleted_at is not None


def test_list_is_in_dutch_for_a_dutch_browser(manager_client):
    html = manager_client.get(LIST_URL, headers={"Accept-Language": "nl"}).content.decode()
    assert "ERP-verbindingen" in html and "Instellingen en onderhoud" in html


def test_sync_connections_tab_lists_sync_connections(manager_client):
    from connections.models import SyncConnection

    SyncConnection.objects.create(name="Nightly", sync_connector="erp_sync")
    html = manager_client.get(reverse("connections:sync_connections")).content.decode()
    assert "Nightly" in html and "ERP synchronisation" in html and "erp_sync" not in html


def test_available_quote_connectors_tab_lists_connectors_and_failed_plugins(manager_client):
    html = manager_client.get(reverse("connections:quote_connectors")).content.decode()
    for text in ["REST/JSON ERP", "Built-in product register", "Tryton ERP", "Base URL"]:
        assert text in html
    assert "price_lists" not in html and "Price lists" in html  # capabilities in words
    # The example package's deliberately broken entry point is shown, not fatal.
    assert "example_broken" in html and "Unavailable" in html


def test_available_quote_connectors_are_written_for_administrators(manager_client):
    html = manager_client.get(reverse("connections:quote_connectors")).content.decode()
    assert "Choice: Half up, Half even, Down" in html
    assert "<td>Password</td>" in html and "<td>Whole number</td>" in html
    assert "half_up" not in html and "<td>True</td>" not in html
    assert '<code class="muted">rest_json</code>' not in html


def test_available_quote_connectors_in_dutch(manager_client):
    html = manager_client.get(
        reverse("connections:quote_connectors"), headers={"Accept-Language": "nl"}
    ).content.decode()
    assert "Prijslijsten" in html and "<td>Wachtwoord</td>" in html and "Keuze:" in html


def test_the_friendly_page_links_to_the_quote_side(client, make_user):
    client.force_login(make_user("sales"))
    html = client.get(reverse("connections:no_access")).content.decode()
    assert 'href="/quote/"' in html and "Go to my quotes" in html

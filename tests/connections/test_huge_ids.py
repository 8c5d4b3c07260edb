"""Ids beyond the database's range are "not found" on every endpoint, never a 500
(issue 8, finding 4)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connections import services
from connections.models import ERPConnection
from tests.connections.test_dialog_views import ADD_URL, HTMX, rest_values

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # beyond 64 bits
BEYOND_INT32 = "3000000000"  # beyond the users table's 32-bit id on PostgreSQL


@pytest.mark.parametrize("huge", [HUGE, BEYOND_INT32, "-99999999999999999999"])
@pytest.mark.parametrize("action", ["delete", "restore", "test_selected"])
def test_selection_actions_treat_huge_ids_as_not_found(
    manager_client, make_connection, action, huge
):
    kept = make_connection("Kept")
    response = manager_client.post(
        reverse(f"connections:{action}"), {"ids": [huge, str(kept.pk + 1000)]}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Select one or more connections first." in response.content.decode()
    assert ERPConnection.objects.filter(pk=kept.pk).exists()


def test_a_huge_id_beside_a_real_one_acts_on_the_real_one(manager_client, make_connection):
    real = make_connection("Real")
    manager_client.post(reverse("connections:delete"), {"ids": [HUGE, str(real.pk)]}, headers=HTMX)
    assert ERPConnection.all_objects.get(pk=real.pk).deleted_at is not None


@pytest.mark.parametrize("field", ["users", "groups"])
@pytest.mark.parametrize("huge", [HUGE, BEYOND_INT32])
def test_a_huge_user_or_group_id_on_add_is_an_invalid_choice(manager_client, demo_erp, field, huge):
    values = rest_values(demo_erp, scope="specific", **{field: huge})
    for action in ("test", "save"):
        response = manager_client.post(f"{ADD_URL}{action}/", values, headers=HTMX)
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    assert not ERPConnection.all_objects.exists()


def test_a_huge_sync_connection_id_is_an_invalid_choice(manager_client, demo_erp):
    values = rest_values(demo_erp, sync_connection=HUGE)
    response = manager_client.post(f"{ADD_URL}test/", values, headers=HTMX)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("huge", [HUGE, BEYOND_INT32])
def test_editing_a_huge_id_is_not_found(manager_client, huge):
    base = f"/settings/quote-sync/erp-connections/{huge}"
    assert manager_client.get(f"{base}/edit/", headers=HTMX).status_code == 404
    assert manager_client.get(f"{base}/history/", headers=HTMX).status_code == 404
    for action in ("test", "save"):
        response = manager_client.post(f"{base}/{action}/", {"name": "x"}, headers=HTMX)
        assert response.status_code == 404


def test_connector_fields_with_a_huge_connection_id_shows_fresh_fields(manager_client):
    response = manager_client.get(
        reverse("connections:connector_fields"), {"connector": "rest_json", "connection": HUGE}
    )
    assert response.status_code == 200


def test_principal_search_with_a_huge_page_shows_the_last_page(manager_client):
    response = manager_client.get(reverse("connections:principals"), {"page": HUGE})
    assert response.status_code == 200


@pytest.mark.parametrize("model", ["erpconnection", "syncconnection"])
def test_the_admin_treats_huge_ids_as_not_found(admin_client, model, make_connection, manager):
    changelist = reverse(f"admin:connections_{model}_changelist")
    response = admin_client.post(
        changelist, {"action": "restore_selected", "_selected_action": [HUGE]}
    )
    assert response.status_code in (200, 302)
    response = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [HUGE], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    response = admin_client.get(f"/admin/connections/{model}/{HUGE}/change/")
    assert response.status_code == 302  # "doesn't exist. Perhaps it was deleted?"


def test_the_admin_change_form_refuses_a_huge_user_id(admin_client, make_connection):
    connection = make_connection("Scoped")
    url = reverse("admin:connections_erpconnection_change", args=[connection.pk])
    response = admin_client.post(
        url, {"name": "Scoped", "description": "", "scope": "specific", "users": [HUGE]}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_the_service_skips_huge_ids_in_lookups(make_connection, manager):
    connection = make_connection("Service")
    assert list(ERPConnection.objects.filter(pk__in=[int(HUGE), connection.pk])) == [connection]
    assert ERPConnection.objects.exclude(pk__in=[int(HUGE)]).count() == 1
    services.connection_delete(actor=manager, connection=connection)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", f"/quote/{HUGE}/"),
        ("post", f"/quote/{HUGE}/connection/"),
        ("post", f"/quote/{HUGE}/price-list/"),
        ("post", f"/quote/{HUGE}/lines/"),
        ("post", f"/quote/{HUGE}/lines/add/"),
        ("post", f"/quote/{HUGE}/lines/{HUGE}/remove/"),
        ("get", f"/api/quote/connections/{HUGE}/price-lists/?currency=EUR"),
        ("get", f"/api/quote/connections/{HUGE}/products/?q=a&price_list=1"),
        ("post", f"/api/quote/connections/{HUGE}/price/"),
    ],
)
def test_the_quote_side_treats_huge_ids_as_not_found(admin_client, method, url):
    if method == "get":
        response = admin_client.get(url)
    else:
        response = admin_client.post(
            url, {"price_list": "1", "lines": []}, content_type="application/json"
        )
    assert response.status_code in (400, 404), (url, response.status_code)


def test_choosing_a_huge_connection_id_for_a_quote_is_refused(client, make_user, make_connection):
    from quotes import services as quote_services

    sales = make_user("sam")
    client.force_login(sales)
    quote, _choice = quote_services.quote_create(
        owner=sales, title="Offer", customer="ACME", currency="EUR"
    )
    for value in (HUGE, BEYOND_INT32):
        response = client.post(f"/quote/{quote.pk}/connection/", {"connection": value})
        assert response.status_code == 400
        assert "Choose one of the connections shown." in response.content.decode()
    response = client.post(f"/quote/{quote.pk}/lines/{HUGE}/remove/")
    assert response.status_code in (302, 400, 404)

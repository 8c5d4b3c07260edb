"""Preview as user: what a user would get on the quote side, and why the rest is missing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from connections import services
from connections.models import ERPConnection
from connections.selectors import connection_preview

pytestmark = pytest.mark.django_db

PREVIEW = "/settings/quote-sync/erp-connections/preview/"


@pytest.fixture
def setup(register_connection, register_lists, make_user, manager):
    sam = make_user("sam", first_name="Sam", last_name="Sales")
    team = Group.objects.create(name="Team")
    sam.groups.add(team)
    register_connection("For all")
    register_connection("For the team", groups=[team])
    register_connection("For olga", users=[make_user("olga")])
    gone = register_connection("Retired", users=[sam])
    services.connection_delete(actor=manager, connection=gone)
    broken = register_connection("Plugin gone", users=[sam])
    ERPConnection.objects.filter(pk=broken.pk).update(connector_key="uninstalled")
    return sam


def test_the_preview_lists_connections_with_price_lists_per_currency(setup):
    preview = connection_preview(setup)
    assert [entry.item.connection.name for entry in preview.offered] == ["For all", "For the team"]
    groups = preview.offered[0].by_currency
    assert [(g.currency, [pl.name for pl in g.price_lists]) for g in groups] == [
        ("EUR", ["Standard"]),
        ("USD", ["Export"]),
    ]
    assert preview.currencies == ["EUR", "USD"]


def test_the_preview_says_why_a_connection_is_missing(setup):
    reasons = {m.connection.name: m.reason for m in connection_preview(setup).missing}
    assert reasons == {
        "Plugin gone": "unavailable",
        "Retired": "deleted",
        "For olga": "out_of_scope",
    }


def test_the_preview_page_needs_the_manage_permission(sales_client):
    # A page load is sent to the friendly no-access page; an htmx request is refused.
    assert sales_client.get(PREVIEW).url == "/settings/no-access/"
    assert sales_client.get(PREVIEW, headers={"HX-Request": "true"}).status_code == 403


def test_the_preview_dialog_and_result(manager_client, setup):
    dialog = manager_client.get(
        PREVIEW, headers={"HX-Request": "true", "HX-Target": "dialog-container"}
    )
    assert 'id="preview-dialog"' in dialog.content.decode()
    users = manager_client.get(f"{PREVIEW}users/?q=sales").content.decode()
    assert "Sam Sales" in users and "olga" not in users and "Team" not in users
    result = manager_client.get(
        f"{PREVIEW}?user={setup.pk}", headers={"HX-Request": "true", "HX-Target": "preview-result"}
    ).content.decode()
    assert result.lstrip().startswith('<section id="preview-result"')
    assert "For the team" in result and "Standard" in result
    assert "out of scope" in result and "deleted" in result and "not installed" in result


def test_a_shared_preview_link_opens_the_list_with_the_dialog(manager_client, setup):
    html = manager_client.get(f"{PREVIEW}?user={setup.pk}").content.decode()
    assert 'id="connection-table"' in html and 'id="preview-dialog"' in html
    assert "For the team" in html


def test_a_preview_of_a_user_without_connections_says_so(manager_client, make_user):
    nina = make_user("nina")
    html = manager_client.get(f"{PREVIEW}?user={nina.pk}").content.decode()
    assert "This user gets no ERP connection" in html

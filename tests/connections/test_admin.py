from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from connections import services
from connections.models import ERPConnection

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:connections_erpconnection_changelist"


@pytest.fixture
def support_client(client, make_user):
    user = make_user("helpdesk", staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    client.force_login(user)
    return client


def test_support_group_can_view_and_restore_but_not_change(make_user):
    user = make_user("helpdesk", staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    assert user.has_perm("connections.view_erpconnection")
    assert user.has_perm("connections.restore_erpconnection")
    assert not user.has_perm("connections.change_erpconnection")
    assert not user.has_perm("connections.delete_erpconnection")


def test_changelist_includes_deleted_connections_and_filters_them(
    support_client, make_connection, manager
):
    make_connection("Alive")
    services.connection_delete(actor=manager, connection=make_connection("Gone"))
    html = support_client.get(reverse(CHANGELIST)).content.decode()
    assert "Alive" in html and "Gone" in html
    html = support_client.get(reverse(CHANGELIST), {"deleted": "yes"}).content.decode()
    assert "Gone" in html and "Alive" not in html


def test_restore_action_restores_selected_connections(support_client, make_connection, manager):
    gone = make_connection("Gone")
    services.connection_delete(actor=manager, connection=gone)
    response = support_client.post(
        reverse(CHANGELIST),
        {"action": "restore_selected", "_selected_action": [gone.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert ERPConnection.objects.filter(pk=gone.pk).exists()


def test_restore_action_reports_a_name_clash(support_client, make_connection, manager):
    gone = make_connection("Twin")
    services.connection_delete(actor=manager, connection=gone)
    make_connection("Twin")
    response = support_client.post(
        reverse(CHANGELIST),
        {"action": "restore_selected", "_selected_action": [gone.pk]},
        follow=True,
    )
    assert "already exists" in response.content.decode()
    assert ERPConnection.all_objects.get(pk=gone.pk).deleted_at is not None


def test_deleting_in_the_admin_is_a_soft_delete(admin_client, make_connection):
    connection = make_connection("Soft")
    response = admin_client.post(
        reverse("admin:connections_erpconnection_delete", args=[connection.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert ERPConnection.all_objects.get(pk=connection.pk).deleted_at is not None


def test_bulk_delete_in_the_admin_is_a_soft_delete(admin_client, make_connection):
    connection = make_connection("Soft")
    admin_client.post(
        reverse(CHANGELIST),
        {"action": "delete_selected", "_selected_action": [connection.pk], "post": "yes"},
    )
    assert ERPConnection.all_objects.get(pk=connection.pk).deleted_at is not None


def test_configuration_is_read_only_in_the_admin(admin_client, make_connection):
    connection = make_connection("Ro", config={"base_url": "https://ro.example/"})
    url = reverse("admin:connections_erpconnection_change", args=[connection.pk])
    html = admin_client.get(url).content.decode()
    assert "https://ro.example/" in html
    assert 'name="config"' not in html and 'name="connector_key"' not in html
    assert 'name="secrets"' not in html


def test_change_page_shows_the_history(support_client, make_connection, manager):
    connection = make_connection("Tracked")
    services.connection_delete(actor=manager, connection=connection)
    url = reverse("admin:connections_erpconnection_change", args=[connection.pk])
    html = support_client.get(url).content.decode()
    assert "History" in html and "Deleted" in html


def test_the_admin_never_shows_a_secret_or_its_ciphertext(admin_client, make_connection):
    from connections import crypto

    secrets = crypto.encrypt_secrets({"api_token": "s3cret-token-value"})
    connection = make_connection("Secretive", secrets=secrets)
    pages = [
        reverse("admin:connections_erpconnection_change", args=[connection.pk]),
        reverse(CHANGELIST),
        reverse("admin:connections_erpconnection_history", args=[connection.pk]),
    ]
    for url in pages:
        html = admin_client.get(url).content.decode()
        assert "s3cret-token-value" not in html
        assert secrets[:40] not in html


def change_form(**values):
    """The change form's values, with the (read-only) history inline's management form."""
    return {
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
        "description": "",
        "scope": "all",
        **values,
    }


def test_an_admin_change_writes_through_the_service(admin_client, make_connection):
    connection = make_connection("Before", description="Kept")
    url = reverse("admin:connections_erpconnection_change", args=[connection.pk])
    response = admin_client.post(url, change_form(name="Ärger", description="Kept"))
    assert response.status_code == 302
    stored = ERPConnection.objects.get(pk=connection.pk)
    assert (stored.name, stored.name_key, stored.version) == ("Ärger", "ärger", 2)
    event = stored.events.get(action="change")
    assert event.changes == {"name": ["Before", "Ärger"]}


def test_an_admin_change_of_a_deleted_connection_is_refused(admin_client, make_connection, manager):
    connection = make_connection("Gone")
    url = reverse("admin:connections_erpconnection_change", args=[connection.pk])
    admin_client.get(url)
    services.connection_delete(actor=manager, connection=connection)
    admin_client.post(url, change_form(name="Back?"))
    stored = ERPConnection.all_objects.get(pk=connection.pk)
    assert stored.deleted_at is not None and stored.name == "Gone"


def test_the_admin_refuses_a_name_taken_in_another_case(admin_client, make_connection):
    make_connection("École")
    other = make_connection("Other")
    url = reverse("admin:connections_erpconnection_change", args=[other.pk])
    response = admin_client.post(url, change_form(name="ÉCOLE"))
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_the_admin_delete_confirmation_names_only_the_connection(admin_client, make_connection):
    from connections import services

    connection = make_connection("Doomed")
    services.event_record(connection=connection, actor=None, action="change", changes={})
    html = admin_client.get(
        f"/admin/connections/erpconnection/{connection.pk}/delete/"
    ).content.decode()
    assert "History:" not in html and "history entr" not in html
    assert "soft delete" in html and "its history are kept" in html


def test_the_admin_shows_labels_and_full_names(admin_client, make_connection, manager):
    from connections import services

    manager.first_name, manager.last_name = "Mia", "Manager"
    manager.save()
    connection = make_connection("Shown")
    services.connection_delete(actor=manager, connection=connection)
    html = admin_client.get("/admin/connections/erpconnection/").content.decode()
    assert "REST/JSON ERP" in html and "Mia Manager" in html
    assert '<td class="field-connector_display">rest_json' not in html
    assert html.count(">All</a>") == 4  # Deleted, Availability, Quote connector, Scope: one each
    assert "Everyone (scope All)" in html


def test_the_restore_action_leaves_a_log_entry(support_client, make_connection, manager):
    from django.contrib.admin.models import LogEntry

    from connections import services

    connection = make_connection("Back")
    services.connection_delete(actor=manager, connection=connection)
    support_client.post(
        "/admin/connections/erpconnection/",
        {"action": "restore_selected", "_selected_action": [connection.pk]},
    )
    entry = LogEntry.objects.get(object_id=str(connection.pk))
    assert entry.get_change_message() == "Restored."
    history = support_client.get(
        f"/admin/connections/erpconnection/{connection.pk}/history/"
    ).content.decode()
    assert "Restored." in history and "History of the connection" in history


def test_the_history_button_of_a_connection_made_in_the_dialog_shows_its_history(
    support_client, make_connection, manager
):
    from connections import services

    connection = make_connection("Made in the dialog")
    services.event_record(
        connection=connection,
        actor=manager,
        action="create",
        changes={"name": connection.name, "connector": "rest_json"},
    )
    html = support_client.get(
        f"/admin/connections/erpconnection/{connection.pk}/history/"
    ).content.decode()
    assert "have a change history" not in html
    assert "Created" in html and "Quote connector: REST/JSON ERP" in html

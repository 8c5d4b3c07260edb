"""Sync connections in the admin: administrators (manage permission) and Support add and
change them; delete is soft, restore brings one back (issue 8, finding 8)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from connections.models import SyncConnection

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:connections_syncconnection_changelist")
ADD = reverse("admin:connections_syncconnection_add")


@pytest.fixture(params=["manager", "support"])
def staff_client(request, client, make_user):
    if request.param == "manager":
        user = make_user("admin-user", staff=True, manage=True)
    else:
        user = make_user("helpdesk", staff=True)
        user.groups.add(Group.objects.get(name="Support"))
    client.force_login(user)
    return client


def values(**overrides):
    return {
        "name": "Main sync",
        "sync_connector": "csv",
        "active": "on",
        "description": "",
        **overrides,
    }


def test_administrators_and_support_add_a_sync_connection(staff_client):
    assert staff_client.get(ADD).status_code == 200
    response = staff_client.post(ADD, values())
    assert response.status_code == 302
    sync = SyncConnection.objects.get()
    assert (sync.name, sync.name_key) == ("Main sync", "main sync")


def test_administrators_and_support_change_a_sync_connection(staff_client):
    sync = SyncConnection.objects.create(name="Old", sync_connector="csv")
    url = reverse("admin:connections_syncconnection_change", args=[sync.pk])
    response = staff_client.post(url, values(name="Ärger sync", active=""))
    assert response.status_code == 302
    sync.refresh_from_db()
    assert (sync.name, sync.name_key, sync.active) == ("Ärger sync", "ärger sync", False)


def test_the_admin_refuses_a_name_taken_in_another_case(staff_client):
    SyncConnection.objects.create(name="École", sync_connector="csv")
    response = staff_client.post(ADD, values(name="ÉCOLE"))
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert SyncConnection.objects.count() == 1


def test_the_admin_refuses_hidden_characters(staff_client):
    response = staff_client.post(ADD, values(name="Sync\u200bone"))
    assert "The name contains characters that cannot be shown." in response.content.decode()
    assert not SyncConnection.all_objects.exists()


def test_delete_is_soft_and_restore_brings_it_back(staff_client):
    sync = SyncConnection.objects.create(name="Soft", sync_connector="csv")
    url = reverse("admin:connections_syncconnection_delete", args=[sync.pk])
    assert staff_client.post(url, {"post": "yes"}).status_code == 302
    sync.refresh_from_db()
    assert sync.deleted_at is not None
    staff_client.post(CHANGELIST, {"action": "restore_selected", "_selected_action": [sync.pk]})
    sync.refresh_from_db()
    assert sync.deleted_at is None


def test_a_sync_connection_in_use_is_not_deleted(staff_client, make_connection):
    sync = SyncConnection.objects.create(name="Used", sync_connector="csv")
    make_connection("Quotes", sync_connection=sync)
    url = reverse("admin:connections_syncconnection_delete", args=[sync.pk])
    html = staff_client.get(url).content.decode()
    assert "Quotes" in html
    staff_client.post(url, {"post": "yes"})
    sync.refresh_from_db()
    assert sync.deleted_at is None


def test_a_deleted_sync_connection_is_read_only_until_restored(admin_client, manager):
    from connections import sync_services

    sync = SyncConnection.objects.create(name="Gone", sync_connector="csv")
    sync_services.sync_connection_delete(actor=manager, sync_connection=sync)
    url = reverse("admin:connections_syncconnection_change", args=[sync.pk])
    admin_client.post(url, values(name="Changed"))
    sync.refresh_from_db()
    assert sync.name == "Gone"


def test_a_change_racing_a_delete_does_not_undo_it(manager):
    from connections import services, sync_services

    sync = SyncConnection.objects.create(name="Race", sync_connector="csv")
    stale = SyncConnection.objects.get(pk=sync.pk)
    sync_services.sync_connection_delete(actor=manager, sync_connection=sync)
    stale.description = "Edited"
    with pytest.raises(services.ConnectionInvalid, match="deleted meanwhile"):
        sync_services.sync_connection_save(sync_connection=stale, fields=["description"])
    assert SyncConnection.all_objects.get(pk=sync.pk).deleted_at is not None


def test_a_user_without_either_right_cannot_open_it(client, make_user):
    client.force_login(make_user("clerk", staff=True))
    assert client.get(ADD).status_code == 403

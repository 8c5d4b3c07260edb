from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from connections import services
from connections.models import ConnectionEvent, ERPConnection

pytestmark = pytest.mark.django_db


def test_delete_keeps_every_field_and_records_who_and_when(make_connection, manager):
    group = Group.objects.create(name="Sales")
    connection = make_connection(
        "Kept", description="All of it", scope=ERPConnection.Scope.SPECIFIC
    )
    connection.groups.add(group)
    before = {
        f.attname: getattr(connection, f.attname)
        for f in ERPConnection._meta.concrete_fields
        if f.attname not in {"deleted_at", "deleted_by_id", "version"}
    }

    services.connection_delete(actor=manager, connection=connection)

    stored = ERPConnection.all_objects.get(pk=connection.pk)
    after = {name: getattr(stored, name) for name in before}
    assert after == before
    assert stored.version == connection.version == 2
    assert list(stored.groups.all()) == [group]
    assert stored.deleted_by == manager
    assert stored.deleted_at is not None
    assert not ERPConnection.objects.filter(pk=connection.pk).exists()
    assert stored.events.filter(action=ConnectionEvent.Action.DELETE, actor=manager).exists()


def test_restore_brings_the_connection_back_unchanged(make_connection, manager):
    connection = make_connection("Back again", config={"base_url": "https://x.example/"})
    services.connection_delete(actor=manager, connection=connection)

    services.connection_restore(actor=manager, connection=connection)

    restored = ERPConnection.objects.get(pk=connection.pk)
    assert restored.deleted_at is None and restored.deleted_by is None
    assert restored.config == {"base_url": "https://x.example/"}
    assert restored.events.filter(action=ConnectionEvent.Action.RESTORE).exists()


def test_restore_refuses_name_taken_by_live_connection(make_connection, manager):
    old = make_connection("Shared Name")
    services.connection_delete(actor=manager, connection=old)
    make_connection("shared name")  # case-insensitive clash

    with pytest.raises(services.RestoreRefused) as refused:
        services.connection_restore(actor=manager, connection=old)

    assert refused.value.messages == [
        'A live connection named "Shared Name" already exists. Rename one of them first.'
    ]
    stored = ERPConnection.all_objects.get(pk=old.pk)
    assert stored.deleted_at is not None
    assert not stored.events.filter(action=ConnectionEvent.Action.RESTORE).exists()


def test_database_refuses_two_live_connections_with_the_same_name(make_connection):
    make_connection("Unique")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_connection("UNIQUE")


def test_a_deleted_connection_frees_its_name(make_connection, manager):
    services.connection_delete(actor=manager, connection=make_connection("Reused"))
    assert make_connection("Reused").pk


def test_visible_to_respects_scope(make_connection, make_user):
    sales = Group.objects.create(name="Sales")
    anna = make_user("anna")
    anna.groups.add(sales)
    bram = make_user("bram")
    everyone = make_connection("Everyone")
    for_group = make_connection("Group only", scope=ERPConnection.Scope.SPECIFIC)
    for_group.groups.add(sales)
    for_bram = make_connection("Bram only", scope=ERPConnection.Scope.SPECIFIC)
    for_bram.users.add(bram)

    assert set(ERPConnection.objects.visible_to(anna)) == {everyone, for_group}
    assert set(ERPConnection.objects.visible_to(bram)) == {everyone, for_bram}

"""Names: unique by their normalised key on every database, no hidden characters
(issue 8, findings 4 and 5)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from connections import services, sync_services
from connections.models import ERPConnection, SyncConnection
from connections.names import name_key
from tests.connections.test_dialog_views import ADD_URL, HTMX, proof_from, rest_values

pytestmark = pytest.mark.django_db

HIDDEN = "The name contains characters that cannot be shown."


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Ärger ERP", "äRGER erp"),
        ("ÉCOLE", "école"),
        ("Straße", "STRASSE"),
        ("ＤＥＭＯ", "demo"),  # full-width letters (NFKC)
        ("Demo ERP", "Demo  ERP"),
    ],
)
def test_names_that_differ_only_in_case_or_form_share_a_key(first, second):
    assert name_key(first) == name_key(second)


@pytest.mark.parametrize(("first", "second"), [("Ärger ERP", "äRGER erp"), ("ÉCOLE", "école")])
def test_the_database_refuses_a_second_live_name_differing_only_in_case(
    make_connection, first, second
):
    make_connection(first)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_connection(second)


def test_a_deleted_connection_does_not_hold_its_name(make_connection, manager):
    services.connection_delete(actor=manager, connection=make_connection("École"))
    assert make_connection("école").name_key == "école"


def test_a_rename_updates_the_key(make_connection, manager):
    connection = make_connection("Old name")
    services.connection_update_details(
        actor=manager, connection=connection, name="Ärger", description="", scope="all"
    )
    assert ERPConnection.objects.get(pk=connection.pk).name_key == "ärger"


def test_the_service_refuses_a_name_taken_in_another_case(make_connection, manager):
    make_connection("Ärger ERP")
    other = make_connection("Other")
    with pytest.raises(services.ConnectionInvalid, match="already exists"):
        services.connection_update_details(
            actor=manager, connection=other, name="äRGER erp", description="", scope="all"
        )


def test_the_dialog_refuses_a_name_taken_in_another_case(manager_client, make_connection, demo_erp):
    make_connection("Ärger ERP")
    # The test reports the taken name (and gives no usable OK); a save is refused too.
    test_response = manager_client.post(
        f"{ADD_URL}test/", rest_values(demo_erp, name="äRGER erp"), headers=HTMX
    )
    assert "already exists" in test_response.content.decode()
    response = manager_client.post(
        f"{ADD_URL}save/",
        {**rest_values(demo_erp, name="äRGER erp"), "proof": proof_from(test_response)},
        headers=HTMX,
    )
    assert "already exists" in response.content.decode()
    assert ERPConnection.objects.count() == 1


@pytest.mark.parametrize(
    "name",
    [
        "Demo\u200bERP",  # zero-width space
        "\u202etxt.exe",  # right-to-left override
        "Demo \x1b[31mERP",  # ANSI escape
        "Demo\u2066ERP",  # bidi isolate
        "Demo\tERP",
        "Demo\u00adERP",  # soft hyphen (Cf)
    ],
)
def test_a_name_with_hidden_characters_is_refused_in_the_dialog(manager_client, demo_erp, name):
    response = manager_client.post(
        f"{ADD_URL}test/", rest_values(demo_erp, name=name), headers=HTMX
    )
    assert response.status_code == 200
    assert HIDDEN in response.content.decode()
    assert not ERPConnection.all_objects.exists()


def test_the_service_refuses_hidden_characters_from_any_caller(make_connection, manager):
    connection = make_connection("Visible")
    with pytest.raises(services.ConnectionInvalid) as refused:
        services.connection_update_details(
            actor=manager, connection=connection, name="Demo\u200bERP", description="", scope="all"
        )
    assert refused.value.message_dict == {"name": [HIDDEN]}


def test_sync_connection_names_follow_the_same_rules():
    sync_services.sync_connection_save(
        sync_connection=SyncConnection(name="École", sync_connector="x")
    )
    with pytest.raises(services.ConnectionInvalid, match="already exists"):
        sync_services.sync_connection_save(
            sync_connection=SyncConnection(name="ÉCOLE", sync_connector="x")
        )
    with pytest.raises(services.ConnectionInvalid, match="cannot be shown"):
        sync_services.sync_connection_save(
            sync_connection=SyncConnection(name="Sync\u200b", sync_connector="x")
        )


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_keys_and_renames_live_names_that_now_collide():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("connections", "0005_availability")])
    old = executor.loader.project_state([("connections", "0005_availability")]).apps
    OldConnection = old.get_model("connections", "ERPConnection")
    # Distinct under lower() on both databases, one name under the new key.
    kept = OldConnection.objects.create(name="Ärger Straße", connector_key="rest_json")
    renamed = OldConnection.objects.create(name="ärger STRASSE", connector_key="rest_json")
    from django.utils import timezone

    gone = OldConnection.objects.create(
        name="Ärger Strasse", connector_key="rest_json", deleted_at=timezone.now()
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    rows = {c.pk: c for c in ERPConnection.all_objects.all()}
    assert (rows[kept.pk].name, rows[kept.pk].name_key) == ("Ärger Straße", "ärger strasse")
    assert rows[renamed.pk].name == "ärger STRASSE (2)"
    assert rows[renamed.pk].name_key == "ärger strasse (2)"
    assert rows[gone.pk].name == "Ärger Strasse" and rows[gone.pk].name_key == "ärger strasse"
    assert rows[renamed.pk].events.get().changes == {"name": ["ärger STRASSE", "ärger STRASSE (2)"]}

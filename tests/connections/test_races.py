"""Races with real concurrent transactions (PostgreSQL row locks; issue 8, findings 1-2).

Each thread has its own database connection and transaction; a barrier releases them at
the same moment. Each works from a copy of the row loaded before the barrier, as a view
does, so before the services locked the row these races were lost every time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection as db_connection, connections

from connections import services
from connections.models import ConnectionEvent, ERPConnection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs in threads released together; return each one's result or error."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = job()
        except Exception as exc:  # the race's loser: kept for the assertions
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_the_database_is_postgresql():
    assert db_connection.vendor == "postgresql"


def _edit_description(actor: Any, stale: ERPConnection) -> Callable[[], Any]:
    def edit() -> Any:
        config = services.connection_config(connection=stale)
        return services.connection_update(
            actor=actor,
            connection=stale,
            name=stale.name,
            connector_key=stale.connector_key,
            config=config,
            proof=None,
            description="Changed at the same moment",
        )

    return edit


@pytest.mark.parametrize("attempt", range(4))
def test_an_edit_racing_a_delete_never_undoes_the_delete(manager, make_connection, attempt):
    connection = make_connection("Racing", config={"base_url": "https://erp.example/"})
    stale_for_edit = ERPConnection.objects.get(pk=connection.pk)
    stale_for_delete = ERPConnection.objects.get(pk=connection.pk)

    edit, delete = race(
        _edit_description(manager, stale_for_edit),
        lambda: services.connection_delete(actor=manager, connection=stale_for_delete),
    )

    stored = ERPConnection.all_objects.get(pk=connection.pk)
    assert stored.deleted_at is not None, (edit, delete)
    actions = list(stored.events.order_by("pk").values_list("action", flat=True))
    assert actions in (["change", "delete"], ["delete"]), actions
    if actions == ["delete"]:  # the delete came first: the edit was refused
        assert isinstance(edit, services.ConnectionInvalid)
        assert edit.messages == ["This connection was deleted meanwhile. Restore it first."]
        assert stored.description == ""


def test_three_restores_at_once_are_recorded_once(manager, make_connection):
    connection = make_connection("Thrice")
    services.connection_delete(actor=manager, connection=connection)
    copies = [ERPConnection.all_objects.get(pk=connection.pk) for _ in range(3)]

    results = race(
        *[(lambda c=c: services.connection_restore(actor=manager, connection=c)) for c in copies]
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    restores = ConnectionEvent.objects.filter(
        connection=connection, action=ConnectionEvent.Action.RESTORE
    )
    assert restores.count() == 1
    assert ERPConnection.objects.filter(pk=connection.pk).exists()


def test_three_deletes_at_once_are_recorded_once(manager, make_connection):
    connection = make_connection("Gone thrice")
    copies = [ERPConnection.objects.get(pk=connection.pk) for _ in range(3)]

    results = race(
        *[(lambda c=c: services.connection_delete(actor=manager, connection=c)) for c in copies]
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    deletes = ConnectionEvent.objects.filter(
        connection=connection, action=ConnectionEvent.Action.DELETE
    )
    assert deletes.count() == 1


def test_two_saves_racing_with_one_proof_make_one_connection(manager, demo_erp):
    from connectors import registry

    Config = registry.get_connector_class("rest_json").Config
    config = Config.model_validate(
        {"base_url": demo_erp, "authentication": "bearer", "api_token": "demo-token"}
    )
    proof = services.connection_test(actor=manager, connector_key="rest_json", config=config).proof

    def save(name: str) -> Callable[[], Any]:
        return lambda: services.connection_create(
            actor=manager, name=name, connector_key="rest_json", config=config, proof=proof
        )

    results = race(save("One"), save("Two"))

    assert ERPConnection.all_objects.count() == 1, results
    refused = [r for r in results if isinstance(r, services.ConnectionInvalid)]
    assert [r.messages for r in refused] == [
        ["This test result was already used to save. Test again."]
    ]

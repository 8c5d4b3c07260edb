"""The test-before-save rule and secret handling in the service layer (PRODUCT.md 5, 6)."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import Group
from django.core import signing

from connections import crypto, services
from connections.models import ConnectionEvent, ERPConnection
from connectors import registry
from connectors.demo_erp import make_server, serve_in_thread

pytestmark = pytest.mark.django_db


def rest_config(url: str, **values):
    Config = registry.get_connector_class("rest_json").Config
    return Config.model_validate(
        {"base_url": url, "authentication": "bearer", "api_token": "demo-token", **values}
    )


@pytest.fixture
def tested(manager, demo_erp):
    """A successful test of a REST/JSON configuration against the demo ERP."""

    def run(config=None, *, actor=None, connection=None, kept_secrets=()):
        config = config or rest_config(demo_erp)
        outcome = services.connection_test(
            actor=actor or manager,
            connector_key="rest_json",
            config=config,
            connection=connection,
            kept_secrets=kept_secrets,
        )
        assert outcome.result.succeeded, outcome.result
        return config, outcome.proof

    return run


def create(manager, config, proof, name="Demo"):
    return services.connection_create(
        actor=manager, name=name, connector_key="rest_json", config=config, proof=proof
    )


def test_create_with_a_matching_proof_stores_the_connection(manager, tested):
    config, proof = tested()
    connection = create(manager, config, proof)
    assert connection.config["base_url"] == str(config.base_url)
    assert "api_token" not in connection.config
    assert crypto.decrypt_secrets(connection.secrets) == {"api_token": "demo-token"}
    assert connection.events.filter(action=ConnectionEvent.Action.CREATE).exists()


def test_create_without_a_proof_is_refused(manager, demo_erp):
    with pytest.raises(services.ConnectionInvalid, match="Test the ERP connection"):
        create(manager, rest_config(demo_erp), None)
    assert not ERPConnection.all_objects.exists()


def test_create_with_a_changed_value_is_refused(manager, tested, demo_erp):
    _config, proof = tested()
    changed = rest_config(demo_erp, timeout=30)
    with pytest.raises(services.ConnectionInvalid, match="values changed"):
        create(manager, changed, proof)


def test_create_with_a_changed_secret_is_refused(manager, tested, demo_erp):
    _config, proof = tested()
    with pytest.raises(services.ConnectionInvalid, match="values changed"):
        create(manager, rest_config(demo_erp, api_token="other-token"), proof)


def test_create_with_another_users_proof_is_refused(manager, make_user, tested):
    other = make_user("other", staff=True, manage=True)
    config, proof = tested(actor=other)
    with pytest.raises(services.ConnectionInvalid, match="another user"):
        create(manager, config, proof)


def test_a_proof_for_one_connection_does_not_save_another(manager, tested, demo_erp):
    config, proof = tested()
    first = create(manager, config, proof, name="First")
    changed = rest_config(demo_erp, timeout=20)
    _c, proof_for_first = tested(changed, connection=first)
    second = create(manager, config, tested()[1], name="Second")
    with pytest.raises(services.ConnectionInvalid, match="another connection"):
        services.connection_update(
            actor=manager,
            connection=second,
            name="Second",
            connector_key="rest_json",
            config=changed,
            proof=proof_for_first,
        )


def test_an_expired_proof_is_refused(manager, tested, monkeypatch):
    config, proof = tested()
    later = time.time() + 15 * 60 + 5
    monkeypatch.setattr(signing.time, "time", lambda: later)
    with pytest.raises(services.ConnectionInvalid, match="more than 15 minutes"):
        create(manager, config, proof)


def test_a_tampered_proof_is_refused(manager, tested):
    config, proof = tested()
    tampered = proof[:-3] + ("AAA" if not proof.endswith("AAA") else "BBB")
    with pytest.raises(services.ConnectionInvalid, match="could not be verified"):
        create(manager, config, tampered)


def test_a_failed_test_gives_no_proof(manager, settings):
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    outcome = services.connection_test(
        actor=manager,
        connector_key="rest_json",
        config=rest_config("http://127.0.0.1:9/"),
    )
    assert outcome.result.status == "error"
    assert outcome.proof is None


def test_the_proof_holds_no_configuration_value(tested):
    _config, proof = tested()
    payload = signing.loads(proof, salt="connections.test-proof")
    # The fingerprint, who and for which connection and version, a single-use nonce, and
    # the test itself (when, status and the user message): never a configuration value.
    assert set(payload) == {"fp", "u", "c", "v", "n", "t", "s", "m"}
    assert "demo-token" not in proof and "127.0.0.1" not in proof


def test_editing_only_name_scope_or_description_needs_no_test(manager, tested):
    config, proof = tested()
    connection = create(manager, config, proof)
    group = Group.objects.create(name="Sales")
    saved = ERPConnection.objects.get(pk=connection.pk)
    services.connection_update(
        actor=manager,
        connection=saved,
        name="Renamed",
        connector_key="rest_json",
        config=services.connection_config(connection=saved),
        proof=None,
        description="New text",
        scope=ERPConnection.Scope.SPECIFIC,
        groups=[group],
        kept_secrets=["api_token"],
    )
    saved.refresh_from_db()
    assert saved.name == "Renamed" and list(saved.groups.all()) == [group]
    event = saved.events.filter(action=ConnectionEvent.Action.CHANGE).get()
    assert event.changes["name"] == ["Demo", "Renamed"]


def test_editing_a_configuration_value_needs_a_new_test(manager, tested, demo_erp):
    config, proof = tested()
    connection = create(manager, config, proof)
    with pytest.raises(services.ConnectionInvalid):
        services.connection_update(
            actor=manager,
            connection=connection,
            name="Demo",
            connector_key="rest_json",
            config=rest_config(demo_erp, price_decimals=3),
            proof=None,
        )


def test_a_kept_secret_is_not_sent_to_a_new_server_address(manager, tested, demo_erp):
    config, proof = tested()
    connection = create(manager, config, proof)
    moved = rest_config(demo_erp.replace("127.0.0.1", "localhost"))
    with pytest.raises(services.ConnectionInvalid) as refused:
        services.connection_test(
            actor=manager,
            connector_key="rest_json",
            config=moved,
            connection=connection,
            kept_secrets=["api_token"],
        )
    assert refused.value.message_dict == {
        "config__api_token": ["Re-enter API token to use it with the new server address."]
    }


def test_a_retyped_secret_may_go_to_a_new_server_address(manager, tested, demo_erp):
    config, proof = tested()
    connection = create(manager, config, proof)
    moved = rest_config(demo_erp.replace("127.0.0.1", "localhost"))
    _c, new_proof = tested(moved, connection=connection, kept_secrets=())
    services.connection_update(
        actor=manager,
        connection=connection,
        name="Demo",
        connector_key="rest_json",
        config=moved,
        proof=new_proof,
    )
    connection.refresh_from_db()
    assert "localhost" in connection.config["base_url"]


def test_testing_a_saved_connection_updates_its_last_test(manager, tested):
    config, proof = tested()
    connection = create(manager, config, proof)
    result = services.connection_test_saved(actor=manager, connection=connection)
    connection.refresh_from_db()
    assert result.succeeded
    assert connection.last_test_status == "ok" and connection.last_test_by == manager
    assert connection.events.filter(action=ConnectionEvent.Action.TEST).exists()


def test_history_never_holds_a_secret_value(manager, tested, demo_erp):
    config, proof = tested()
    connection = create(manager, config, proof)
    server = make_server(port=0, token="demo-token-2")
    serve_in_thread(server)
    retyped = rest_config(server.url, api_token="demo-token-2")
    outcome = services.connection_test(
        actor=manager, connector_key="rest_json", config=retyped, connection=connection
    )
    server.shutdown()
    server.server_close()
    services.connection_update(
        actor=manager,
        connection=connection,
        name="Demo",
        connector_key="rest_json",
        config=retyped,
        proof=outcome.proof,
    )
    history = str(list(connection.events.values_list("changes", flat=True)))
    assert "secrets_changed" in history
    assert "demo-token" not in history


def test_tests_are_rate_limited_per_user(manager, demo_erp):
    for _ in range(services.TESTS_PER_MINUTE):
        services.connection_test(
            actor=manager, connector_key="rest_json", config=rest_config(demo_erp)
        )
    with pytest.raises(services.ConnectionInvalid, match="Too many tests"):
        services.connection_test(
            actor=manager, connector_key="rest_json", config=rest_config(demo_erp)
        )


def test_a_specific_scope_needs_a_user_or_group(manager, tested):
    config, proof = tested()
    with pytest.raises(services.ConnectionInvalid) as refused:
        services.connection_create(
            actor=manager,
            name="Nobody",
            connector_key="rest_json",
            config=config,
            proof=proof,
            scope=ERPConnection.Scope.SPECIFIC,
        )
    assert "scope" in refused.value.message_dict


# --- single-use proofs bound to the connection's version (issue 8, finding 6) -------------


def test_a_proof_creates_one_connection_only(manager, tested):
    config, proof = tested()
    create(manager, config, proof, name="First")
    with pytest.raises(services.ConnectionInvalid) as refused:
        create(manager, config, proof, name="Second")
    assert refused.value.messages == ["This test result was already used to save. Test again."]
    assert list(ERPConnection.all_objects.values_list("name", flat=True)) == ["First"]


def test_a_refused_save_leaves_its_proof_unspent(manager, tested, make_connection):
    make_connection("Taken")
    config, proof = tested()
    with pytest.raises(services.ConnectionInvalid, match="already exists"):
        create(manager, config, proof, name="taken")
    assert create(manager, config, proof, name="Free").name == "Free"


def update(manager, connection, config, proof, **values):
    return services.connection_update(
        actor=manager,
        connection=connection,
        name=values.pop("name", connection.name),
        connector_key="rest_json",
        config=config,
        proof=proof,
        **values,
    )


def test_an_older_proof_replayed_after_a_change_is_refused(manager, tested, demo_erp):
    config, proof = tested()
    connection = create(manager, config, proof)
    first = rest_config(demo_erp, timeout=20)
    _c, proof_first = tested(first, connection=connection)
    connection = update(manager, connection, first, proof_first)
    second = rest_config(demo_erp, timeout=30)
    _c, proof_second = tested(second, connection=connection)
    connection = update(manager, connection, second, proof_second)
    with pytest.raises(services.ConnectionInvalid):
        update(manager, connection, first, proof_first)
    assert ERPConnection.objects.get(pk=connection.pk).config["timeout"] == 30


def test_a_proof_issued_before_the_last_change_is_refused(manager, tested, demo_erp):
    config, proof = tested()
    connection = create(manager, config, proof)
    changed = rest_config(demo_erp, timeout=20)
    _c, early_proof = tested(changed, connection=connection)
    # Another edit lands first (it needs no test): the connection is at a new version.
    connection = update(manager, connection, config, None, description="Renamed meanwhile")
    assert connection.version == 2
    with pytest.raises(services.ConnectionInvalid) as refused:
        update(manager, connection, changed, early_proof)
    assert refused.value.messages == [
        "The connection was changed after this test. Test the ERP connection again."
    ]


def test_every_save_increments_the_version(manager, tested, make_connection):
    config, proof = tested()
    connection = create(manager, config, proof)
    assert connection.version == 1
    connection = update(manager, connection, config, None, description="Changed")
    assert connection.version == 2
    connection = services.connection_delete(actor=manager, connection=connection)
    assert connection.version == 3
    connection = services.connection_restore(actor=manager, connection=connection)
    assert connection.version == 4
    unchanged = update(manager, connection, config, None, description="Changed")
    assert unchanged.version == 4  # nothing changed: nothing written


# --- concurrent edits, deletes and restores (issue 8, findings 1 and 2) -------------------


def test_an_edit_of_a_connection_deleted_meanwhile_is_refused(manager, tested):
    config, proof = tested()
    connection = create(manager, config, proof)
    stale = ERPConnection.objects.get(pk=connection.pk)  # the copy the edit view loaded
    services.connection_delete(actor=manager, connection=connection)
    with pytest.raises(services.ConnectionInvalid) as refused:
        update(manager, stale, config, None, description="Only the description")
    assert refused.value.messages == ["This connection was deleted meanwhile. Restore it first."]
    stored = ERPConnection.all_objects.get(pk=connection.pk)
    assert stored.deleted_at is not None and stored.description == ""
    actions = list(stored.events.order_by("pk").values_list("action", flat=True))
    assert actions == ["create", "test", "delete"]  # the create records the test it allowed


def test_an_edit_writes_only_the_fields_it_changes(manager, tested):
    config, proof = tested()
    connection = create(manager, config, proof)
    stale = ERPConnection.objects.get(pk=connection.pk)
    update(manager, connection, config, None, name="Renamed by someone else")
    update(manager, stale, config, None, description="Only the description")
    stored = ERPConnection.objects.get(pk=connection.pk)
    assert stored.name == "Renamed by someone else"
    assert stored.description == "Only the description"


def test_a_delete_and_a_restore_of_stale_copies_are_recorded_once(manager, make_connection):
    connection = make_connection("Once")
    copies = [ERPConnection.objects.get(pk=connection.pk) for _ in range(3)]
    for copy in copies:
        services.connection_delete(actor=manager, connection=copy)
    deleted = [ERPConnection.all_objects.get(pk=connection.pk) for _ in range(3)]
    for copy in deleted:
        services.connection_restore(actor=manager, connection=copy)
    actions = list(connection.events.values_list("action", flat=True))
    assert sorted(actions) == ["delete", "restore"]


# --- the honest last test (issue 12, point 1) ----------------------------------------------


def test_the_test_that_allowed_a_create_becomes_its_last_test(manager, tested):
    config, proof = tested()
    connection = create(manager, config, proof)
    connection.refresh_from_db()
    assert connection.last_test_status == "ok"
    assert connection.last_test_by == manager
    assert connection.last_test_message.startswith("Connection OK")
    assert connection.last_test_at is not None
    test_event = connection.events.get(action=ConnectionEvent.Action.TEST)
    assert test_event.at == connection.last_test_at
    assert test_event.changes["status"] == "ok"


def test_the_test_that_allowed_an_update_becomes_its_last_test(manager, tested):
    config, proof = tested()
    connection = create(manager, config, proof)
    ERPConnection.objects.filter(pk=connection.pk).update(last_test_status="error")
    connection.refresh_from_db()
    changed = config.model_copy(update={"timeout": 7})
    _config, new_proof = tested(changed, connection=connection)
    connection.refresh_from_db()
    assert connection.last_test_status == "error"  # the test of changes did not touch it
    services.connection_update(
        actor=manager,
        connection=connection,
        name=connection.name,
        connector_key="rest_json",
        config=changed,
        proof=new_proof,
    )
    connection.refresh_from_db()
    assert connection.last_test_status == "ok" and connection.last_test_by == manager


def test_a_test_of_unsaved_values_is_history_only(manager, tested, make_user):
    config, proof = tested()
    connection = create(manager, config, proof)
    before = ERPConnection.objects.values("last_test_at", "last_test_status").get(pk=connection.pk)
    other = make_user("other", staff=True, manage=True)
    tested(config.model_copy(update={"timeout": 7}), actor=other, connection=connection)
    after = ERPConnection.objects.values("last_test_at", "last_test_status").get(pk=connection.pk)
    assert after == before
    event = connection.events.filter(action=ConnectionEvent.Action.TEST).first()
    assert event.actor == other and event.changes["unsaved"] is True


def test_a_test_of_the_saved_values_in_the_dialog_updates_the_row(manager, tested, make_user):
    config, proof = tested()
    connection = create(manager, config, proof)
    other = make_user("other", staff=True, manage=True)
    outcome = services.connection_test(
        actor=other, connector_key="rest_json", config=config, connection=connection
    )
    assert outcome.of_saved
    connection.refresh_from_db()
    assert connection.last_test_by == other


def test_a_run_refused_by_the_environment_is_not_recorded(manager, tested, settings):
    config, proof = tested()
    connection = create(manager, config, proof)
    ERPConnection.objects.filter(pk=connection.pk).update(last_test_status="ok")
    settings.ERP_ALLOW_PRIVATE_NETWORKS = False
    events = connection.events.count()
    with pytest.raises(services.TestRefusedByEnvironment):
        services.connection_test_saved(
            actor=manager, connection=connection, record_environment_refusal=False
        )
    connection.refresh_from_db()
    assert connection.last_test_status == "ok" and connection.events.count() == events


def test_a_taken_name_is_found_regardless_of_case(manager, tested):
    config, proof = tested()
    connection = create(manager, config, proof, name="Main ERP")
    assert services.connection_name_taken(name="main erp", connection=None)
    assert not services.connection_name_taken(name="MAIN ERP", connection=connection)
    assert not services.connection_name_taken(name="Other", connection=None)
    services.connection_delete(actor=manager, connection=connection)
    assert not services.connection_name_taken(name="main erp", connection=None)  # live only


def test_saving_newly_tested_values_makes_an_unavailable_connection_available(
    manager, tested, demo_erp, django_capture_on_commit_callbacks
):
    config, proof = tested()
    connection = create(manager, config, proof)
    ERPConnection.objects.filter(pk=connection.pk).update(
        available=False, availability_message="was down"
    )
    connection.refresh_from_db()
    fixed, fixed_proof = tested(rest_config(demo_erp, timeout=20), connection=connection)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.connection_update(
            actor=manager,
            connection=connection,
            name="Demo",
            connector_key="rest_json",
            config=fixed,
            proof=fixed_proof,
        )
    connection.refresh_from_db()
    assert connection.available is True and connection.availability_message == ""
    change = connection.events.filter(action=ConnectionEvent.Action.CHANGE).get()
    assert change.changes["available"] == [False, True]
    assert len(callbacks) == 1  # the "available again" e-mail


def test_renaming_an_unavailable_connection_keeps_it_unavailable(manager, tested):
    config, proof = tested()
    connection = create(manager, config, proof)
    ERPConnection.objects.filter(pk=connection.pk).update(available=False)
    connection.refresh_from_db()
    services.connection_update(
        actor=manager,
        connection=connection,
        name="Renamed",
        connector_key="rest_json",
        config=config,
        proof=None,
    )
    connection.refresh_from_db()
    assert connection.available is False

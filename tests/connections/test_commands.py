"""Management commands: demo data, test_erp_connection."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from connections import services
from connections.models import ERPConnection

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_data(demo_erp):
    out = StringIO()
    call_command("load_demo_data", "--demo-erp-url", demo_erp, stdout=out)
    return out.getvalue()


def test_demo_data_prints_the_administrator_credentials(demo_data):
    assert "username 'admin', password 'admin'" in demo_data


def test_demo_connections_are_created_tested_and_encrypted(demo_data):
    live = {c.name: c for c in ERPConnection.objects.all()}
    assert set(live) == {"Product register", "Demo ERP", "Demo ERP (export)"}
    assert all(c.last_test_status == "ok" for c in live.values())
    assert live["Demo ERP"].secrets and "demo-token" not in live["Demo ERP"].secrets
    assert ERPConnection.all_objects.deleted().get().name == "Old price register"


def test_demo_data_can_be_loaded_twice(demo_data, demo_erp):
    call_command("load_demo_data", "--demo-erp-url", demo_erp, stdout=StringIO())
    assert ERPConnection.all_objects.count() == 4


def test_test_erp_connection_exits_0_and_prints_the_result(demo_data):
    out = StringIO()
    call_command("test_erp_connection", "demo erp", stdout=out)
    assert "Status:      ok" in out.getvalue()
    assert "Connection OK" in out.getvalue()


def test_test_erp_connection_exits_1_on_failure(demo_data, settings):
    demo = ERPConnection.objects.get(name="Demo ERP")
    demo.config = {**demo.config, "base_url": "http://127.0.0.1:9/"}  # the discard port: closed
    demo.save()
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("test_erp_connection", "Demo ERP", stdout=out)
    assert exited.value.code == 1
    assert "Status:      error" in out.getvalue()
    assert "demo-token" not in out.getvalue()
    demo.refresh_from_db()
    assert demo.last_test_status == "error"  # a real failure is recorded


def test_a_run_refused_by_the_address_rules_explains_and_is_not_recorded(demo_data, settings):
    settings.ERP_ALLOW_PRIVATE_NETWORKS = False
    demo = ERPConnection.objects.get(name="Demo ERP")
    before = (demo.last_test_at, demo.last_test_status, demo.events.count())
    with pytest.raises(CommandError) as refused:
        call_command("test_erp_connection", "Demo ERP", stdout=StringIO())
    message = str(refused.value)
    assert "ERP_ALLOW_PRIVATE_NETWORKS=true" in message
    assert 'manage.py test_erp_connection "Demo ERP"' in message
    assert "not recorded" in message
    demo.refresh_from_db()
    assert (demo.last_test_at, demo.last_test_status, demo.events.count()) == before


def test_a_run_without_secret_keys_says_what_is_missing(demo_data, settings):
    settings.ERP_SECRET_KEYS = []
    settings.DEBUG = False
    with pytest.raises(CommandError, match="ERP_SECRET_KEYS is not set") as refused:
        call_command("test_erp_connection", "Demo ERP", stdout=StringIO())
    assert "DEBUG=true ERP_ALLOW_PRIVATE_NETWORKS=true" in str(refused.value)


def test_a_run_with_the_wrong_keys_is_not_recorded(demo_data, settings):
    settings.ERP_SECRET_KEYS = ["another-key-that-never-encrypted-these-secrets"]
    demo = ERPConnection.objects.get(name="Demo ERP")
    events = demo.events.count()
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("test_erp_connection", "Demo ERP", stdout=StringIO())
    assert demo.events.count() == events


def test_test_erp_connection_refuses_an_unknown_or_deleted_name(demo_data):
    with pytest.raises(CommandError, match="No live ERP connection"):
        call_command("test_erp_connection", "Old price register")


def test_reencrypt_secrets_keeps_demo_secrets_readable_under_a_new_key(demo_data, settings):
    settings.ERP_SECRET_KEYS = [
        "a-brand-new-first-key-for-rotation-tests",
        *settings.ERP_SECRET_KEYS,
    ]
    call_command("reencrypt_secrets", stdout=StringIO())
    settings.ERP_SECRET_KEYS = settings.ERP_SECRET_KEYS[:1]
    demo = ERPConnection.objects.get(name="Demo ERP")
    assert services.connection_stored_secrets(connection=demo) == {"api_token": "demo-token"}

"""The automatic health check: results on the row, availability, history, e-mail, timeouts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from pydantic import BaseModel, Field

from connections import health, services, tasks
from connections.models import ConnectionEvent, ERPConnection
from connectors import registry
from connectors.base import Connector, TestResult, TestStatus
from tests.connectors.conftest import silent_server  # noqa: F401  (a port that never answers)
from tests.connectors.fake_erp import FakeErp, closed_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_erp(settings: Any) -> Iterator[FakeErp]:
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    with FakeErp() as erp:
        yield erp


@pytest.fixture
def admin_with_email(make_user: Any) -> Any:
    """A connection manager with an e-mail address: the one who is notified."""
    return make_user("admin1", staff=True, manage=True, email="admin1@example.com")


def _rest(make_connection: Any, name: str, url: str, **config: Any) -> ERPConnection:
    return make_connection(name, config={"base_url": url, "auth": "none", "timeout": 2, **config})


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """``with committed():`` runs what the code under test deferred to its commit (the
    e-mail), as a real commit would; the test's own transaction never commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _checks(connection: ERPConnection) -> list[ConnectionEvent]:
    return list(connection.events.filter(action=ConnectionEvent.Action.CHECK))


def test_check_of_a_live_fake_erp_puts_an_automatic_ok_on_the_row(fake_erp, make_connection):
    connection = _rest(make_connection, "Live", fake_erp.url)
    outcome = health.connection_health_check(connection_id=connection.pk)
    assert outcome is not None and outcome.result.status == TestStatus.OK
    assert fake_erp.paths() == ["/health", "/price-lists"]
    connection.refresh_from_db()
    assert connection.last_test_status == "ok"
    assert connection.last_test_automatic is True
    assert connection.last_test_by is None
    assert "2 price lists" in connection.last_test_message
    assert connection.available is True
    assert [e.changes["status"] for e in _checks(connection)] == ["ok"]


def test_failing_check_makes_the_connection_unavailable_with_the_message(
    fake_erp, make_connection, admin_with_email, committed
):
    fake_erp.reply("/health", status=503, json={"error": "down"})
    connection = _rest(make_connection, "Down", fake_erp.url)
    with committed():
        outcome = health.connection_health_check(connection_id=connection.pk)
    assert outcome is not None and not outcome.available and outcome.changed
    connection.refresh_from_db()
    assert connection.available is False
    assert "HTTP 503" in connection.availability_message
    assert connection.unavailable_message == connection.availability_message
    assert ERPConnection.objects.unavailable().get() == connection
    assert not ERPConnection.objects.available().exists()
    [event] = _checks(connection)
    assert event.changes["available"] == [True, False] and event.changes["status"] == "error"
    [email] = mail.outbox
    assert email.to == ["admin1@example.com"]
    assert '"Down" is unavailable' in email.subject
    assert "HTTP 503" in email.body and "Down" in email.body


def test_unreachable_erp_is_an_error_result(settings, make_connection):
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    connection = _rest(make_connection, "Nobody home", f"http://127.0.0.1:{closed_port()}")
    outcome = health.connection_health_check(connection_id=connection.pk)
    assert outcome is not None and outcome.result.status == TestStatus.ERROR
    assert outcome.result.message.startswith("Cannot reach")


def test_check_of_a_hanging_erp_ends_within_the_connections_timeout(
    settings,
    make_connection,
    silent_server,  # noqa: F811  (the fixture imported above)
):
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    connection = _rest(make_connection, "Hangs", silent_server, timeout=1)
    started = time.monotonic()
    result = tasks.connection_health_check.call(connection_id=connection.pk)
    elapsed = time.monotonic() - started
    # The ERP never answers: without the bound this would wait forever.
    assert elapsed < 1 + health.GRACE_SECONDS + 2
    assert result["status"] == "error" and result["available"] is False
    connection.refresh_from_db()
    assert connection.available is False
    assert "1 second" in connection.availability_message


class RaisingConnector(Connector):
    key = "test_raises"
    label = "Raises"

    class Config(BaseModel):
        pass

    def test_connection(self, config: BaseModel) -> TestResult:
        raise RuntimeError("plugin bug")


class BlockingConnector(Connector):
    """Ignores the guarded client and blocks far longer than its own timeout."""

    key = "test_blocks"
    label = "Blocks"

    class Config(BaseModel):
        timeout: int = Field(1, ge=1, le=60)

    def test_connection(self, config: BaseModel) -> TestResult:
        time.sleep(30)
        return TestResult(TestStatus.OK, "too late")


@pytest.fixture
def test_connectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """The two connectors above, registered for one test only (a copy of the registry)."""
    registry.load_plugins()
    monkeypatch.setattr(registry, "_connectors", dict(registry._connectors))
    registry.register(RaisingConnector)
    registry.register(BlockingConnector)


@pytest.mark.usefixtures("test_connectors")
def test_connector_that_raises_yields_an_error_result_not_a_crash(make_connection):
    connection = make_connection("Buggy", connector_key="test_raises", config={})
    result = tasks.connection_health_check.call(connection_id=connection.pk)
    assert result["status"] == "error" and result["error_code"] == "connector_crashed"
    assert "RuntimeError: plugin bug" in result["technical_message"]
    connection.refresh_from_db()
    assert connection.available is False


@pytest.mark.usefixtures("test_connectors")
def test_connector_whose_config_migration_raises_yields_an_error_result(
    make_connection, monkeypatch
):
    def broken(values: Any, from_version: int) -> Any:
        raise KeyError("old_field")

    monkeypatch.setattr(RaisingConnector, "config_version", 2, raising=False)
    monkeypatch.setattr(RaisingConnector, "migrate_config", staticmethod(broken), raising=False)
    connection = make_connection("Old", connector_key="test_raises", config={})
    result = tasks.connection_health_check.call(connection_id=connection.pk)
    assert result["status"] == "error" and result["error_code"] == "connector_crashed"
    assert "KeyError" in result["technical_message"]


@pytest.mark.usefixtures("test_connectors")
def test_connector_that_blocks_is_stopped_at_its_timeout(make_connection):
    connection = make_connection("Blocks", connector_key="test_blocks", config={"timeout": 1})
    started = time.monotonic()
    result = tasks.connection_health_check.call(connection_id=connection.pk)
    assert time.monotonic() - started < 1 + health.GRACE_SECONDS + 2
    assert result["status"] == "error" and result["error_code"] == "timeout"
    assert result["message"] == "No answer within 1 second."


def test_missing_connector_is_an_error_result(make_connection):
    connection = make_connection("Orphan", connector_key="not_installed", config={})
    result = tasks.connection_health_check.call(connection_id=connection.pk)
    assert result["error_code"] == "connector_missing"


def test_deleted_connection_is_not_checked(make_connection, manager):
    connection = make_connection("Gone")
    services.connection_delete(actor=manager, connection=connection)
    assert tasks.connection_health_check.call(connection_id=connection.pk) == {
        "connection_id": connection.pk,
        "skipped": "deleted",
    }
    assert health.connections_claim() == []


def test_available_unavailable_available_one_history_entry_and_one_email_each(
    fake_erp, make_connection, admin_with_email, committed
):
    connection = _rest(make_connection, "Flaky", fake_erp.url)

    def check() -> None:
        with committed():
            health.connection_health_check(connection_id=connection.pk)

    check()  # ok, available: the first check is in the history, no e-mail
    assert len(_checks(connection)) == 1 and mail.outbox == []
    fake_erp.reply("/health", status=500, json={})
    check()
    check()  # still down: no new entry, no new e-mail
    assert len(_checks(connection)) == 2
    assert [m.subject for m in mail.outbox] == [
        '[ERP connections] ERP connection "Flaky" is unavailable'
    ]
    fake_erp.reply("/health", json={"status": "ok", "name": "Fake", "version": "1"})
    check()
    check()
    connection.refresh_from_db()
    assert connection.available is True and connection.availability_message == ""
    events = _checks(connection)
    assert len(events) == 3
    assert [e.changes.get("available") for e in reversed(events)] == [
        None,
        [True, False],
        [False, True],
    ]
    assert [m.subject for m in mail.outbox] == [
        '[ERP connections] ERP connection "Flaky" is unavailable',
        '[ERP connections] ERP connection "Flaky" is available again',
    ]


def test_unchanged_status_is_in_the_history_once_a_day(fake_erp, make_connection):
    connection = _rest(make_connection, "Steady", fake_erp.url)
    health.connection_health_check(connection_id=connection.pk)
    health.connection_health_check(connection_id=connection.pk)
    assert len(_checks(connection)) == 1
    ConnectionEvent.objects.filter(connection=connection).update(
        at=timezone.now() - timedelta(days=1, minutes=1)
    )
    health.connection_health_check(connection_id=connection.pk)
    assert len(_checks(connection)) == 2


def test_concurrent_recorders_of_the_same_change_send_one_email(
    make_connection, admin_with_email, committed
):
    """Two checks that both saw an available row: only one conditional UPDATE flips it."""
    connection = make_connection("Raced")
    failure = TestResult(TestStatus.ERROR, "down", error_code="http_500")
    seen_by_first = ERPConnection.objects.get(pk=connection.pk)
    seen_by_second = ERPConnection.objects.get(pk=connection.pk)
    with committed():
        first = services.connection_result_record(
            connection=seen_by_first, result=failure, automatic=True
        )
        second = services.connection_result_record(
            connection=seen_by_second, result=failure, automatic=True
        )
    assert first is not None and first.changed
    assert second is not None and not second.changed
    assert len(mail.outbox) == 1
    assert (
        connection.events.filter(
            action=ConnectionEvent.Action.CHECK, changes__has_key="available"
        ).count()
        == 1
    )


def test_successful_test_from_the_list_makes_it_available_again(
    fake_erp, make_connection, manager_client, admin_with_email, committed
):
    connection = _rest(make_connection, "Back", fake_erp.url)
    ERPConnection.objects.filter(pk=connection.pk).update(
        available=False, availability_message="was down"
    )
    with committed():
        response = manager_client.post(
            "/settings/quote-sync/erp-connections/test/",
            {"ids": [connection.pk]},
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 200
    connection.refresh_from_db()
    assert connection.available is True and connection.last_test_automatic is False
    [event] = connection.events.filter(action=ConnectionEvent.Action.TEST)
    assert event.changes["available"] == [False, True]
    assert [m.subject for m in mail.outbox] == [
        '[ERP connections] ERP connection "Back" is available again'
    ]


def test_failed_test_from_the_list_makes_it_unavailable(settings, make_connection, manager_client):
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    connection = _rest(make_connection, "Refused", f"http://127.0.0.1:{closed_port()}")
    manager_client.post("/settings/quote-sync/erp-connections/test/", {"ids": [connection.pk]})
    connection.refresh_from_db()
    assert connection.available is False
    assert connection.availability_message.startswith("Cannot reach")


def test_only_connection_managers_with_an_address_are_notified(
    make_user, make_connection, django_user_model, committed
):
    from django.contrib.auth.models import Group, Permission

    make_user("direct", staff=True, manage=True, email="direct@example.com")
    via_group = make_user("grouped", staff=True, email="grouped@example.com")
    group = Group.objects.create(name="Admins")
    group.permissions.add(Permission.objects.get(codename="manage_erpconnection"))
    via_group.groups.add(group)
    make_user("noaddress", staff=True, manage=True)
    make_user("sales", email="sales@example.com")
    make_user("notstaff", manage=True, email="notstaff@example.com")
    make_user("gone", staff=True, manage=True, email="gone@example.com", is_active=False)
    django_user_model.objects.create_superuser("root", "root@example.com", "x")
    connection = make_connection("Watched")
    with committed():
        services.connection_result_record(
            connection=connection, result=TestResult(TestStatus.ERROR, "down"), automatic=True
        )
    [email] = mail.outbox
    assert email.to == ["direct@example.com", "grouped@example.com", "root@example.com"]


def test_a_failing_mail_server_does_not_fail_the_check(
    settings, make_connection, admin_with_email, committed
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port(), "timeout": 2},
        }
    }
    connection = make_connection("Mail down", connector_key="not_installed", config={})
    with committed():
        result = tasks.connection_health_check.call(connection_id=connection.pk)
    assert result["changed"] is True
    connection.refresh_from_db()
    assert connection.available is False

"""Scheduling the health checks: one claim per connection per interval, the command, the
real database worker (``db_worker``) on a real queue."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from connections import health, services, tasks
from connections.models import ERPConnection
from tests.connectors.fake_erp import FakeErp, closed_port

TASK_PATH = "connections.tasks.connection_health_check"


@pytest.fixture
def fake_erp(settings: Any) -> Iterator[FakeErp]:
    settings.ERP_ALLOW_PRIVATE_NETWORKS = True
    with FakeErp() as erp:
        yield erp


def _rest(make_connection: Any, name: str, url: str) -> ERPConnection:
    return make_connection(name, config={"base_url": url, "auth": "none", "timeout": 2})


def _queued_ids() -> list[int]:
    return sorted(
        r.args_kwargs["kwargs"]["connection_id"]
        for r in DBTaskResult.objects.filter(task_path=TASK_PATH)
    )


@pytest.mark.django_db
def test_the_interval_comes_from_the_setting(settings):
    settings.ERP_HEALTH_INTERVAL = 15
    at = timezone.now().replace(hour=10, minute=22, second=5, microsecond=0)
    assert health.health_slot(at) == at.replace(minute=15, second=0)
    settings.ERP_HEALTH_INTERVAL = 60
    assert health.health_slot(at) == at.replace(minute=0, second=0)


def test_interval_is_read_from_the_environment_with_15_minutes_by_default(monkeypatch):
    import importlib

    from erpsettings import settings as project_settings

    monkeypatch.delenv("ERP_HEALTH_INTERVAL", raising=False)
    assert importlib.reload(project_settings).ERP_HEALTH_INTERVAL == 15
    monkeypatch.setenv("ERP_HEALTH_INTERVAL", "5")
    assert importlib.reload(project_settings).ERP_HEALTH_INTERVAL == 5
    monkeypatch.undo()
    importlib.reload(project_settings)


@pytest.mark.django_db
def test_schedule_enqueues_one_task_per_live_connection_once_per_interval(make_connection, manager):
    first, second = make_connection("One"), make_connection("Two")
    services.connection_delete(actor=manager, connection=make_connection("Deleted"))
    schedule = tasks.health_checks_schedule()
    assert schedule.enqueued == [first.pk, second.pk]
    assert _queued_ids() == [first.pk, second.pk]
    assert tasks.health_checks_schedule().enqueued == []  # same interval: nothing new
    later = timezone.now() + health.health_interval()
    assert health.connections_claim(now=later) == [first.pk, second.pk]


@pytest.mark.django_db
def test_force_claims_connections_already_checked_in_this_interval(make_connection):
    connection = make_connection("Again")
    assert health.connections_claim() == [connection.pk]
    assert health.connections_claim() == []
    assert health.connections_claim(force=True) == [connection.pk]


@pytest.mark.django_db
def test_connections_not_enqueued_when_the_backend_fails_are_left_for_the_next_run(
    make_connection, monkeypatch
):
    first, second, third = (make_connection(name) for name in ("A", "B", "C"))
    from django_tasks_db.backend import DatabaseBackend

    real_enqueue = DatabaseBackend.enqueue
    calls: list[Any] = []

    def failing_enqueue(self: Any, task: Any, args: Any, kwargs: Any) -> Any:
        calls.append(kwargs["connection_id"])
        if len(calls) == 2:
            raise ConnectionError("queue down")
        return real_enqueue(self, task, args, kwargs)

    monkeypatch.setattr(DatabaseBackend, "enqueue", failing_enqueue)
    with pytest.raises(ConnectionError):
        tasks.health_checks_schedule()
    assert _queued_ids() == [first.pk]
    monkeypatch.undo()
    assert tasks.health_checks_schedule().enqueued == [second.pk, third.pk]


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_enqueue_one_check_per_connection(make_connection):
    ids = [make_connection(f"Connection {n}").pk for n in range(30)]
    start = threading.Barrier(2)
    claimed: list[list[int]] = []
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            start.wait()
            claimed.append(tasks.health_checks_schedule().enqueued)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(claimed) == 2
    assert sorted(claimed[0] + claimed[1]) == sorted(ids)  # disjoint, and every one
    assert _queued_ids() == sorted(ids)


@pytest.mark.django_db
def test_command_enqueues_the_checks(make_connection):
    connection = make_connection("Queued")
    out = StringIO()
    call_command("check_erp_connections", stdout=out)
    assert out.getvalue().strip() == "Enqueued 1 health checks."
    assert _queued_ids() == [connection.pk]
    connection.refresh_from_db()
    assert connection.last_test_at is None  # enqueued, not run: the worker runs it


@pytest.mark.django_db
def test_command_wait_prints_a_table_and_exits_1_when_a_check_failed(fake_erp, make_connection):
    _rest(make_connection, "Good ERP", fake_erp.url)
    _rest(make_connection, "Bad ERP", f"http://127.0.0.1:{closed_port()}")
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_erp_connections", "--wait", stdout=out)
    assert exit_info.value.code == 1
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["Connection", "Status", "Available", "Duration", "Message"]
    bad = next(line for line in lines if line.startswith("Bad ERP"))
    good = next(line for line in lines if line.startswith("Good ERP"))
    assert bad.split()[2:4] == ["error", "no"] and "Cannot reach" in bad
    assert good.split()[2:4] == ["ok", "yes"] and "2 price lists" in good
    assert lines[-1] == "2 checked, 1 failed."
    assert not DBTaskResult.objects.exists()  # run here, not queued


@pytest.mark.django_db
def test_command_wait_exits_0_when_every_check_succeeded(fake_erp, make_connection):
    _rest(make_connection, "Good ERP", fake_erp.url)
    out = StringIO()
    call_command("check_erp_connections", "--wait", stdout=out)
    assert out.getvalue().splitlines()[-1] == "1 checked, 0 failed."
    out = StringIO()
    call_command("check_erp_connections", "--wait", stdout=out)  # same interval
    assert "has been checked in this interval" in out.getvalue()
    out = StringIO()
    call_command("check_erp_connections", "--wait", "--force", stdout=out)
    assert out.getvalue().splitlines()[-1] == "1 checked, 0 failed."


@pytest.mark.django_db(transaction=True)  # the worker commits, as in production
def test_the_database_worker_runs_the_enqueued_checks(
    fake_erp, make_connection, make_user, settings
):
    """The real worker command on the real database queue (not the immediate backend)."""
    make_user("admin1", staff=True, manage=True, email="admin1@example.com")
    assert settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    good = _rest(make_connection, "Good ERP", fake_erp.url)
    bad = _rest(make_connection, "Bad ERP", f"http://127.0.0.1:{closed_port()}")
    call_command("check_erp_connections", stdout=StringIO())
    assert DBTaskResult.objects.filter(status="READY").count() == 2
    call_command(
        "db_worker",
        "--max-tasks",
        "2",
        "--no-startup-delay",
        "--no-reload",
        "--interval",
        "0.1",
        verbosity=0,
        stdout=StringIO(),
    )
    results = {
        r.args_kwargs["kwargs"]["connection_id"]: r
        for r in DBTaskResult.objects.filter(task_path=TASK_PATH)
    }
    assert {r.status for r in results.values()} == {"SUCCESSFUL"}
    assert results[good.pk].return_value["status"] == "ok"
    assert results[bad.pk].return_value["status"] == "error"
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.available and good.last_test_automatic and good.last_test_status == "ok"
    assert not bad.available and bad.availability_message.startswith("Cannot reach")
    assert [m.subject for m in mail.outbox] == [
        '[ERP connections] ERP connection "Bad ERP" is unavailable'
    ]


@pytest.mark.django_db
def test_claims_are_a_single_update_and_a_single_read(make_connection, django_assert_num_queries):
    for n in range(5):
        make_connection(f"C{n}")
    with django_assert_num_queries(2):
        assert len(health.connections_claim()) == 5


@pytest.mark.django_db
def test_a_check_that_never_finishes_leaves_the_row_as_it_was(make_connection, monkeypatch):
    """A worker killed mid-check: nothing is written before the test's result is complete."""
    connection = make_connection("Interrupted")
    before = ERPConnection.objects.values().get(pk=connection.pk)

    def killed(**kwargs: Any) -> Any:
        raise KeyboardInterrupt  # what SIGINT does to the worker mid-check

    monkeypatch.setattr(health, "connection_probe", killed)
    with pytest.raises(KeyboardInterrupt):
        tasks.connection_health_check.call(connection_id=connection.pk)
    assert ERPConnection.objects.values().get(pk=connection.pk) == before
    assert not connection.events.exists()

"""The worker and the schedule of ``make run`` as real processes on a real queue.

Each test gets its own SQLite file database (migrated by ``manage.py migrate``), so the
processes share it with nothing else; the fake ERP runs in the test's process on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.connectors.conftest import silent_server  # noqa: F401  (a port that never answers)
from tests.connectors.fake_erp import FakeErp


@dataclass
class Project:
    """``manage.py`` commands against a throwaway database file."""

    database: Path
    env: dict[str, str]

    def manage(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def add_connection(self, name: str, config: dict[str, Any]) -> None:
        code = (
            "from connections.models import ERPConnection; "
            f"ERPConnection.objects.create(name={name!r}, connector_key='rest_json', "
            f"config=json.loads({json.dumps(config)!r}))"
        )
        done = self.manage("shell", "-c", f"import json; {code}")
        assert done.returncode == 0, done.stderr

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.database, timeout=10) as db:
            return db.execute(sql).fetchall()

    def wait_for(self, sql: str, *, seconds: float = 20) -> list[tuple[Any, ...]]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            rows = self.query(sql)
            if rows:
                return rows
            time.sleep(0.05)
        pytest.fail(f"nothing matched within {seconds} s: {sql}")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    database = tmp_path / "db.sqlite3"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        DEBUG="true",
        ERP_SECRET_KEYS="test-erp-secret-key-one-for-the-whole-suite",
        ERP_ALLOW_PRIVATE_NETWORKS="true",
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        ERP_HEALTH_INTERVAL="15",
    )
    migrated = Project(database, env).manage("migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    return Project(database, env)


@pytest.fixture
def fake_erp() -> Iterator[FakeErp]:
    with FakeErp() as erp:
        yield erp


CONNECTION = "SELECT available, last_test_status, last_test_automatic, availability_message, \
last_test_at FROM connections_erpconnection WHERE name = '{}'"
TASKS = "SELECT status FROM django_tasks_database_dbtaskresult"


def test_make_runs_worker_and_schedule_check_every_connection(project, fake_erp):
    """What ``make run`` starts beside the app: ``db_worker`` and the schedule loop."""
    project.add_connection("Live", {"base_url": fake_erp.url, "auth": "none", "timeout": 2})
    project.add_connection("Down", {"base_url": f"{fake_erp.url}/nothing", "auth": "none"})
    created = project.manage(
        "createsuperuser", "--no-input", "--username", "root", "--email", "root@example.com"
    )
    assert created.returncode == 0, created.stderr
    worker = project.start("db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.1")
    schedule = project.start("check_erp_connections", "--loop")
    try:
        project.wait_for(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult "
            "WHERE status = 'SUCCESSFUL' HAVING count(*) = 2"
        )
    finally:
        for process in (schedule, worker):
            process.send_signal(signal.SIGTERM)
        outputs = [process.communicate(timeout=10)[0] for process in (schedule, worker)]
    assert "Enqueued 2 health checks." in outputs[0]
    assert worker.returncode == 0  # SIGTERM between tasks: a graceful stop
    [(available, status, automatic, _, _)] = project.query(CONNECTION.format("Live"))
    assert (available, status, automatic) == (1, "ok", 1)
    [(available, status, automatic, message, _)] = project.query(CONNECTION.format("Down"))
    assert (available, status, automatic) == (0, "error", 1) and message.startswith("Not found")
    # The e-mail to the administrators went to the console backend, in the worker's output.
    assert 'Subject: [ERP connections] ERP connection "Down" is unavailable' in outputs[1]
    assert "To: root@example.com" in outputs[1]


def test_a_worker_killed_mid_check_leaves_the_connection_as_it_was(
    project,
    silent_server,  # noqa: F811  (the fixture imported above)
):
    project.add_connection("Hangs", {"base_url": silent_server, "auth": "none", "timeout": 30})
    project.manage("check_erp_connections")
    worker = project.start("db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.1")
    try:
        project.wait_for(f"{TASKS} WHERE status = 'RUNNING'")
        time.sleep(0.3)  # well inside the connector's call to the silent ERP
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
        assert worker.stdout is not None
        worker.stdout.close()
    assert project.query(CONNECTION.format("Hangs")) == [(1, "", 0, "", None)]
    assert project.query("SELECT count(*) FROM connections_connectionevent") == [(0,)]

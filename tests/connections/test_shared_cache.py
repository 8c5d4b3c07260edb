"""The per-user test limit holds across processes (issue 8, finding 3): two worker
processes share the database cache (the default) or Redis (CACHE_URL=redis://...)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from connections.services import TESTS_PER_MINUTE
from tests.tryton_server import free_port

pytestmark = pytest.mark.django_db  # (the suite clears the cache around each test)

ROOT = Path(__file__).resolve().parents[2]

# One worker process: wait for the start signal, then try ATTEMPTS tests' rate-limit checks
# for one user, and print how many were let through.
WORKER = """
import os, sys, time
from pathlib import Path
import django
django.setup()
from types import SimpleNamespace
from connections.services import ConnectionInvalid, _rate_limit
start = Path(sys.argv[1])
while not start.exists():
    time.sleep(0.005)
allowed = 0
for _ in range(int(sys.argv[2])):
    try:
        _rate_limit(SimpleNamespace(pk=4242))
        allowed += 1
    except ConnectionInvalid:
        pass
print(allowed)
"""

ATTEMPTS = TESTS_PER_MINUTE  # each process alone would be allowed all of them


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"CACHE_URL", "DATABASE_URL"}}
    env.update({"DJANGO_SETTINGS_MODULE": "erpsettings.settings", "DEBUG": "true", **extra})
    return env


def _two_workers(tmp_path: Path, env: dict[str, str]) -> list[int]:
    start = tmp_path / "start"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(start), str(ATTEMPTS)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(1.0)  # both have started Django and wait for the signal
    start.touch()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        results.append(int(out.strip().splitlines()[-1]))
    return results


def _database_url_for_workers(tmp_path: Path) -> str:
    """The test database itself on PostgreSQL; a fresh SQLite file otherwise (the test
    run's SQLite database lives in memory, where no other process can see it)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.postgresql":
        host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"
    return f"sqlite:///{tmp_path / 'shared.sqlite3'}"


@pytest.mark.django_db(transaction=True)
def test_the_limit_holds_across_two_processes_with_the_database_cache(tmp_path):
    env = _env(DATABASE_URL=_database_url_for_workers(tmp_path))  # no CACHE_URL: the default
    subprocess.run([sys.executable, "manage.py", "createcachetable"], cwd=ROOT, env=env, check=True)
    allowed = _two_workers(tmp_path, env)
    assert sum(allowed) == TESTS_PER_MINUTE, allowed


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real redis-server on 127.0.0.1 (apt: redis-server; .ci/run installs it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is needed for this test: apt-get install redis-server")
    port = free_port()
    server = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_limit_holds_across_two_processes_with_redis(tmp_path, redis_url):
    env = _env(CACHE_URL=redis_url, DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    allowed = _two_workers(tmp_path, env)
    assert sum(allowed) == TESTS_PER_MINUTE, allowed


def test_without_cache_url_the_database_cache_is_used():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.CACHES['default']['BACKEND'])",
        ],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "django.core.cache.backends.db.DatabaseCache"


def test_cache_url_chooses_redis():
    """settings.py maps CACHE_URL=redis://... to Django's RedisCache (redis-py)."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "from django.core.cache import caches; import redis; "
            "print(settings.CACHES['default']['BACKEND'], type(caches['default']).__name__)",
        ],
        cwd=ROOT,
        env=_env(CACHE_URL="redis://127.0.0.1:1/0"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.split() == ["django.core.cache.backends.redis.RedisCache", "RedisCache"]

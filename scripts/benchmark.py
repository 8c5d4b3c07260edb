"""Benchmark of the pages that grow with the data: the list tab and the access dialog.

Runs against a throwaway SQLite database (1,000 connections, 10,000 users) and prints, for
each page, the median time, the ratio to a reference measured in the same run (/healthz:
one trivial query) and the number of database queries. Usage: ``make benchmark``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 30


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    database = Path(tempfile.mkdtemp()) / "benchmark.sqlite3"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "erpsettings.settings",
            "DATABASE_URL": f"sqlite:///{database}",
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "ERP_SECRET_KEYS": "benchmark-only-passphrase-of-enough-length",
        }
    )
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from connections.models import ERPConnection

    call_command("migrate", verbosity=0)
    admin = User.objects.create_user("bench", is_staff=True, is_superuser=True)
    users = User.objects.bulk_create(
        User(username=f"user{i:05d}", email=f"user{i}@example.com") for i in range(10_000)
    )
    connections = ERPConnection.objects.bulk_create(
        ERPConnection(name=f"Connection {i:04d}", connector_key="rest_json", scope="specific")
        for i in range(1_000)
    )
    through = ERPConnection.users.through
    through.objects.bulk_create(
        through(erpconnection_id=c.pk, user_id=users[i * 7 % len(users)].pk)
        for i, c in enumerate(connections)
    )
    client = Client()
    client.force_login(admin)
    htmx = {"HX-Request": "true"}

    def measure(url: str, headers: dict[str, str] | None = None) -> tuple[float, int]:
        timings = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            response = client.get(url, headers=headers or {})
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            client.get(url, headers=headers or {})
        return statistics.median(timings) * 1000, len(queries)

    base = "/settings/quote-sync/erp-connections/"
    reference, _ = measure("/healthz")
    print(f"{'page':44s} {'median':>9s} {'ratio':>7s} {'queries':>8s}")
    print(f"{'/healthz (reference)':44s} {reference:7.2f}ms {1:6.1f}x {1:8d}")
    for label, url, headers in [
        ("list, 1,000 connections (full page)", base, None),
        ("list, search (htmx partial)", f"{base}?q=Connection+09", htmx),
        ("list, page 40 sorted by scope (htmx)", f"{base}?sort=-scope&page=40", htmx),
        ("access dialog, search in 10,000 users", f"{base}principals/?q=user0999", htmx),
        ("access dialog, page 300", f"{base}principals/?page=300", htmx),
    ]:
        ms, count = measure(url, headers)
        print(f"{label:44s} {ms:7.2f}ms {ms / reference:6.1f}x {count:8d}")


if __name__ == "__main__":
    main()

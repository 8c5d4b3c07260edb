"""Benchmark of ``connections_for_user`` (the quote side's scope query) at 100,000
connections and 10,000 users.

Builds a throwaway database (SQLite unless ``BENCH_DATABASE_URL`` names another, e.g. a
PostgreSQL test database) with 100,000 live connections (1 % scope *All*, the rest listing
one user or one of 200 groups), 10,000 users in 2 groups each, and 5,000 deleted
connections; then prints, for a few users, the median time of ``connections_for_user`` over
``ROUNDS`` runs, the number of connections it returns and its database queries.
Usage: ``.venv/bin/python scripts/bench_quote.py`` (about a minute on SQLite).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 15
CONNECTIONS = 100_000
USERS = 10_000
GROUPS = 200
BATCH = 5_000


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    database = os.environ.get("BENCH_DATABASE_URL") or (
        f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench_quote.sqlite3'}"
    )
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "erpsettings.settings",
            "DATABASE_URL": database,
            "ERP_SECRET_KEYS": "benchmark-only-passphrase-of-enough-length",
        }
    )
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from connections.models import ERPConnection
    from connections.selectors import connections_for_user

    call_command("migrate", verbosity=0)
    rng = random.Random(9)
    started = time.monotonic()
    with transaction.atomic():
        groups = Group.objects.bulk_create(Group(name=f"Group {i:03d}") for i in range(GROUPS))
        users = User.objects.bulk_create(
            (User(username=f"user{i:05d}") for i in range(USERS)), batch_size=BATCH
        )
        User.groups.through.objects.bulk_create(
            (
                User.groups.through(user_id=user.pk, group_id=group.pk)
                for user in users
                for group in rng.sample(groups, 2)
            ),
            batch_size=BATCH,
        )
        now = timezone.now()
        rows = ERPConnection.all_objects.bulk_create(
            (
                ERPConnection(
                    name=f"Connection {i:06d}",
                    connector_key="product_register",
                    scope="all" if i % 100 == 0 else "specific",
                    deleted_at=now if i >= CONNECTIONS else None,
                )
                for i in range(CONNECTIONS + 5_000)
            ),
            batch_size=BATCH,
        )
        user_links, group_links = [], []
        for i, row in enumerate(rows):
            if row.scope == "all":
                continue
            if i % 2:
                user_links.append(
                    ERPConnection.users.through(
                        erpconnection_id=row.pk, user_id=rng.choice(users).pk
                    )
                )
            else:
                group_links.append(
                    ERPConnection.groups.through(
                        erpconnection_id=row.pk, group_id=rng.choice(groups).pk
                    )
                )
        ERPConnection.users.through.objects.bulk_create(user_links, batch_size=BATCH)
        ERPConnection.groups.through.objects.bulk_create(group_links, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the planner statistics a running database has
    print(
        f"{connection.vendor}: {CONNECTIONS:,} live + 5,000 deleted connections, {USERS:,} users, "
        f"{GROUPS} groups (built in {time.monotonic() - started:.0f} s)"
    )
    print(f"{'user':<12} {'connections':>11} {'median ms':>10} {'queries':>8}")
    for user in [users[0], users[USERS // 2], users[-1]]:
        timings = []
        connections_for_user(user)  # warm up
        for _ in range(ROUNDS):
            began = time.perf_counter()
            found = connections_for_user(user)
            timings.append((time.perf_counter() - began) * 1000)
        with CaptureQueriesContext(connection) as queries:
            connections_for_user(user)
        print(
            f"{user.username:<12} {len(found):>11,} {statistics.median(timings):>10.1f} "
            f"{len(queries.captured_queries):>8}"
        )


if __name__ == "__main__":
    main()

"""``make bench``: the application as deployed, measured side by side with the Django admin
and the framework floor.

One run:

1. seeds a fresh throwaway database through the ORM (SQLite in a temporary directory, or a
   new database on the PostgreSQL server that ``DATABASE_URL`` names, dropped afterwards):
   10,000 connections (half with a specific scope of 1-20 users and groups, 10% deleted),
   5,000 users, 200 groups;
2. collects the static files and starts gunicorn with the repository's ``gunicorn.conf.py``
   (``DEBUG`` off, ``erpsettings.bench_settings``: the floor view and no rate limit), the
   demo ERP as the fake ERP, and a port that accepts and never answers (a hanging ERP),
   all on 127.0.0.1;
3. measures, interleaved round by round: the HTTP floor (``/healthz``), the list (first page,
   a name search, the Deleted view, the htmx partial), the admin changelist at the same page
   size, the floor, the
   dialog requests, the test round trip against a direct httpx call to the same ERP; then
   the list while 20 tests wait on the hanging ERP, a test of several selected rows on it,
   ``connections_for_user`` at 100,000 connections (when it exists), the workers' peak
   memory, and the floor in-process back to back against after 3 ms idle (what waking an
   idle machine adds to every request);
4. prints one table and writes it to ``docs/benchmarks.md`` (one section per database).

Every request goes to 127.0.0.1, and their number and time are bounded by ``--rounds``.
Options: ``--rounds N`` (default 40), ``--burst-rounds N`` (default 3); environment:
``BENCH_GUNICORN_ARGS`` adds gunicorn options (to compare worker models, e.g.
``--worker-class sync --workers 2``), ``BENCH_NO_WRITE=1`` leaves docs/benchmarks.md alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import random
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LIST = "/settings/quote-sync/erp-connections/"
ADMIN_LIST = "/admin/connections/erpconnection/"
FLOOR = "/bench/floor/"
ERP_TOKEN = "bench-token"
HTMX = {"HX-Request": "true"}
CONNECTORS = ["rest_json", "rest_json", "tryton", "product_register"]
WORDS = [
    "North", "South", "Main", "Backup", "Test", "Retail", "Wholesale", "Export", "Service",
    "Parts", "Central", "Branch", "Online", "Store", "Legacy", "Staging", "Pilot", "Outlet",
]  # fmt: skip
FIRST = ["Anna", "Bram", "Chloe", "Daan", "Eva", "Finn", "Greta", "Hugo", "Iris", "Joris"]
LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Peters"]


# --- the database ------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(workdir: Path) -> Iterator[str]:
    """The URL of an empty database that is removed afterwards."""
    server = os.environ.get("DATABASE_URL", "").strip()
    if not server.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(server)
    name = f"erp_bench_{uuid.uuid4().hex[:8]}"
    admin_args: dict[str, Any] = {
        "host": cfg["HOST"],
        "port": cfg["PORT"] or 5432,
        "user": cfg["USER"],
        "password": cfg["PASSWORD"],
        "dbname": cfg["NAME"],
        "autocommit": True,
    }
    with psycopg.connect(**admin_args) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = server.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(**admin_args) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(*, connections: int, users: int, groups: int, start: int = 0) -> None:
    """The issue's dataset, through the ORM (bulk_create). ``start`` numbers a second batch."""
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from connections.models import ERPConnection

    rng = random.Random(13 + start)
    now = timezone.now()
    admin = User.objects.get(username="bench")
    made_groups = Group.objects.bulk_create(
        Group(name=f"Team {i:04d}") for i in range(start, start + groups)
    )
    all_groups = list(Group.objects.values_list("pk", flat=True))
    made_users = User.objects.bulk_create(
        (
            User(
                username=f"user{i:05d}",
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
                email=f"user{i:05d}@example.com",
                password="!",  # unusable
            )
            for i in range(start, start + users)
        ),
        batch_size=2000,
    )
    memberships = User.groups.through
    memberships.objects.bulk_create(
        (
            memberships(user_id=u.pk, group_id=g)
            for u in made_users
            for g in rng.sample(all_groups, rng.randint(0, 3))
        ),
        batch_size=5000,
    )
    user_ids = [u.pk for u in made_users]
    statuses = ["ok", "ok", "ok_with_info", "warning", "error", ""]
    rows = []
    for i in range(start, start + connections):
        status = rng.choice(statuses)
        deleted = rng.random() < 0.10
        rows.append(
            ERPConnection(
                name=f"{rng.choice(WORDS)} ERP {i:06d}",
                connector_key=CONNECTORS[i % len(CONNECTORS)],
                description=" ".join(rng.choices(WORDS, k=rng.randint(0, 30))).lower(),
                scope="specific" if i % 2 else "all",
                config={"base_url": f"https://erp{i}.example.com/", "authentication": "none"},
                created_by=admin,
                last_test_at=now - datetime.timedelta(hours=rng.randint(1, 5000))
                if status
                else None,
                last_test_by=admin if status else None,
                last_test_status=status,
                deleted_at=now - datetime.timedelta(days=rng.randint(1, 300)) if deleted else None,
                deleted_by=admin if deleted else None,
            )
        )
    made = ERPConnection.all_objects.bulk_create(rows, batch_size=2000)
    through_users, through_groups = ERPConnection.users.through, ERPConnection.groups.through
    picked_users, picked_groups = [], []
    for connection in made:
        if connection.scope != "specific":
            continue
        k = rng.randint(1, 20)
        n_groups = rng.randint(0, min(k, 5))
        picked_groups += [
            through_groups(erpconnection_id=connection.pk, group_id=g)
            for g in rng.sample(all_groups, n_groups)
        ]
        picked_users += [
            through_users(erpconnection_id=connection.pk, user_id=u)
            for u in rng.sample(user_ids, k - n_groups)
        ]
    through_users.objects.bulk_create(picked_users, batch_size=5000)
    through_groups.objects.bulk_create(picked_groups, batch_size=5000)
    del made_groups


def analyze(vendor: str) -> None:
    """The planner statistics a running database has (and on PostgreSQL the visibility map
    autovacuum keeps, for index-only counts) after a bulk load."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")


def silent_connections(silent_url: str, count: int) -> list[int]:
    """Saved REST/JSON connections pointing at the hanging ERP, 2 s timeout."""
    from connections.models import ERPConnection
    from connectors.builtin.rest_json import RestJsonConfig
    from connectors.schema import split_config

    public, _ = split_config(RestJsonConfig.model_validate({"base_url": silent_url, "timeout": 2}))
    made = ERPConnection.objects.bulk_create(
        ERPConnection(name=f"Hanging ERP {i}", connector_key="rest_json", config=public)
        for i in range(count)
    )
    return [c.pk for c in made]


# --- processes on 127.0.0.1 --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, seconds: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.1)
    raise SystemExit(f"{url} did not come up within {seconds:g} s")


def peak_rss_mib(master_pid: int) -> list[float]:
    """VmHWM (peak resident memory) of each gunicorn worker, in MiB."""
    children: list[int] = []
    for task in Path(f"/proc/{master_pid}/task").iterdir():
        children += [int(p) for p in (task / "children").read_text().split()]
    peaks = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return peaks


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Series:
    label: str
    timings: list[float] = field(default_factory=list)  # ms
    queries: int | None = None
    calls: int | None = None  # Python function calls per request, in-process
    size: int | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.timings)

    @property
    def p95(self) -> float:
        ordered = sorted(self.timings)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def cpu_probe() -> float:
    """The best of five runs of a fixed pure-Python loop, in ms: how fast the machine was
    (another run's figures compare with these only at a similar probe)."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        sum(i * i % 7 for i in range(300_000))
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def queries_and_calls(call: Callable[[], Any]) -> tuple[int, int]:
    """The SQL queries and the Python function calls of one call, in-process (the second of
    two, so that first-use caches are warm). Calls are counted, not timed: the same code and
    data give the same count on any machine, however busy."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()
    profile = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        profile.enable()
        response = call()
        profile.disable()
    assert response.status_code == 200, response.status_code
    return len(queries), pstats.Stats(profile).total_calls  # type: ignore[attr-defined]


def main() -> None:  # noqa: C901 - one run, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--burst-rounds", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="erp-bench-"))
    processes: list[subprocess.Popen[bytes]] = []
    load_before = os.getloadavg()
    started_run = time.monotonic()
    try:
        with fresh_database(workdir) as database_url:
            run(args, workdir, database_url, processes, load_before, started_run)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def run(
    args: argparse.Namespace,
    workdir: Path,
    database_url: str,
    processes: list[subprocess.Popen[bytes]],
    load_before: tuple[float, float, float],
    started_run: float,
) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "erpsettings.bench_settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "ERP_SECRET_KEYS": "benchmark-only-passphrase-of-enough-length",
        "ERP_ALLOW_PRIVATE_NETWORKS": "true",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "BENCH_STATIC_ROOT": str(workdir / "static"),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django

    django.setup()
    import httpx
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection as db
    from django.test import Client

    from connections.models import ERPConnection

    vendor = db.vendor
    print(f"Seeding a fresh {vendor} database ...", flush=True)
    t, _ = timed(lambda: call_command("migrate", verbosity=0))
    call_command("createcachetable", verbosity=0)  # the database cache, as deployed
    admin = User.objects.create_user("bench", is_staff=True, is_superuser=True)
    t2, _ = timed(lambda: seed(connections=10_000, users=5_000, groups=200))
    print(f"  migrate {t / 1000:.1f} s, seed {t2 / 1000:.1f} s", flush=True)
    call_command("collectstatic", interactive=False, verbosity=0)
    analyze(vendor)

    # The fake ERP (the project's demo ERP) and a hanging one, both on 127.0.0.1.
    erp_port = free_port()
    processes.append(
        subprocess.Popen(
            [sys.executable, "-m", "connectors.demo_erp", "--port", str(erp_port), "--quiet",
             "--token", ERP_TOKEN],
            cwd=ROOT,
        )
    )  # fmt: skip
    erp_url = f"http://127.0.0.1:{erp_port}/"
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(128)  # the kernel completes handshakes; nobody ever reads
    silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
    hanging_ids = silent_connections(silent_url, 5)

    app_port = free_port()
    extra = shlex.split(os.environ.get("BENCH_GUNICORN_ARGS", ""))
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
         f"127.0.0.1:{app_port}", *extra, "erpsettings.wsgi"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    processes.append(gunicorn)
    app = f"http://127.0.0.1:{app_port}"
    wait_for(f"{app}/healthz")
    wait_for(erp_url + "health")
    worker_model = describe_workers(extra)
    print(f"gunicorn: {worker_model}", flush=True)

    # A logged-in administrator: a session made in-process, shared through the database.
    django_client = Client()
    django_client.force_login(admin)
    session = django_client.cookies[settings.SESSION_COOKIE_NAME].value

    def new_client(csrf: str | None = None) -> httpx.Client:
        client = httpx.Client(base_url=app, timeout=30, follow_redirects=False)
        client.cookies.set(settings.SESSION_COOKIE_NAME, session)
        if csrf:
            client.cookies.set(settings.CSRF_COOKIE_NAME, csrf)
        else:
            client.get(LIST).raise_for_status()  # sets the CSRF cookie
        return client

    client = new_client()
    csrf = client.cookies[settings.CSRF_COOKIE_NAME]
    edit_target = (
        ERPConnection.objects.filter(scope="specific", connector_key="rest_json")
        .order_by("pk")
        .first()
    )
    assert edit_target is not None
    edit_url = f"{LIST}{edit_target.pk}/edit/"
    test_form = {
        "name": "Bench ERP",
        "connector": "rest_json",
        "scope": "all",
        "config__base_url": erp_url,
        "config__authentication": "bearer",
        "config__api_token": ERP_TOKEN,
        "config__timeout": "10",
        "config__verify_tls": "on",
        "config__price_decimals": "2",
        "config__rounding_mode": "half_up",
        "config__max_discount": "100",
        "description": "",
    }
    post_headers = {**HTMX, "X-CSRFToken": csrf}

    def get(url: str, headers: dict[str, str] | None = None) -> Callable[[], httpx.Response]:
        return lambda: client.get(url, headers=headers)

    ssl_context = httpx.create_ssl_context(trust_env=False)  # made once, as the app does

    def direct_erp() -> httpx.Response:
        # What the connector's test does on the wire: a new client, /health, /price-lists.
        auth = {"Authorization": f"Bearer {ERP_TOKEN}", "Accept": "application/json"}
        with httpx.Client(timeout=10, verify=ssl_context, trust_env=False) as erp:
            erp.get(erp_url + "health", headers=auth).raise_for_status()
            response = erp.get(erp_url + "price-lists", headers=auth)
            response.raise_for_status()
            return response

    def test_round_trip() -> httpx.Response:
        response = client.post(f"{LIST}add/test/", data=test_form, headers=post_headers)
        assert "Connection OK" in response.text, response.text[:500]
        return response

    targets: dict[str, Callable[[], httpx.Response]] = {
        "healthz": get("/healthz"),
        "floor": get(FLOOR),
        "list": get(LIST),
        "search": get(f"{LIST}?q=north"),
        "deleted": get(f"{LIST}?deleted=1"),
        "partial": get(LIST, HTMX),
        "admin": get(ADMIN_LIST),
        "dialog": get(f"{LIST}add/", HTMX),
        "switch": get(f"{LIST}connector-fields/?connector=tryton", HTMX),
        "edit": get(edit_url, HTMX),
        "access": get(f"{LIST}principals/?q=jansen", HTMX),
        "test": test_round_trip,
        "direct": direct_erp,
    }
    series = {key: Series(key) for key in targets}
    for key, call in targets.items():  # warm up every path and check it answers 200
        response = call()
        assert response.status_code == 200, (key, response.status_code, response.text[:300])
        series[key].size = len(response.content)

    probe_before = cpu_probe()
    print(f"Measuring {args.rounds} interleaved rounds ...", flush=True)
    order = list(targets)
    rng = random.Random(1)
    for _ in range(args.rounds):
        rng.shuffle(order)  # interleaved, in a different order each round
        for key in order:
            ms, response = timed(targets[key])
            assert response.status_code == 200, (key, response.status_code)
            series[key].timings.append(ms)

    probe = (probe_before, cpu_probe())

    # Query and call counts, in-process against the same database and settings.
    in_process: dict[str, Callable[[], Any]] = {
        "healthz": lambda: django_client.get("/healthz"),
        "floor": lambda: django_client.get(FLOOR),
        "list": lambda: django_client.get(LIST),
        "search": lambda: django_client.get(f"{LIST}?q=north"),
        "deleted": lambda: django_client.get(f"{LIST}?deleted=1"),
        "partial": lambda: django_client.get(LIST, headers=HTMX),
        "admin": lambda: django_client.get(ADMIN_LIST),
        "dialog": lambda: django_client.get(f"{LIST}add/", headers=HTMX),
        "switch": lambda: django_client.get(
            f"{LIST}connector-fields/?connector=tryton", headers=HTMX
        ),
        "edit": lambda: django_client.get(edit_url, headers=HTMX),
        "access": lambda: django_client.get(f"{LIST}principals/?q=jansen", headers=HTMX),
        "test": lambda: django_client.post(
            f"{LIST}add/test/",
            urlencode(test_form),
            content_type="application/x-www-form-urlencoded",  # as httpx posts it
            headers=HTMX,
        ),
        "direct": direct_erp,
    }
    for key, call in in_process.items():
        series[key].queries, series[key].calls = queries_and_calls(call)
    idle = idle_penalty(in_process["floor"])

    # The list while 20 tests wait on an ERP that never answers (2 s timeout).
    print(f"Hanging-ERP burst x{args.burst_rounds} ...", flush=True)
    hanging_form = {**test_form, "config__base_url": silent_url, "config__timeout": "2",
                    "config__authentication": "none", "config__api_token": ""}  # fmt: skip
    burst = Series("burst")
    burst_statuses: list[int] = []
    burst_longest = 0.0
    for _ in range(args.burst_rounds):
        results: list[tuple[float, int]] = []

        def one_test(tester: httpx.Client, results: list[tuple[float, int]] = results) -> None:
            with tester:
                ms, response = timed(
                    lambda: tester.post(
                        f"{LIST}add/test/", data=hanging_form, headers=post_headers, timeout=60
                    )
                )
                results.append((ms, response.status_code))

        testers = [threading.Thread(target=one_test, args=(new_client(csrf),)) for _ in range(20)]
        for thread in testers:
            thread.start()
        watcher = threading.Thread(target=join_all, args=(testers,))
        watcher.start()
        time.sleep(0.2)  # let the tests reach the server
        deadline = time.monotonic() + 30
        while watcher.is_alive() and time.monotonic() < deadline:
            ms, response = timed(targets["list"])
            burst.timings.append(ms)
        watcher.join()
        burst_statuses += [status for _, status in results]
        burst_longest = max([burst_longest, *(ms for ms, _ in results)])

    # A test of several selected rows, all on the hanging ERP: about one timeout, not five.
    multi = Series("multi")
    for _ in range(2):
        ms, response = timed(
            lambda: client.post(
                f"{LIST}test/",
                data={"ids": [str(pk) for pk in hanging_ids]},
                headers=post_headers,
                timeout=60,
            )
        )
        assert response.status_code == 200, response.status_code
        multi.timings.append(ms)
        print(f"  multi-row test: {ms:.0f} ms", flush=True)

    memory = peak_rss_mib(gunicorn.pid)

    # connections_for_user at 100,000 connections and 10,000 users, when it exists.
    selector = None
    with contextlib.suppress(ImportError, AttributeError):
        from connections import selectors

        selector = selectors.connections_for_user  # type: ignore[attr-defined]
    cfu: Series | None = None
    if selector is not None:
        print("connections_for_user: seeding 100,000 connections ...", flush=True)
        t, _ = timed(lambda: seed(connections=90_000, users=5_000, groups=0, start=10_000))
        # scripts/bench_quote.py's mix: 1% of the connections on scope All (half of them
        # would hand every user ~45,000 rows and measure only their transfer).
        # Every 50th of the seeded All rows stays All (1% of the connections), whatever the ids.
        everyone = ERPConnection.all_objects.filter(scope="all").order_by("pk")
        kept = list(everyone.values_list("pk", flat=True)[::50])
        everyone.exclude(pk__in=kept).update(scope="specific")
        print(f"  seeded in {t / 1000:.0f} s", flush=True)
        analyze(vendor)
        cfu = measure_connections_for_user(selector)

    elapsed = time.monotonic() - started_run
    table = report(
        series=series,
        burst=burst,
        burst_statuses=burst_statuses,
        burst_longest=burst_longest,
        multi=multi,
        memory=memory,
        cfu=cfu,
        hanging=len(hanging_ids),
        idle=idle,
    )
    header = machine_header(
        vendor=vendor,
        worker_model=worker_model,
        rounds=args.rounds,
        load=(load_before, os.getloadavg()),
        elapsed=elapsed,
        series=series,
        probe=probe,
    )
    print()
    print(header)
    print(table)
    if not os.environ.get("BENCH_NO_WRITE"):
        write_docs(vendor, f"{header}\n{table}")
        print(f"Written to {ROOT / 'docs' / 'benchmarks.md'} (section {vendor}).")


def join_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join()


def idle_penalty(call: Callable[[], Any], rounds: int = 100) -> tuple[Series, Series]:
    """The same in-process request back to back, and each after 3 ms of sleep (about the gap
    between two requests of the rounds). On an idle virtual machine the second is slower: the
    process wakes on a core that was halted, with cold caches. Every request from the client
    pays this, the floor included; the milliseconds targets do too, the ratios hardly."""
    hot, rested = Series("hot"), Series("rested")
    for _ in range(rounds):  # in pairs: after the sleep, then at once again
        time.sleep(0.003)
        rested.timings.append(timed(call)[0])
        hot.timings.append(timed(call)[0])
    return hot, rested


def measure_connections_for_user(selector: Callable[..., Any]) -> Series:
    import inspect

    from django.contrib.auth.models import User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    users = list(User.objects.filter(username__startswith="user").order_by("?")[:30])
    keyword = "user" in inspect.signature(selector).parameters

    sizes: list[int] = []

    def call(user: Any) -> int:
        result = selector(user=user) if keyword else selector(user)
        sizes.append(len(list(result)))
        return sizes[-1]

    for user in users[:3]:
        call(user)
    series = Series("cfu")
    worst = 0
    budget = time.monotonic() + 20  # a slow selector must not stretch the run unboundedly
    for user in users:
        if len(series.timings) >= 5 and time.monotonic() > budget:
            break
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            call(user)
            ms = (time.perf_counter() - started) * 1000
        series.timings.append(ms)
        worst = max(worst, len(queries))
    series.queries = worst
    series.size = int(statistics.median(sizes))  # connections returned (in the row's label)
    return series


def describe_workers(extra: list[str]) -> str:
    from gunicorn.config import Config

    cfg = Config()
    namespace: dict[str, Any] = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), namespace)
    for key, value in namespace.items():
        if key in cfg.settings:
            cfg.set(key, value)
    parsed = cfg.parser().parse_args([*extra, "erpsettings.wsgi"])
    for key, value in vars(parsed).items():
        if value is not None and key in cfg.settings:
            cfg.set(key, value)
    from gunicorn.workers.gthread import ThreadWorker

    klass = cfg.worker_class
    worker = "gthread" if issubclass(klass, ThreadWorker) else klass.__name__.replace("Worker", "")
    threads = f" x {cfg.threads} threads" if cfg.threads > 1 else ""
    keepalive = f"keep-alive {cfg.keepalive} s" if cfg.keepalive else "no keep-alive"
    return f"{cfg.workers} {worker.lower()} workers{threads}, {keepalive}, timeout {cfg.timeout} s"


# --- the table ---------------------------------------------------------------------------


def report(
    *,
    series: dict[str, Series],
    burst: Series,
    burst_statuses: list[int],
    burst_longest: float,
    multi: Series,
    memory: list[float],
    cfu: Series | None,
    hanging: int,
    idle: tuple[Series, Series],
) -> str:
    floor, admin, lst = series["floor"], series["admin"], series["list"]
    overhead = series["test"].median - series["direct"].median
    test_calls, direct_calls = series["test"].calls, series["direct"].calls
    calls_overhead = "" if not test_calls or not direct_calls else f"{test_calls - direct_calls:,}"
    idle_p95 = lst.p95
    rows: list[tuple[str, ...]] = []

    def row(label: str, s: Series, ratio: str = "", target: str = "", met: bool | None = None):
        rows.append(
            (
                label,
                f"{s.median:.1f}",
                f"{s.p95:.1f}",
                ratio,
                "" if s.queries is None else str(s.queries),
                "" if s.calls is None else f"{s.calls:,}",
                "" if s.size is None else f"{s.size:,}",
                target,
                "" if met is None else ("yes" if met else "**no**"),
            )
        )

    def ratio_to(s: Series, ref: Series) -> float:
        return s.median / ref.median

    row("HTTP floor: /healthz, no login (one SELECT 1)", series["healthz"])
    row("floor: bare view, same 25 rows, one query", floor)
    hot, rested = idle
    row("floor in-process, back to back", hot)
    row(
        "floor in-process, each after 3 ms idle",
        rested,
        f"{ratio_to(rested, hot):.2f}x back to back",
    )
    row("ERP connections list, first page", lst, f"{ratio_to(lst, floor):.2f}x floor",
        "<= 1.5x floor", ratio_to(lst, floor) <= 1.5)  # fmt: skip
    row("list, htmx partial", series["partial"], f"{ratio_to(series['partial'], floor):.2f}x floor",
        "<= 1.3x floor", ratio_to(series["partial"], floor) <= 1.3)  # fmt: skip
    row("list, name search", series["search"], f"{ratio_to(series['search'], floor):.2f}x floor")
    row("list, Deleted view", series["deleted"], f"{ratio_to(series['deleted'], floor):.2f}x floor")
    row("Django admin changelist, 25 per page", admin, f"list/admin {ratio_to(lst, admin):.2f}",
        "list/admin <= 0.5", ratio_to(lst, admin) <= 0.5)  # fmt: skip
    for key, label in [
        ("dialog", "dialog open (Add)"),
        ("switch", "connector switch"),
        ("edit", "edit dialog"),
        ("access", "access search over 5,000 users"),
    ]:
        row(label, series[key], "", "<= 10 ms", series[key].median <= 10)
    row("Test ERP connection, round trip", series["test"])
    row("direct httpx: /health + /price-lists", series["direct"])
    rows.append(
        ("test overhead (round trip - direct)", f"{overhead:.1f}", "", "", "", calls_overhead, "",
         "<= 6 ms",
         "yes" if overhead <= 6 else "**no**")
    )  # fmt: skip
    errors = sum(1 for status in burst_statuses if status != 200)
    row(
        f"list during 20 tests on a hanging ERP (2 s), {len(burst.timings)} requests",
        burst,
        f"p95 {burst.p95 / idle_p95:.2f}x idle p95",
        "<= 2x idle p95",
        burst.p95 <= 2 * idle_p95,
    )
    rows.append(
        ("  the 20 tests: longest, non-200 answers", f"{burst_longest:.0f}", "", "", "", "", "",
         "no 500", "yes" if errors == 0 else f"**{errors} failed**")
    )  # fmt: skip
    row(f"Test ERP connection on {hanging} selected hanging rows (2 s each)", multi,
        f"{multi.median / 2000:.2f}x one timeout", "about one timeout",
        multi.median < 2000 * 1.8)  # fmt: skip
    if cfu is not None:
        returned, cfu.size = cfu.size, None
        row(f"connections_for_user, 100,000 connections, 10,000 users ({returned} rows)", cfu, "",
            "<= 3 queries, <= 20 ms", (cfu.queries or 0) <= 3 and cfu.median <= 20)  # fmt: skip
    else:
        rows.append(("connections_for_user", "-", "-", "not on this branch yet", *[""] * 5))
    peak = max(memory) if memory else 0.0
    rows.append(
        ("peak memory of a worker (VmHWM), MiB", f"{peak:.0f}", "", "", "", "", "", "<= 100 MiB",
         "yes" if peak <= 100 else "**no**")
    )  # fmt: skip
    headings = (
        "figure",
        "median ms",
        "p95 ms",
        "ratio",
        "queries",
        "calls",
        "bytes",
        "target",
        "met",
    )
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def machine_header(
    *,
    vendor: str,
    worker_model: str,
    rounds: int,
    load: tuple[tuple[float, ...], tuple[float, ...]],
    elapsed: float,
    series: dict[str, Series],
    probe: tuple[float, float],
) -> str:
    from django.db import connection

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    if git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs/benchmarks.md"):
        commit += " (with uncommitted changes)"
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        int(line.split()[1]) // 1024 // 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        db_version = cursor.fetchone()[0]
    floor = series["floor"]
    # Noise: the floor's own spread, and how far the medians of five consecutive blocks of
    # rounds wander from the overall median (the machine's drift during the run).
    size = max(1, len(floor.timings) // 5)
    blocks = [
        statistics.median(floor.timings[i : i + size])
        for i in range(0, len(floor.timings) - size + 1, size)
    ]
    drift = (max(blocks) - min(blocks)) / floor.median * 100
    quartiles = statistics.quantiles(floor.timings, n=4)
    iqr = (quartiles[2] - quartiles[0]) / floor.median * 100
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{vendor} {db_version} · commit {commit} · {date}\n\n"
        f"Machine: {cpu}, {os.cpu_count()} cores, {mem} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}. "
        f"gunicorn: {worker_model}. {rounds} interleaved rounds, {elapsed:.0f} s in all.\n\n"
        f"Noise: the floor's interquartile range is {iqr:.0f}% of its median and the medians "
        f"of five blocks of rounds span {drift:.0f}% of it; load average "
        f"{load[0][0]:.1f} before, {load[1][0]:.1f} after (other processes share the "
        f"machine). Differences smaller than that are not findings. CPU probe (a fixed "
        f"pure-Python loop, best of five): {probe[0]:.1f} ms before the rounds, "
        f"{probe[1]:.1f} ms after; the milliseconds of two runs compare only at similar "
        f"probes, the ratios and the calls at any.\n"
    )


def write_docs(vendor: str, text: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    start, end = f"<!-- bench:{vendor} -->", f"<!-- /bench:{vendor} -->"
    section = f"{start}\n## {vendor}\n\n{text}\n{end}"
    if path.exists():
        content = path.read_text()
    else:
        content = (
            "# Benchmarks\n\n"
            "Written by `make bench` (scripts/bench.py); each run replaces the section of its "
            "database. `make bench` uses SQLite; `DATABASE_URL=postgres://... make bench` "
            "measures PostgreSQL (in a new database on that server, dropped afterwards).\n\n"
            "Dataset: 10,000 connections (half with a specific scope of 1-20 users and groups, "
            "10% deleted), 5,000 users, 200 groups; the application runs as deployed "
            "(gunicorn.conf.py, DEBUG off, static files collected). Times are medians and "
            "95th percentiles of requests interleaved round by round, measured from a client "
            "on 127.0.0.1; query counts come from the same requests made in-process. The HTTP "
            "floor (`/healthz`) is what any round trip costs before Django does any work of a "
            "page; the floor in-process, back to back and after 3 ms idle, shows what waking "
            "an idle virtual machine adds to every request (the milliseconds targets pay it, "
            "the ratios hardly).\n\n"
        )
    if start in content and end in content:
        before, rest = content.split(start, 1)
        content = before + section + rest.split(end, 1)[1]
    else:
        content = content.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(exist_ok=True)
    path.write_text(content)


if __name__ == "__main__":
    main()

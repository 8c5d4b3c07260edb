"""The access dialog's user search on SQLite: the FTS5 trigram table of migration 0012
finds exactly what the four LIKEs find, and its triggers follow auth_user."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from connections import selectors

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="SQLite's FTS table (PostgreSQL: trigram index)"
    ),
]

MIGRATION = "0012_sqlite_user_search"
BEFORE = "0011_user_search"

NAMES = [  # username, first name, last name, e-mail
    ("ivisser", "Iris", "Jansen", "iris@noord.example"),
    ("jan.smit", "Jan", "Smit", "JAN@SMIT.EXAMPLE"),
    ("eva", "Éva", "Bos", "eva@zuid.example"),
    ("eva2", "éva", "ÉVA", ""),
    ("ik", "İlker", "Kelvin", "ik@example.com"),
    ("kk", "\u212aelvin", "Kaya", "kk@example.com"),  # KELVIN SIGN: lower() keeps it
    ("obrien", "Seán", "O'Brien", "sean.o'brien@example.com"),
    ("quoted", 'Jan "Jay"', "de Vries", "jay@example.com"),
    ("ops", "OR", "NEAR", "(ops)*@example.com"),
    ("pct", "100%", "a_b", "back\\slash@example.com"),
    ("strasse", "Jürgen", "Straße", "juergen@example.de"),
    ("combining", "E\u0301va", "Noord", "e-va@example.nl"),
    ("emoji", "😀😀😀", "Smile", "smile@example.com"),
]
QUERIES = [
    *["jan", "JAN", "Jansen", "sen jan", "jan smit", "jan bos", "smit@", "@example.com"],
    *["ja", "j", "a", "é", "ÉV"],  # under three characters: the LIKEs
    *["éva", "Éva", "ÉVA", "eva", "EVA", "ilk", "İlk", "İLKER", "kel", "KEL", "\u212ael"],
    *["straße", "STRASSE", "sse", "e\u0301va", "jürgen", "JÜRGEN", "😀😀😀", "😀😀"],
    *['"', '""', '"jay', '"jay"', 'jan "jay', 'y"', "o'brien", "O'B", "sean.o'"],
    *["*", "jan*", "OR", "jan OR bos", "NEAR", "NEAR(jan bos)", "(ops)", "(ops)*", "AND"],
    *["NOT jan", "-jan", "^jan", "text:jan", "{text}:jan", "jan:", "+jan"],
    *["100%", "%", "0%", "a_b", "_b", "a_", "%_%", "\\", "k\\s", "\\slash"],
    *["a\x00b", "jan\x00", "\x00"],
]


@pytest.fixture
def people(db):
    User.objects.bulk_create(
        User(username=u, first_name=f, last_name=last, email=e, password="!")
        for u, f, last, e in NAMES
    )


@pytest.fixture
def without_fts(monkeypatch):
    monkeypatch.setattr(selectors, "_has_user_search", lambda: False)


def found(q):
    """The usernames on the search's first page of users, their count, and its SQL."""
    with CaptureQueriesContext(connection) as queries:
        page = selectors.principal_search(q=q, users_only=True)
        ids = [p.id for p in page]
    names = User.objects.in_bulk(ids)
    return [names[i].username for i in ids], page.paginator.count, queries.captured_queries


def uses_fts(queries):
    return ["user_search" in query["sql"] for query in queries]


def rows_and_expected():
    """The FTS table's rows, and what they should hold (auth_user's text, as SQLite lowers it)."""
    with connection.cursor() as cursor:
        cursor.execute('SELECT rowid, text FROM "user_search"')
        rows = dict(cursor.fetchall())
        cursor.execute(
            "SELECT id, lower(username || ' ' || first_name || ' ' || last_name || ' ' || email)"
            " FROM auth_user"
        )
        return rows, dict(cursor.fetchall())


@pytest.mark.parametrize("q", QUERIES)
def test_the_fts_table_finds_what_the_likes_find(people, monkeypatch, q):
    *fts_found, fts_queries = found(q)
    monkeypatch.setattr(selectors, "_has_user_search", lambda: False)
    *like_found, like_queries = found(q)
    assert fts_found == like_found
    assert not any(uses_fts(like_queries))
    looked_up = any(len(word) >= 3 and "\x00" not in word for word in q.split())
    assert uses_fts(fts_queries)[0] == looked_up  # the count


def test_the_fts_table_keeps_the_likes_case_rules(people):
    """SQLite's LIKE, and so the search, ignores the case of ASCII letters only."""
    assert found("ÉVA")[:2] == (["eva", "eva2"], 2)  # Éva, ÉVA; not éva
    assert found("éva")[:2] == (["eva2"], 1)
    assert found("İLK")[:2] == (["ik"], 1)
    assert found("ilk")[:2] == ([], 0)  # İ is not an I
    assert found("kel")[:2] == (["ik"], 1)  # Kelvin; the KELVIN SIGN is not a K
    assert found("jan")[:2] == (["ivisser", "jan.smit", "quoted"], 3)


def test_a_page_of_many_matches_is_read_in_username_order_with_the_likes(people, monkeypatch):
    monkeypatch.setattr(selectors, "SCAN_FROM_USERS", 5)
    *scanned, queries = found("example")
    assert scanned[1] == 12 and uses_fts(queries) == [True, False]  # count, page
    monkeypatch.setattr(selectors, "SCAN_FROM_USERS", 1000)
    *indexed_page, queries = found("example")
    assert indexed_page == scanned and uses_fts(queries) == [True, True]


def test_a_search_through_the_fts_table_runs_as_many_queries_as_with_the_likes(
    people, without_fts, monkeypatch, django_assert_num_queries
):
    with django_assert_num_queries(2):  # users: count and page
        assert len(selectors.principal_search(q="example jan", users_only=True)) == 3
    monkeypatch.undo()
    with django_assert_num_queries(2):
        assert len(selectors.principal_search(q="example jan", users_only=True)) == 3


def test_the_fts_table_follows_users_created_renamed_and_deleted(make_user):
    user = make_user("alpha", first_name="Bravo", last_name="Charlie", email="delta@example.com")
    assert found("charlie")[:2] == (["alpha"], 1)
    for field, old, new in [
        ("username", "alpha", "echo"),
        ("first_name", "bravo", "Foxtrot"),
        ("last_name", "charlie", "Golf"),
        ("email", "delta", "hotel@example.com"),
    ]:
        setattr(user, field, new)
        user.save()
        assert found(old)[:2] == ([], 0), field
        assert found(new)[:2] == (["echo"], 1), field
    User.objects.filter(pk=user.pk).update(last_name="India")  # SQL, no save()
    assert found("india")[:2] == (["echo"], 1)
    assert rows_and_expected()[0] == rows_and_expected()[1]
    user.is_active = False
    user.save()
    assert found("india")[:2] == ([], 0)
    pk = user.pk
    user.delete()
    rows, expected = rows_and_expected()
    assert rows == expected and pk not in rows


def test_saving_a_user_without_changing_a_searched_column_leaves_the_table(make_user):
    user = make_user("anna", last_name="Bakker")
    with connection.cursor() as cursor:
        cursor.execute("SELECT total_changes()")
        (before,) = cursor.fetchone()
        user.is_staff = True
        user.save()  # an UPDATE of every column; the trigger's WHEN skips it
        cursor.execute("SELECT total_changes()")
        assert cursor.fetchone() == (before + 1,)  # auth_user's row only


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate([("connections", target)])
    selectors._has_user_search.cache_clear()


def schema_names():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'user_search%'")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def back_to_the_latest():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    selectors._has_user_search.cache_clear()


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_table_and_its_reverse_drops_it(back_to_the_latest):
    migrate(BEFORE)
    assert schema_names() == set()
    user = User.objects.create(username="anna", last_name="Bakker")
    migrate(MIGRATION)
    assert {"user_search", "user_search_insert", "user_search_update"} <= schema_names()
    assert "user_search_delete" in schema_names()
    rows, expected = rows_and_expected()
    assert rows == expected and user.pk in rows
    assert selectors._has_user_search()
    assert uses_fts(found("bakker")[2]) == [True, True]


@pytest.mark.django_db(transaction=True)
def test_without_fts5_trigram_the_migration_succeeds_and_the_search_keeps_its_likes(
    back_to_the_latest, monkeypatch
):
    migrate(BEFORE)
    migration = importlib.import_module(f"connections.migrations.{MIGRATION}")
    no_trigram = migration.CREATE_TABLE.replace("trigram", "no_such_tokenizer")
    monkeypatch.setattr(migration, "CREATE_TABLE", no_trigram)
    migrate(MIGRATION)
    assert schema_names() == set()
    user = User.objects.create(username="anna", last_name="Bakker")  # no trigger to fail
    assert not selectors._has_user_search()
    *result, queries = found("bakker")
    assert result == [[user.username], 1] and not any(uses_fts(queries))
    migrate(BEFORE)  # its reverse drops nothing that is not there
    monkeypatch.undo()

"""SQLite: a full-text index for the access dialog's user search (selectors._user_matches).

An FTS5 table ``user_search`` with the trigram tokenizer holds one row per user (its rowid
is the user's id): ``lower(username || ' ' || first_name || ' ' || last_name || ' ' ||
email)``. A word of three characters or more is then found through the index instead of
four LIKEs over every user. Triggers on auth_user keep it in step, whatever writes the
users (the ORM, bulk_create, raw SQL, a fixture).

``lower()`` and ``case_sensitive 1`` because SQLite's LIKE ignores the case of ASCII letters
only, and so does its ``lower()``: the table finds exactly what the LIKEs find. The
tokenizer's own folding is Unicode's and would find "Éva" for "éva", which LIKE does not.

Where the SQLite library lacks FTS5 or its trigram tokenizer (before 3.34) nothing is
created and the search keeps its LIKEs. PostgreSQL has its trigram index (0011). Not in the
models' state: auth's table, and only SQLite has it.
"""

from django.db import migrations, transaction
from django.db.utils import OperationalError

TEXT = (
    "lower({row}.username || ' ' || {row}.first_name || ' ' || {row}.last_name || ' ' || "
    "{row}.email)"
)
COLUMNS = ("id", "username", "first_name", "last_name", "email")

CREATE_TABLE = (
    "CREATE VIRTUAL TABLE \"user_search\" USING fts5(text, tokenize='trigram case_sensitive 1')"
)
FILL = (
    f'INSERT INTO "user_search" (rowid, text) SELECT id, {TEXT.format(row="auth_user")} '
    'FROM "auth_user"'
)
INSERT = f'INSERT INTO "user_search" (rowid, text) VALUES (new.id, {TEXT.format(row="new")});'
DELETE = 'DELETE FROM "user_search" WHERE rowid = old.id;'
CHANGED = " OR ".join(f"old.{column} IS NOT new.{column}" for column in COLUMNS)
TRIGGERS = {
    "user_search_insert": f'AFTER INSERT ON "auth_user" BEGIN {INSERT} END',
    "user_search_update": (
        f'AFTER UPDATE OF {", ".join(COLUMNS)} ON "auth_user" WHEN {CHANGED} '
        f"BEGIN {DELETE} {INSERT} END"
    ),
    "user_search_delete": f'AFTER DELETE ON "auth_user" BEGIN {DELETE} END',
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute(CREATE_TABLE)
    except OperationalError:  # "no such module: fts5", "no such tokenizer: trigram"
        return
    schema_editor.execute(FILL)
    for name, body in TRIGGERS.items():
        schema_editor.execute(f'CREATE TRIGGER "{name}" {body}')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name in TRIGGERS:
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
    schema_editor.execute('DROP TABLE IF EXISTS "user_search"')


class Migration(migrations.Migration):
    dependencies = [("connections", "0011_user_search")]

    operations = [migrations.RunPython(create, drop)]

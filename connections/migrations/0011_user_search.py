"""Indexes for the access dialog's user search (selectors.principal_search).

- ``lower(username)`` on SQLite and PostgreSQL: the results are ordered by it, so a page
  is read in index order and the read stops after its 20 rows instead of sorting every
  match.
- PostgreSQL, where pg_trgm exists (migration 0007): one trigram index over the four
  searched columns, ``UPPER(username || ' ' || first_name || ' ' || last_name || ' ' ||
  email)``, the expression the search uses there. With one index per column (0007) the
  planner scanned the table, calling UPPER() four times per user. Those four indexes are
  dropped: nothing searches them any more.

Not in the models' state: auth's table, and no other database has them.
"""

from django.db import migrations

USERNAME_INDEX = (
    'CREATE INDEX IF NOT EXISTS "auth_user_username_lower" ON "auth_user" (LOWER("username"))'
)
SEARCH_INDEX = (
    'CREATE INDEX IF NOT EXISTS "auth_user_search_trgm" ON "auth_user" USING gin '
    "(UPPER((\"username\" || ' ' || \"first_name\" || ' ' || \"last_name\" || ' ' || "
    '"email")::text) gin_trgm_ops)'
)
COLUMN_INDEXES = {  # migration 0007's, per column
    "auth_user_username_trgm": "username",
    "auth_user_first_name_trgm": "first_name",
    "auth_user_last_name_trgm": "last_name",
    "auth_user_email_trgm": "email",
}


def _has_trigrams(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        return
    schema_editor.execute(USERNAME_INDEX)
    if vendor == "postgresql" and _has_trigrams(schema_editor):
        schema_editor.execute(SEARCH_INDEX)
        for name in COLUMN_INDEXES:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        return
    schema_editor.execute('DROP INDEX IF EXISTS "auth_user_username_lower"')
    if vendor == "postgresql" and _has_trigrams(schema_editor):
        schema_editor.execute('DROP INDEX IF EXISTS "auth_user_search_trgm"')
        for name, column in COLUMN_INDEXES.items():
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "auth_user" '
                f'USING gin (upper("{column}"::text) gin_trgm_ops)'
            )


class Migration(migrations.Migration):
    dependencies = [("connections", "0010_scope_covering_indexes")]

    operations = [migrations.RunPython(create, drop)]

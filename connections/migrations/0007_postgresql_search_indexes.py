"""Trigram indexes for the two searches on PostgreSQL: the list's name search
(``lower(name) LIKE '%…%'``, selectors.connection_list) and the access dialog's user search
(``UPPER(column) LIKE UPPER('%…%')``, Django's ``icontains``, selectors.principal_search).

PostgreSQL only, and only where the pg_trgm extension can be created (it is a trusted
extension: the database owner may). Elsewhere nothing happens and the searches scan, as
they did. The indexes are not in the models' state: no other database has them.
"""

from django.db import migrations, transaction

INDEXES = {
    "erp_connection_name_trgm": (
        "connections_erpconnection", "lower(name::text) gin_trgm_ops"
    ),
    "auth_user_username_trgm": ("auth_user", "upper(username::text) gin_trgm_ops"),
    "auth_user_first_name_trgm": ("auth_user", "upper(first_name::text) gin_trgm_ops"),
    "auth_user_last_name_trgm": ("auth_user", "upper(last_name::text) gin_trgm_ops"),
    "auth_user_email_trgm": ("auth_user", "upper(email::text) gin_trgm_ops"),
    "auth_group_name_trgm": ("auth_group", "upper(name::text) gin_trgm_ops"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # not installed or not allowed: the searches keep scanning
        return
    for name, (table, expression) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ({expression})'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("connections", "0006_deleted_name_index")]

    operations = [migrations.RunPython(create, drop)]

"""Covering indexes for the quote side's scope lookup (``ConnectionQuerySet.in_scope_of``,
issue 13): each branch of its UNION reads only an index, never the table, on PostgreSQL (an
index-only scan) as on SQLite.

- ``scope`` gets ``id`` beside it (SQLite's index held the rowid already; PostgreSQL's did not
  and read 1,000 table rows for the *All* branch at 100,000 connections).
- The users and groups of a connection get indexes that lead with the user or group and hold
  the connection. The many-to-many tables are Django's own (no model to declare them on), so
  these two are created here and are not in the models' state, like migration 0007's.
"""

from django.db import migrations, models

THROUGH_INDEXES = {
    # index name: (many-to-many field of ERPConnection, leading column)
    "erpconnection_users_by_user": ("users", "user_id"),
    "erpconnection_groups_by_group": ("groups", "group_id"),
}


def create(apps, schema_editor):
    connection_model = apps.get_model("connections", "ERPConnection")
    quote = schema_editor.quote_name
    for name, (field, column) in THROUGH_INDEXES.items():
        table = connection_model._meta.get_field(field).remote_field.through._meta.db_table
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(name)} "
            f"ON {quote(table)} ({quote(column)}, {quote('erpconnection_id')})"
        )


def drop(apps, schema_editor):
    for name in THROUGH_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [("connections", "0009_list_count_index")]

    operations = [
        migrations.RemoveIndex(model_name="erpconnection", name="erpconnection_scope"),
        migrations.AddIndex(
            model_name="erpconnection",
            index=models.Index(fields=["scope", "id"], name="erpconnection_scope_id"),
        ),
        migrations.RunPython(create, drop),
    ]

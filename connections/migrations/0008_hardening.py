"""Hardening (issue 8): the normalised name key with the unique constraint on it, the
version counter of every save, the spent test proofs, and sync connections managed by the
Support group in the admin (who may also unlock logins locked by django-axes)."""

import unicodedata

import connections.names
from django.contrib.auth.management import create_permissions
import django.db.models.functions.text
from django.db import migrations, models
from django.db.models import Q


def _name_key(name):
    # A copy of connections.names.name_key as it was when this migration was written.
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())


def fill_name_keys(apps, schema_editor):
    """Give every row its key. Live rows whose names now collide (they differed only in
    the case of non-ASCII letters, or in compatibility forms) keep the oldest one's name;
    the others get " (2)", " (3)", ... appended, recorded in their history."""
    for model_name in ("ERPConnection", "SyncConnection"):
        model = apps.get_model("connections", model_name)
        live_keys = set()
        for row in model.objects.order_by("pk"):
            key = _name_key(row.name)
            if row.deleted_at is None:
                base_name, n = row.name, 1
                while key in live_keys:
                    n += 1
                    suffix = f" ({n})"
                    row.name = base_name[: 100 - len(suffix)] + suffix
                    key = _name_key(row.name)
                live_keys.add(key)
                if row.name != base_name and model_name == "ERPConnection":
                    apps.get_model("connections", "ConnectionEvent").objects.create(
                        connection=row,
                        action="change",
                        changes={"name": [base_name, row.name]},
                    )
            row.name_key = key
            row.save(update_fields=["name", "name_key"])


def grant_support_sync_connections(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Support")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="connections",
            codename__in=["add_syncconnection", "change_syncconnection", "delete_syncconnection"],
        ),
        # Unlock a login locked by django-axes: delete its access attempts in the admin.
        *Permission.objects.filter(
            content_type__app_label="axes",
            codename__in=[
                "view_accessattempt",
                "delete_accessattempt",
                "view_accessfailurelog",
                "view_accesslog",
            ],
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0007_postgresql_search_indexes"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="erpconnection", name="unique_live_erp_connection_name"
        ),
        migrations.RemoveConstraint(
            model_name="syncconnection", name="unique_live_sync_connection_name"
        ),
        migrations.AddField(
            model_name="erpconnection",
            name="name_key",
            field=connections.names.NameKeyField(default="", source="name"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="syncconnection",
            name="name_key",
            field=connections.names.NameKeyField(default="", source="name"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="erpconnection",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False, verbose_name="Version"),
        ),
        migrations.CreateModel(
            name="SpentProof",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("nonce", models.CharField(max_length=64, unique=True)),
                ("spent_at", models.DateTimeField(auto_now_add=True, db_index=True)),
            ],
            options={
                "verbose_name": "spent test proof",
                "verbose_name_plural": "spent test proofs",
            },
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="erpconnection",
            constraint=models.UniqueConstraint(
                condition=Q(deleted_at__isnull=True),
                fields=("name_key",),
                name="unique_live_erp_connection_name_key",
                violation_error_message="A live connection with this name already exists.",
            ),
        ),
        migrations.AddConstraint(
            model_name="syncconnection",
            constraint=models.UniqueConstraint(
                condition=Q(deleted_at__isnull=True),
                fields=("name_key",),
                name="unique_live_sync_connection_name_key",
                violation_error_message="A live sync connection with this name already exists.",
            ),
        ),
        migrations.RunPython(grant_support_sync_connections, migrations.RunPython.noop),
        # The live list's sort and count, which the old unique constraint on lower(name)
        # used to serve.
        migrations.AddIndex(
            model_name="erpconnection",
            index=models.Index(
                django.db.models.functions.text.Lower("name"),
                condition=models.Q(("deleted_at__isnull", True)),
                name="erp_connection_live_name",
            ),
        ),
    ]

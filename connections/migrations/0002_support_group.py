"""Create the "Support" group: view connections and their history, restore, no change."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT_PERMISSIONS = [
    "view_erpconnection",
    "restore_erpconnection",
    "view_connectionevent",
    "view_syncconnection",
    "view_pricelist",
    "view_product",
]


def create_support_group(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Support")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="connections", codename__in=SUPPORT_PERMISSIONS
        )
    )


def remove_support_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Support").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_support_group, remove_support_group)]

# The list's count and search read indexes only (issue 13).

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('connections', '0008_hardening'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='erpconnection',
            name='erp_connection_live_name',
        ),
        migrations.AddIndex(
            model_name='erpconnection',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['deleted_at', 'name_key'], name='erp_connection_count'),
        ),
        migrations.AddIndex(
            model_name='erpconnection',
            index=models.Index(django.db.models.functions.text.Lower('name'), models.F('name_key'), condition=models.Q(('deleted_at__isnull', True)), name='erp_connection_live_name'),
        ),
    ]

"""``manage.py reencrypt_secrets``: re-encrypt every connection's secrets under the first key.

Run after putting a new key first in ``ERP_SECRET_KEYS``; afterwards the old keys can be
removed. Deleted connections are included. All or nothing: when any row cannot be decrypted
with the configured keys, nothing is changed and the command fails naming the connection ids.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from connections.crypto import SecretsUnreadable, rotate_token
from connections.models import ERPConnection


class Command(BaseCommand):
    help = "Re-encrypt the secrets of every ERP connection (deleted ones too) under the first key."

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        unreadable: list[int] = []
        with transaction.atomic():
            # Read first, then write: SQLite does not isolate a cursor from updates to its table.
            rows = list(
                ERPConnection.all_objects.exclude(secrets="")
                .order_by("pk")
                .values_list("pk", "secrets")
            )
            for pk, token in rows:
                try:
                    rotated = rotate_token(token)
                except SecretsUnreadable:
                    unreadable.append(pk)
                    continue
                # update(), not save(): re-encryption is not a change of the connection.
                ERPConnection.all_objects.filter(pk=pk).update(secrets=rotated)
                count += 1
            if unreadable:  # raising inside atomic() rolls every update back
                raise CommandError(
                    "Nothing was changed: the secrets of ERP connection(s) "
                    f"{', '.join(map(str, unreadable))} cannot be decrypted with any key in "
                    "ERP_SECRET_KEYS."
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted the secrets of {count} ERP connection(s) under the first key."
            )
        )

"""``manage.py test_erp_connection NAME``: test a saved connection from the shell.

Prints the test result; exits 0 when the test succeeded, 1 when it did not.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from connections import services
from connections.models import ERPConnection


class Command(BaseCommand):
    help = "Test a saved ERP connection by name; exit code 0 on success, 1 on failure."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="Name of the ERP connection (case-insensitive).")
        parser.add_argument(
            "--user",
            help="Username recorded as the tester (default: the first superuser).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        connection = ERPConnection.objects.filter(name__iexact=options["name"]).first()
        if connection is None:
            raise CommandError(f'No live ERP connection named "{options["name"]}".')
        actor = self._actor(options.get("user"))
        try:
            result = services.connection_test_saved(actor=actor, connection=connection)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"Connection:  {connection.name} ({connection.connector_key})")
        self.stdout.write(f"Status:      {result.status}")
        self.stdout.write(f"Message:     {result.message}")
        if result.technical_message:
            self.stdout.write(f"Technical:   {result.technical_message}")
        if result.error_code:
            self.stdout.write(f"Error code:  {result.error_code}")
        self.stdout.write(f"Duration:    {result.duration_ms} ms")
        if not result.succeeded:
            raise SystemExit(1)

    def _actor(self, username: str | None) -> Any:
        users = get_user_model().objects
        if username:
            try:
                return users.get(username=username)
            except users.model.DoesNotExist:
                raise CommandError(f'No user "{username}".') from None
        actor = users.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if actor is None:
            raise CommandError("No superuser to record as the tester; pass --user.")
        return actor

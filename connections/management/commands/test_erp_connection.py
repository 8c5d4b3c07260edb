"""``manage.py test_erp_connection NAME``: test a saved connection from the shell.

Prints the test result; exits 0 when the test succeeded, 1 when it did not. A run that this
machine's settings refuse (no keys to read the secrets, an address the outgoing-call rules
refuse) says what is missing and is not recorded as the connection's last test.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from connections import crypto, services
from connections.models import ERPConnection

DEMO_LINE = (
    "DEBUG=true ERP_ALLOW_PRIVATE_NETWORKS=true "
    '.venv/bin/python manage.py test_erp_connection "{name}"'
)


class Command(BaseCommand):
    help = "Test a saved ERP connection by name; exit code 0 on success, 1 on failure."
    # The missing-keys system check would stop the command before it can explain itself.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="Name of the ERP connection (case-insensitive).")
        parser.add_argument(
            "--user",
            help="Username recorded as the tester (default: the first superuser).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        connection = ERPConnection.objects.filter(name__iexact=name).first()
        if connection is None:
            raise CommandError(f'No live ERP connection named "{name}".')
        if connection.secrets and not settings.DEBUG and not crypto.configured_keys():
            raise CommandError(
                "ERP_SECRET_KEYS is not set, so the stored secrets cannot be read. Set it to "
                "the keys the secrets were encrypted with. The demo data of `make run` was "
                "encrypted in development mode (DEBUG=true); for it run:\n  "
                + DEMO_LINE.format(name=connection.name)
            )
        actor = self._actor(options.get("user"))
        try:
            result = services.connection_test_saved(
                actor=actor, connection=connection, record_environment_refusal=False
            )
        except services.TestRefusedByEnvironment as exc:
            raise CommandError(self._explain(exc.result, connection.name)) from None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"Connection:  {connection.name} ({connection.connector_label})")
        self.stdout.write(f"Status:      {result.status}")
        self.stdout.write(f"Message:     {result.message}")
        if result.technical_message:
            self.stdout.write(f"Technical:   {result.technical_message}")
        if result.error_code:
            self.stdout.write(f"Error code:  {result.error_code}")
        self.stdout.write(f"Duration:    {result.duration_ms} ms")
        if not result.succeeded:
            raise SystemExit(1)

    def _explain(self, result: Any, name: str) -> str:
        lines = [f"Not tested: {result.message}", f"({result.technical_message})"]
        if result.error_code == "address_not_allowed":
            lines.append(
                "Outgoing calls to loopback and private addresses are refused unless "
                "ERP_ALLOW_PRIVATE_NETWORKS=true (make run sets it for the demo ERP) or the "
                "host is listed in ERP_ALLOWED_HOSTS. For the demo run:\n  "
                + DEMO_LINE.format(name=name)
            )
        lines.append("This run was not recorded as the connection's last test.")
        return "\n".join(lines)

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

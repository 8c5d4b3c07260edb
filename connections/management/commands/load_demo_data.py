"""Load the demo data of ``make run``: users, groups, sync connections, the product register
and example ERP connections. Safe to run again: it adds what is missing and changes nothing
that exists."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import Group, Permission, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from connections import services
from connections.models import ERPConnection, PriceList, Product, SyncConnection
from connectors import registry
from connectors.demo_erp import make_server, serve_in_thread

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"  # demo only: printed by the command, documented in the README
DEMO_PASSWORD = "demo"

REGISTER = {
    ("Standard prices", "EUR"): [
        ("CHR-100", "Office chair Comfort", "189.00", "21", "pcs"),
        ("CHR-200", "Office chair Executive", "349.50", "21", "pcs"),
        ("DSK-140", "Desk 140 x 80 cm", "279.00", "21", "pcs"),
        ("DSK-160", "Sit-stand desk 160 x 80 cm", "629.00", "21", "pcs"),
        ("LMP-010", "Desk lamp LED", "49.95", "21", "pcs"),
        ("CAB-300", "Filing cabinet, 3 drawers", "215.00", "21", "pcs"),
        ("SRV-HR", "Installation service", "65.00", "21", "hour"),
        ("PAP-A4", "Copy paper A4, 500 sheets", "5.49", "9", "pack"),
    ],
    ("Export prices", "USD"): [
        ("CHR-100", "Office chair Comfort", "205.00", "0", "pcs"),
        ("DSK-140", "Desk 140 x 80 cm", "299.00", "0", "pcs"),
    ],
}


class Command(BaseCommand):
    help = "Load demo users, groups, sync connections, price lists and ERP connections."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--demo-erp-url",
            default="http://127.0.0.1:8001/",
            help="Base URL of the demo ERP for the example REST/JSON connection.",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        admin = self._admin()
        groups = {
            name: Group.objects.get_or_create(name=name)[0]
            for name in ["Sales North", "Sales South"]
        }
        support_group = Group.objects.get(name="Support")
        for username, first, last, group in [
            ("anna", "Anna", "de Vries", groups["Sales North"]),
            ("bram", "Bram", "Jansen", groups["Sales North"]),
            ("chloe", "Chloé", "Bakker", groups["Sales South"]),
            ("daan", "Daan", "Visser", None),
        ]:
            user = self._user(username, first_name=first, last_name=last)
            if group:
                user.groups.add(group)
        support = self._user("support", first_name="Sam", last_name="Support", is_staff=True)
        support.groups.add(support_group)

        sync, _ = SyncConnection.objects.get_or_create(
            name="CRM ERP Sync",
            defaults={"sync_connector": "erp_sync", "description": "Nightly customer sync."},
        )
        SyncConnection.objects.get_or_create(
            name="Legacy sync", defaults={"sync_connector": "erp_sync", "active": False}
        )
        self._register()
        self._connections(admin, groups, sync, options["demo_erp_url"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Administrator: username '{ADMIN_USERNAME}', "
                f"password '{ADMIN_PASSWORD}'. Sales users anna, bram, chloe, daan and support "
                f"user 'support' and manager 'manager' have password '{DEMO_PASSWORD}'."
            )
        )

    def _admin(self) -> User:
        admin, created = User.objects.get_or_create(
            username=ADMIN_USERNAME,
            defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com"},
        )
        if created:
            admin.set_password(ADMIN_PASSWORD)
            admin.save()
        return admin

    def _user(self, username: str, **fields: Any) -> User:
        user, created = User.objects.get_or_create(
            username=username, defaults={**fields, "email": f"{username}@example.com"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user

    def _register(self) -> None:
        for (name, currency), products in REGISTER.items():
            price_list, created = PriceList.objects.get_or_create(
                name=name,
                currency=currency,
                defaults={"valid_from": date.today() - timedelta(days=365)},
            )
            if not created:
                continue
            Product.objects.bulk_create(
                Product(
                    price_list=price_list,
                    code=code,
                    name=product_name,
                    price=Decimal(price),
                    vat=Decimal(vat),
                    unit=unit,
                )
                for code, product_name, price, vat, unit in products
            )

    def _connections(
        self, admin: User, groups: dict[str, Group], sync: SyncConnection, demo_erp_url: str
    ) -> None:
        """Example connections, created the way an administrator creates them: each one is
        tested first (against the demo ERP, served here for the moment) and saved with the
        test's proof."""
        if ERPConnection.all_objects.exists():
            return
        parts = urlsplit(demo_erp_url)
        server = None
        try:
            server = make_server(host=parts.hostname or "127.0.0.1", port=parts.port or 80)
            serve_in_thread(server)
        except OSError:
            pass  # already running (e.g. `make run` started it): test against that one
        try:
            with override_settings(ERP_ALLOWED_HOSTS=[parts.hostname or "127.0.0.1"]):
                self._create_examples(admin, groups, sync, demo_erp_url)
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()

    def _create(
        self, admin: User, connector_key: str, values: dict[str, Any], **fields: Any
    ) -> ERPConnection:
        config = registry.get_connector_class(connector_key).Config.model_validate(values)
        outcome = services.connection_test(
            actor=admin,
            connector_key=connector_key,
            config=config,
            sync_connection=fields.get("sync_connection"),
        )
        if not outcome.result.succeeded:
            raise CommandError(
                f"The demo connection {fields['name']!r} did not pass its test: "
                f"{outcome.result.message}"
            )
        connection = services.connection_create(
            actor=admin, connector_key=connector_key, config=config, proof=outcome.proof, **fields
        )
        services.connection_test_saved(actor=admin, connection=connection)
        return connection

    def _create_examples(
        self, admin: User, groups: dict[str, Group], sync: SyncConnection, demo_erp_url: str
    ) -> None:
        rules = {"price_decimals": 2, "rounding_mode": "half_up"}
        self._create(
            admin,
            "product_register",
            {**rules, "max_discount": "25"},
            name="Product register",
            description="The CRM's own price lists and products.",
        )
        demo = {
            "base_url": demo_erp_url,
            "authentication": "bearer",
            "api_token": "demo-token",
            **rules,
        }
        self._create(
            admin,
            "rest_json",
            {**demo, "max_discount": "15", "fallback_to_register": True},
            name="Demo ERP",
            description="The demo ERP that ships with the project (REST/JSON contract).",
            scope=ERPConnection.Scope.SPECIFIC,
            groups=[groups["Sales North"]],
            users=[User.objects.get(username="chloe")],
            sync_connection=sync,
        )
        self._create(
            admin,
            "rest_json",
            {**demo, "price_decimals": 3, "rounding_mode": "half_even"},
            name="Demo ERP (export)",
            description="Same demo ERP, three decimals for export quotes.",
            scope=ERPConnection.Scope.SPECIFIC,
            groups=[groups["Sales South"]],
        )
        retired = self._create(
            admin,
            "product_register",
            rules,
            name="Old price register",
            description="Replaced by the product register; kept to show restore.",
        )
        services.connection_delete(actor=admin, connection=retired)
        permission = Permission.objects.get(
            content_type__app_label="connections", codename="manage_erpconnection"
        )
        manager = self._user("manager", first_name="Mia", last_name="Manager", is_staff=True)
        manager.user_permissions.add(permission)

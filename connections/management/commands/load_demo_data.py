"""Load the demo data of ``make run``: users, groups, sync connections, the product register
and example ERP connections. Safe to run again: it adds what is missing and changes nothing
that exists."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.core.management.base import BaseCommand
from django.db import transaction

from connections.models import ERPConnection, PriceList, Product, SyncConnection

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
                f"user 'support' have password '{DEMO_PASSWORD}'."
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
        if ERPConnection.all_objects.exists():
            return
        ERPConnection.objects.create(
            name="Product register",
            connector_key="product_register",
            description="The CRM's own price lists and products.",
            config={"price_decimals": 2, "rounding_mode": "half_up", "max_discount": "25"},
            created_by=admin,
        )
        demo = ERPConnection.objects.create(
            name="Demo ERP",
            connector_key="rest_json",
            description="The demo ERP that ships with the project (REST/JSON contract).",
            scope=ERPConnection.Scope.SPECIFIC,
            sync_connection=sync,
            config={
                "base_url": demo_erp_url,
                "auth": "none",
                "timeout": 10,
                "verify_tls": True,
                "price_decimals": 2,
                "rounding_mode": "half_up",
                "max_discount": "15",
                "fallback_to_register": True,
            },
            created_by=admin,
        )
        demo.groups.add(groups["Sales North"])
        demo.users.add(User.objects.get(username="chloe"))
        for index in range(1, 4):
            ERPConnection.objects.create(
                name=f"Regional ERP {index}",
                connector_key="rest_json",
                description=f"Example connection for region {index}.",
                config={"base_url": f"https://erp{index}.example.com/api/", "auth": "none"},
                created_by=admin,
            )
        permission = Permission.objects.get(
            content_type__app_label="connections", codename="manage_erpconnection"
        )
        manager = self._user("manager", first_name="Mia", last_name="Manager", is_staff=True)
        manager.user_permissions.add(permission)

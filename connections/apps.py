from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = _("ERP connections")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the system checks and the range-safe ``__in`` lookup; load the quote
        connectors once, at start-up.

        A broken built-in connector raises here (a bug of this project); a broken plugin
        is recorded in ``connectors.registry.load_failures()`` and skipped.
        """
        from connections import (
            checks,  # noqa: F401  (registers the checks)
            lookups,
        )
        from connectors.registry import load_plugins

        lookups.register()
        load_plugins()

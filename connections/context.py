"""What connectors get from the application: the guarded HTTP client and the register."""

from __future__ import annotations

from django.conf import settings

from connections.register import DjangoProductRegister
from connectors.base import Context
from connectors.http import GuardPolicy, client_factory


def guard_policy() -> GuardPolicy:
    """The outgoing-call policy from ``ERP_ALLOW_PRIVATE_NETWORKS`` and ``ERP_ALLOWED_HOSTS``."""
    return GuardPolicy(
        allow_private=settings.ERP_ALLOW_PRIVATE_NETWORKS,
        allowed_hosts=frozenset(settings.ERP_ALLOWED_HOSTS),
    )


def connector_context() -> Context:
    """The context every connector is built with in the application."""
    return Context(http=client_factory(guard_policy()), register=DjangoProductRegister())

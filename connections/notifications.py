"""E-mail to the administrators who manage ERP connections (PRODUCT.md section 12)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from connections.models import TEST_STATUS_LABELS, ERPConnection

logger = logging.getLogger(__name__)


def connection_managers_emails() -> list[str]:
    """The e-mail addresses of active superusers and of active staff with the permission to
    manage ERP connections (directly or through a group)."""
    permission = Permission.objects.filter(
        content_type__app_label="connections", codename="manage_erpconnection"
    ).first()
    may_manage = Q(is_superuser=True)
    if permission is not None:
        may_manage |= Q(is_staff=True, user_permissions=permission)
        may_manage |= Q(is_staff=True, groups__permissions=permission)
    users = get_user_model().objects.filter(may_manage, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def availability_notify(*, connection_id: int, available: bool, message: str, status: str) -> int:
    """Tell the connection managers that a connection became unavailable or available again.

    Called once per change (after the commit that made it). A mail failure is logged and
    never breaks the check. Returns the number of messages sent (0 or 1).
    """
    connection = ERPConnection.all_objects.filter(pk=connection_id).first()
    recipients = connection_managers_emails()
    if connection is None or not recipients:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        status_label = str(TEST_STATUS_LABELS.get(status, status))
        if available:
            subject = _('ERP connection "%(name)s" is available again') % {"name": connection.name}
            intro = _('The ERP connection "%(name)s" is available again.')
        else:
            subject = _('ERP connection "%(name)s" is unavailable') % {"name": connection.name}
            intro = _(
                'The ERP connection "%(name)s" is unavailable: quotes cannot use it until a '
                "check or test succeeds again."
            )
        body = "\n".join(
            [
                intro % {"name": connection.name},
                "",
                _("Connection: %(name)s") % {"name": connection.name},
                _("Status: %(status)s") % {"status": status_label},
                _("Message: %(message)s") % {"message": message},
            ]
        )
    email = EmailMessage(
        subject=f"{settings.EMAIL_SUBJECT_PREFIX}{subject}",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    try:
        return email.send()
    except Exception:  # an unreachable mail server must not fail the health check
        logger.exception("Could not send the availability e-mail for connection %s", connection_id)
        return 0

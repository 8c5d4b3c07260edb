"""The automatic health check of saved connections (PRODUCT.md section 12).

Scheduling claims each live connection once per interval with one conditional UPDATE, so
any number of schedulers (cron on two machines) enqueue one check per connection per
interval. A check runs the connector's test of the saved values, bounded by the
connection's timeout, and records the result only when it is complete: a worker that dies
mid-check leaves the connection as it was.
"""

from __future__ import annotations

import secrets
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _, ngettext

from connections import services
from connections.context import connector_context
from connections.models import ERPConnection
from connectors.base import TestResult, TestStatus, run_test

# A connector whose configuration has no ``timeout`` (seconds) is stopped after this long.
DEFAULT_TIME_LIMIT = 30
# The connector's own timeout normally answers first, with its more precise message.
GRACE_SECONDS = 1


def health_interval() -> timedelta:
    """``ERP_HEALTH_INTERVAL`` minutes."""
    return timedelta(minutes=settings.ERP_HEALTH_INTERVAL)


def health_slot(now: datetime | None = None) -> datetime:
    """The start of the interval ``now`` falls in; intervals are counted from the Unix epoch,
    so every scheduler, on any machine, agrees on them."""
    now = now or timezone.now()
    length = health_interval().total_seconds()
    stamp = now.timestamp()
    return datetime.fromtimestamp(stamp - stamp % length, tz=UTC)


def connections_claim(*, now: datetime | None = None, force: bool = False) -> list[int]:
    """Claim the live connections not yet checked in the current interval; returns the ids
    this caller claimed (the ones it must check).

    One conditional UPDATE marks them with this interval and a fresh token: a concurrent
    scheduler's UPDATE finds them already marked (PostgreSQL re-evaluates the condition on
    the rows it waited for; SQLite runs writes one at a time). ``force`` claims every live
    connection, checked in this interval or not.
    """
    slot = health_slot(now)
    token = secrets.token_hex(16)
    due = ERPConnection.objects.all()
    if not force:
        due = due.filter(Q(health_slot__isnull=True) | Q(health_slot__lt=slot))
    due.update(health_slot=slot, health_claim=token)
    return list(
        ERPConnection.objects.filter(health_claim=token).order_by("pk").values_list("pk", flat=True)
    )


def claims_release(*, connection_ids: list[int]) -> None:
    """Give claimed connections back, so that the next scheduler run checks them."""
    ERPConnection.all_objects.filter(pk__in=connection_ids).update(health_slot=None)


@dataclass(frozen=True)
class CheckOutcome:
    """The result of one connection's health check."""

    connection_id: int
    name: str
    result: TestResult
    available: bool
    changed: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON for the task result (never a secret: test results hold none)."""
        return {
            "connection_id": self.connection_id,
            "name": self.name,
            "available": self.available,
            "changed": self.changed,
            **self.result.as_dict(),
        }


def connection_health_check(*, connection_id: int) -> CheckOutcome | None:
    """Check one saved connection and record the result (row, history, availability, e-mail).

    ``None`` when the connection is deleted (before or during the check).
    """
    connection = ERPConnection.objects.filter(pk=connection_id).first()
    if connection is None:
        return None
    result = connection_probe(connection=connection)
    recorded = services.connection_result_record(
        connection=connection, result=result, automatic=True
    )
    if recorded is None:
        return None
    return CheckOutcome(
        connection_id=connection.pk,
        name=connection.name,
        result=result,
        available=recorded.available,
        changed=recorded.changed,
    )


def connection_probe(*, connection: ERPConnection) -> TestResult:
    """The connector's test of the saved values, within the connection's time limit.

    Never raises for what a connector does: a missing connector, an invalid configuration,
    a connector that raises or one that does not return in time each yield an ``error``.
    """
    try:
        saved = services.connection_saved_config(connection=connection)
        if isinstance(saved, TestResult):
            return saved
        connector_cls, config = saved
        connector = connector_cls(connector_context())
    except Exception as exc:  # a plugin's bug (its Config, migrate_config or __init__)
        return TestResult(
            TestStatus.ERROR,
            _("The connector failed unexpectedly."),
            technical_message=f"{type(exc).__name__}: {exc}",
            error_code="connector_crashed",
        )
    return within_time_limit(_time_limit(config), lambda: run_test(connector, config))


def _time_limit(config: Any) -> int:
    timeout = getattr(config, "timeout", None)
    if isinstance(timeout, int | float) and timeout > 0:
        return int(timeout)
    return DEFAULT_TIME_LIMIT


class _TimeLimitReached(BaseException):
    """Raised by the alarm; a BaseException so ``run_test``'s ``except Exception`` lets it
    through to :func:`within_time_limit`."""


def within_time_limit(seconds: int, call: Callable[[], TestResult]) -> TestResult:
    """Run ``call``; past ``seconds`` (plus a grace second) stop it with an ``error`` result.

    The guarded HTTP client already bounds every call; this also stops a connector that
    blocks elsewhere. It uses ``SIGALRM``, so it applies in a process's main thread (the
    worker and the command run checks there); elsewhere only the client's own limits apply.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        return call()

    def expire(signum: int, frame: Any) -> None:
        raise _TimeLimitReached

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds + GRACE_SECONDS)
        try:
            return call()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _TimeLimitReached:
        return TestResult(
            TestStatus.ERROR,
            ngettext(
                "No answer within %(seconds)d second.",
                "No answer within %(seconds)d seconds.",
                seconds,
            )
            % {"seconds": seconds},
            technical_message=f"health check stopped after {seconds + GRACE_SECONDS} s",
            error_code="timeout",
            duration_ms=int((time.monotonic() - started) * 1000),
        )
    finally:
        signal.signal(signal.SIGALRM, previous)

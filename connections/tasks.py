"""Background tasks on Django's task framework (``django.tasks``).

With the default database backend a worker runs them: ``python manage.py db_worker``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.tasks import task

from connections import health

logger = logging.getLogger(__name__)


@task
def connection_health_check(connection_id: int) -> dict[str, Any]:
    """Check one connection (one task per connection, so workers check them in parallel)."""
    outcome = health.connection_health_check(connection_id=connection_id)
    if outcome is None:
        return {"connection_id": connection_id, "skipped": "deleted"}
    return outcome.as_dict()


@dataclass(frozen=True)
class Schedule:
    """What one scheduler run did: the connections it claimed and enqueued."""

    enqueued: list[int]
    result_ids: list[str]


def health_checks_schedule(*, force: bool = False) -> Schedule:
    """Enqueue a check of every live connection not yet claimed in this interval."""
    claimed = health.connections_claim(force=force)
    result_ids = []
    for done, connection_id in enumerate(claimed):
        try:
            result = connection_health_check.enqueue(connection_id=connection_id)
        except Exception:
            # The backend failed: the next run (here or on another machine) takes the rest.
            health.claims_release(connection_ids=claimed[done:])
            raise
        result_ids.append(result.id)
    logger.debug("Enqueued %d health checks", len(claimed))
    return Schedule(enqueued=claimed, result_ids=result_ids)

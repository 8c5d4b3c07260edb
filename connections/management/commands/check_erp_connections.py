"""``manage.py check_erp_connections``: the health-check schedule (PRODUCT.md section 12).

Without options it enqueues one check task per live connection not yet checked in the
current ``ERP_HEALTH_INTERVAL``; workers (``manage.py db_worker``) run them. Run it from
cron or a systemd timer every interval, on one machine or several: a connection is claimed
once per interval. ``--wait`` runs the claimed checks in this process instead and prints a
table; the exit code is 1 when any check failed. ``--loop`` repeats every interval.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from connections import health, tasks
from connections.health import CheckOutcome

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Enqueue a health check of every live ERP connection (once per ERP_HEALTH_INTERVAL); "
        "--wait runs them here and prints the results (exit code 1 when any failed)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--wait",
            action="store_true",
            help="Run the checks in this process, print a table, exit 1 when any failed.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Check every live connection, also those checked in this interval.",
        )
        parser.add_argument(
            "--loop",
            action="store_true",
            help="Keep running: schedule the checks again every ERP_HEALTH_INTERVAL minutes.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["loop"]:
            self._loop()
            return
        if not options["wait"]:
            schedule = tasks.health_checks_schedule(force=options["force"])
            self.stdout.write(f"Enqueued {len(schedule.enqueued)} health checks.")
            return
        claimed = health.connections_claim(force=options["force"])
        if not claimed:
            self.stdout.write(
                "Every live connection has been checked in this interval (use --force)."
            )
            return
        outcomes = [health.connection_health_check(connection_id=pk) for pk in claimed]
        done = [outcome for outcome in outcomes if outcome is not None]
        self._table(done)
        failed = [outcome for outcome in done if not outcome.result.succeeded]
        self.stdout.write(f"{len(done)} checked, {len(failed)} failed.")
        if failed:
            raise SystemExit(1)

    def _table(self, outcomes: list[CheckOutcome]) -> None:
        rows = [("Connection", "Status", "Available", "Duration", "Message")]
        rows += [
            (
                outcome.name,
                str(outcome.result.status),
                "yes" if outcome.available else "no",
                f"{outcome.result.duration_ms} ms",
                " ".join(str(outcome.result.message).split()),
            )
            for outcome in outcomes
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
            self.stdout.write("  ".join([*cells, row[4]]).rstrip())

    def _loop(self) -> None:
        """The schedule of ``make run``: enqueue, sleep until the next interval, repeat."""
        while True:
            try:
                schedule = tasks.health_checks_schedule()
            except DatabaseError:  # e.g. the database restarting: try again next interval
                logger.exception("Could not schedule the health checks")
            else:
                self.stdout.write(f"Enqueued {len(schedule.enqueued)} health checks.")
                self.stdout.flush()
            close_old_connections()  # hold no database connection while sleeping
            length = health.health_interval().total_seconds()
            time.sleep(length - time.time() % length + 1)

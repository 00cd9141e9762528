"""The daily check: every commitment's status (active, quiet, unknown, never), its alerts, digests.

Airflow's daily DAG calls ``run_quiet``; ``pledgewatch run`` calls it on every pass (it is
idempotent: a silent spell alerts once, a digest is owed once per channel and period). The
alerts it owes are delivered by the next ``run_alerts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alerts.digest import digest_alerts
from alerts.quiet import QuietOutcome, check_commitments
from models import session_scope
from pipeline.context import Context, record_run
from pipeline.match import sync_commitments


@dataclass
class QuietReport:
    outcome: QuietOutcome
    digests: int = 0

    def counts(self) -> dict[str, int]:
        return {**self.outcome.counts(), "digests": self.digests}


def run_quiet(ctx: Context, now: datetime | None = None) -> QuietReport:
    """Recompute commitment statuses (and owe digests) in one transaction."""
    with record_run(ctx, "quiet") as run:
        with session_scope(ctx.factory) as session:
            sync_commitments(session, ctx.catalog)
            outcome = check_commitments(session, ctx.alert_policy, now)
            digests = digest_alerts(session, ctx.alert_policy, now)
        report = QuietReport(outcome=outcome, digests=digests)
        run.counts = report.counts()
    return report

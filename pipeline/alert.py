"""The alert step: owe the source-health alerts, then deliver what the outbox owes.

Source-health rules run here, right before delivery, because this step runs after every
scrape chain (and on a short timer): a source that just crossed its failure threshold, or
just recovered, is reported within the same chain. Quiet/resumed/unknown and digests need a
day's perspective and run in the daily check (``pipeline.quiet.run_quiet``).

Without Slack settings the messages are printed (rich) and stay in the outbox as 'console'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts.deliver import DeliveryReport, deliver_pending
from alerts.health import check_sources
from alerts.transport import Transport, make_transport
from models import session_scope
from pipeline.context import Context, record_run


def run_alerts(
    ctx: Context, *, echo: Any = print, transport: Transport | None = None, now: datetime | None = None
) -> DeliveryReport:
    transport = transport or make_transport(ctx.slack, echo=echo)
    with record_run(ctx, "alert") as run:
        with session_scope(ctx.factory) as session:
            health = check_sources(session, ctx.alert_policy, now)
        report = deliver_pending(ctx.factory, transport, ctx.alert_policy, now=now)
        report.owed = health.alerts
        run.counts = {**report.counts(), "failing_sources": health.failing}
        run.errors = report.errors
    return report

"""The alert step: deliver what the outbox owes, through Slack or to the console."""

from __future__ import annotations

from typing import Any

from alerts.deliver import DeliveryReport, deliver_pending
from alerts.transport import make_transport
from pipeline.context import Context, record_run


def run_alerts(ctx: Context, *, echo: Any = print) -> DeliveryReport:
    transport = make_transport(ctx.slack, echo=echo)
    with record_run(ctx, "alert") as run:
        report = deliver_pending(
            ctx.factory,
            transport,
            default_channel=ctx.slack.channel,
            max_attempts=ctx.settings.alert_max_attempts,
            min_interval_s=ctx.slack.min_interval_s,
        )
        run.counts = report.counts()
        run.errors = report.errors
    return report

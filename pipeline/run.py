"""One full pass: scrape, match, check statuses, alert. What ``pledgewatch run`` and the demo do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alerts.deliver import DeliveryReport
from pipeline.alert import run_alerts
from pipeline.context import Context
from pipeline.match import MatchReport, run_match
from pipeline.quiet import QuietReport, run_quiet
from pipeline.scrape import run_scrape
from scrapers.crawl import ScrapeReport, SourceResult


@dataclass
class PassReport:
    scrape: ScrapeReport
    match: MatchReport
    quiet: QuietReport
    alerts: DeliveryReport

    def summary(self) -> dict[str, Any]:
        return {
            "scrape": self.scrape.counts(),
            "match": self.match.counts(),
            "quiet": self.quiet.counts(),
            "alerts": self.alerts.counts(),
        }


def run_pass(
    ctx: Context,
    *,
    force: bool = False,
    keys: list[str] | None = None,
    on_source_done: Callable[[SourceResult], None] | None = None,
    echo: Any = print,
) -> PassReport:
    scrape = run_scrape(ctx, keys=keys, force=force, on_source_done=on_source_done)
    match = run_match(ctx)
    quiet = run_quiet(ctx)  # idempotent: a silent spell alerts once, a digest once per period
    alerts = run_alerts(ctx, echo=echo)
    return PassReport(scrape=scrape, match=match, quiet=quiet, alerts=alerts)

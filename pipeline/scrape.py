"""The scrape step: sync the source registry, then scrape every due source."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from models import session_scope
from pipeline.context import Context, record_run
from pipeline.settings import Settings
from scrapers.crawl import CrawlPolicy, ScrapeReport, SourceResult, due_source_ids, scrape
from scrapers.registry import SourceSpec, load_registry, sync_sources


def crawl_policy(settings: Settings) -> CrawlPolicy:
    return CrawlPolicy(
        workers=settings.scrape_workers,
        backfill_pages=settings.backfill_pages,
        max_items=settings.max_items_per_source,
        recheck_after=timedelta(hours=settings.recheck_hours),
        processes=settings.extract_processes,
    )


def registry_specs(settings: Settings) -> list[SourceSpec]:
    return load_registry(settings.sources_file, include_builtin=settings.builtin_sources)


def sync_registry(ctx: Context) -> int:
    specs = registry_specs(ctx.settings)
    with session_scope(ctx.factory) as session:
        return len(sync_sources(session, specs, exclusive=True))


def run_scrape(
    ctx: Context,
    *,
    keys: list[str] | None = None,
    force: bool = False,
    on_source_done: Callable[[SourceResult], None] | None = None,
) -> ScrapeReport:
    """Scrape due sources (or ``keys``; ``force`` ignores the poll schedule)."""
    sync_registry(ctx)
    with session_scope(ctx.factory) as session:
        ids = due_source_ids(session, keys=keys, force=force)
    with record_run(ctx, "scrape") as run:
        report = scrape(
            ctx.factory,
            ctx.client,
            ids,
            run_id=run.id,
            policy=crawl_policy(ctx.settings),
            on_source_done=on_source_done,
        )
        run.counts = report.counts()
        run.errors = [f"{r.key}: {r.error}" for r in report.failed_sources]
        if report.failed_sources:
            run.status = "partial"
    return report

"""``pledgewatch sources list|check``: the sources we poll, their health, and a live check."""

from __future__ import annotations

import json
from datetime import datetime

import typer
from rich.table import Table
from sqlalchemy import select

from models import Source, session_scope, upgrade_database, utcnow
from pipeline.cli import console, sources_app
from pipeline.context import Context


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    # a moment just past is "0s ago", not "in 0s" (int() would truncate -0.4 s towards zero)
    seconds = (value - utcnow()).total_seconds()
    rel = f"in {_dur(int(seconds))}" if seconds > 0 else f"{_dur(int(-seconds))} ago"
    return f"{value:%Y-%m-%d %H:%M} ({rel})"


def _dur(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@sources_app.command("list")
def sources_list(as_json: bool = typer.Option(False, "--json", help="JSON lines.")) -> None:
    """Every source with its health: last success, failures in a row, next due."""
    from pipeline.scrape import sync_registry

    ctx = Context.from_env()
    try:
        upgrade_database(ctx.settings.effective_database_url)
        sync_registry(ctx)
        with session_scope(ctx.factory) as session:
            rows = list(session.scalars(select(Source).order_by(Source.key)))
        if as_json:
            for s in rows:
                config = s.config or {}
                print(
                    json.dumps(
                        {
                            "key": s.key,
                            "publisher": s.publisher,
                            "kind": s.kind,
                            "url": s.url,
                            "urls": [s.url, *config.get("urls", [])],
                            "languages": s.languages,
                            "poll_interval_minutes": s.poll_interval_s // 60,
                            "pattern": config.get("pattern"),
                            "allowed_hosts": config.get("allowed_hosts"),
                            "enabled": s.enabled,
                            "last_success_at": _iso(s.last_success_at),
                            "last_failure_at": _iso(s.last_failure_at),
                            "consecutive_failures": s.consecutive_failures,
                            "failing_since": _iso(s.failing_since),
                            "next_due_at": _iso(s.next_due_at),
                            "last_error": s.last_error,
                        }
                    )
                )
            return
        table = Table(
            "key",
            "publisher",
            "kind",
            "lang",
            "every",
            "on",
            "last success",
            "fails",
            "next due",
            "last error",
        )
        table.title = "Sources"
        for s in rows:
            table.add_row(
                s.key,
                s.publisher,
                s.kind,
                ",".join(s.languages or []),
                f"{s.poll_interval_s // 60}m",
                "yes" if s.enabled else "no",
                _when(s.last_success_at),
                str(s.consecutive_failures),
                _when(s.next_due_at) if s.enabled else "-",
                (s.last_error or "")[:80],
            )
        console.print(table)
    finally:
        ctx.close()


@sources_app.command("check")
def sources_check(
    keys: list[str] = typer.Argument(None, help="Source keys (default: every enabled source)."),
    samples: int = typer.Option(1, "--samples", "-n", help="Statements to fetch and extract per source."),
    include_disabled: bool = typer.Option(False, "--all", help="Check disabled sources too."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per source."),
) -> None:
    """Fetch each source now and say whether it still works; stores nothing.

    For every entry document: HTTP status, size, time, statement links found; then the first
    ``--samples`` statements are fetched and extracted (title, date, language, length). The
    exit status is 1 when a source failed, so this can run in a cron or CI job.
    """
    from pipeline.scrape import registry_specs
    from scrapers.check import check_source

    ctx = Context.from_env()
    try:
        specs = registry_specs(ctx.settings)
        if keys:
            unknown = sorted(set(keys) - {s.key for s in specs})
            if unknown:
                console.print(f"[red]unknown source key(s):[/red] {', '.join(unknown)}")
                raise typer.Exit(2)
            specs = [s for s in specs if s.key in keys]
        elif not include_disabled:
            specs = [s for s in specs if s.enabled]
        results = [check_source(ctx.client, spec, samples=samples) for spec in specs]
    finally:
        ctx.close()
    if as_json:
        for result in results:
            print(json.dumps(result.as_dict(), default=str))
    else:
        table = Table("key", "kind", "verdict", "entries", "links", "sample", "problem", title="Source check")
        for result in results:
            colour = {"ok": "green", "empty": "yellow"}.get(result.verdict, "red")
            entries = ", ".join(str(e.status or "-") for e in result.entries) or "-"
            links = str(sum(e.items for e in result.entries)) if result.entries else "-"
            sample = "; ".join(
                f"{s.chars} chars, {s.lang or '?'}, {s.method}" if not s.error else "error"
                for s in result.samples
            )
            table.add_row(
                result.key,
                result.kind,
                f"[{colour}]{result.verdict}[/{colour}]",
                entries,
                links,
                sample or "-",
                (result.problem or "")[:100],
            )
        console.print(table)
    if any(r.verdict == "failed" for r in results):
        raise typer.Exit(1)

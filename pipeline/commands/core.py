"""Core commands: database, configuration, the full pass, sources."""

from __future__ import annotations

import json
from datetime import datetime

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from models import Source, session_scope, upgrade_database, utcnow
from models.db import current_revision
from pipeline.cli import app, console, db_app, sources_app
from pipeline.context import Context
from pipeline.settings import load_settings


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    delta = value - utcnow()
    seconds = int(delta.total_seconds())
    rel = f"in {_dur(seconds)}" if seconds >= 0 else f"{_dur(-seconds)} ago"
    return f"{value:%Y-%m-%d %H:%M} ({rel})"


def _dur(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create or migrate the database schema (idempotent)."""
    settings = load_settings()
    url = settings.effective_database_url
    upgrade_database(url, revision)
    ctx = Context(settings=settings)
    console.print(
        f"database at revision [bold]{current_revision(ctx.engine)}[/bold]: {settings.masked()['database_url']}"
    )
    ctx.close()


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the configured database."""
    ctx = Context.from_env()
    console.print(current_revision(ctx.engine) or "(empty database)")
    ctx.close()


@app.command("config")
def config_cmd(as_json: bool = typer.Option(False, "--json", help="One JSON object.")) -> None:
    """Print the effective settings, secrets masked."""
    masked = load_settings().masked()
    if as_json:
        console.print_json(json.dumps(masked, default=str))
        return
    table = Table("setting", "value", "environment variable", title="PledgeWatch settings")
    for key, value in masked.items():
        table.add_row(
            key, json.dumps(value) if isinstance(value, dict) else str(value), f"PLEDGEWATCH_{key.upper()}"
        )
    console.print(table)


@app.command("run")
def run_cmd(
    force: bool = typer.Option(False, "--force", help="Poll every enabled source now, ignoring schedules."),
    source: list[str] = typer.Option([], "--source", "-s", help="Only these source keys (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON line."),
) -> None:
    """One full pass: scrape due sources, match new versions, deliver alerts."""
    from pipeline.run import run_pass

    ctx = Context.from_env()
    upgrade_database(ctx.settings.effective_database_url)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("scraping sources", total=None)

        def done(result):  # type: ignore[no-untyped-def]
            mark = "[green]ok[/green]" if result.ok else f"[red]failed[/red]: {result.error}"
            progress.console.print(
                f"  {result.key}: {mark} (discovered {result.discovered}, new {result.new_statements}, "
                f"changed {result.new_versions - result.new_statements}, item errors {result.failed_items})"
            )
            progress.advance(task)

        report = run_pass(ctx, force=force, keys=source or None, on_source_done=done, echo=console.print)
    summary = report.summary()
    if as_json:
        print(json.dumps(summary))
    else:
        s, m, a = summary["scrape"], summary["match"], summary["alerts"]
        console.print(
            f"[bold]pass done[/bold]: {s['sources']} sources ({s['sources_failed']} failed), "
            f"{s['new_statements']} new statements, {s['new_versions']} new versions; "
            f"{m['references']} references ({m['new_references']} new); "
            f"alerts: {a['sent']} sent to Slack, {a['printed']} printed, {a['retried']} to retry, {a['failed']} failed"
        )
    ctx.close()


@sources_app.command("list")
def sources_list(as_json: bool = typer.Option(False, "--json", help="JSON lines.")) -> None:
    """Every source with its health: last success, failures in a row, next due."""
    from pipeline.scrape import sync_registry

    ctx = Context.from_env()
    upgrade_database(ctx.settings.effective_database_url)
    sync_registry(ctx)
    with session_scope(ctx.factory) as session:
        rows = list(session.scalars(select(Source).order_by(Source.key)))
        if as_json:
            for s in rows:
                print(
                    json.dumps(
                        {
                            "key": s.key,
                            "publisher": s.publisher,
                            "kind": s.kind,
                            "url": s.url,
                            "enabled": s.enabled,
                            "last_success_at": s.last_success_at.isoformat() if s.last_success_at else None,
                            "consecutive_failures": s.consecutive_failures,
                            "next_due_at": s.next_due_at.isoformat() if s.next_due_at else None,
                            "last_error": s.last_error,
                        }
                    )
                )
            return
        table = Table(
            "key",
            "publisher",
            "kind",
            "on",
            "last success",
            "fails",
            "next due",
            "last error",
            title="Sources",
        )
        for s in rows:
            table.add_row(
                s.key,
                s.publisher,
                s.kind,
                "yes" if s.enabled else "no",
                _when(s.last_success_at),
                str(s.consecutive_failures),
                _when(s.next_due_at),
                (s.last_error or "")[:80],
            )
        console.print(table)
    ctx.close()

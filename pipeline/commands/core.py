"""Core commands: database, configuration, the full pass."""

from __future__ import annotations

import json

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from models import upgrade_database
from models.db import current_revision
from pipeline.cli import app, console, db_app
from pipeline.context import Context
from pipeline.settings import load_settings


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

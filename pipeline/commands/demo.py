"""``pledgewatch demo``: one full pass over the bundled demo site, offline."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import func, select

from models import Alert, Reference, Statement, Version, session_scope, upgrade_database
from pipeline.cli import app, console
from pipeline.context import Context


@app.command("demo")
def demo_cmd(
    data_dir: Path | None = typer.Option(
        None, help="Keep the demo database here (default: a temporary directory)."
    ),
    passes: int = typer.Option(
        2, help="Passes to run; the second shows that nothing is stored or sent twice."
    ),
) -> None:
    """Serve a small demo site on loopback and run full passes over it: statements, references, alerts."""
    from pipeline.demo import demo_sources, serve_site
    from pipeline.run import run_pass

    workdir = data_dir or Path(tempfile.mkdtemp(prefix="pledgewatch-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    server, base = serve_site()
    registry = workdir / "demo-sources.yaml"
    registry.write_text(demo_sources(base), encoding="utf-8")
    ctx = Context.from_env(
        trigger="demo",
        data_dir=workdir,
        database_url=f"sqlite:///{workdir / 'demo.db'}",
        sources_file=registry,
        builtin_sources=False,
        allow_private_addresses=True,  # the demo site is on loopback
        min_delay_s=0.05,
        delay_jitter_s=0.0,
    )
    console.print(f"[bold]PledgeWatch demo[/bold]: site at {base}, database in {workdir}")
    upgrade_database(ctx.settings.effective_database_url)
    try:
        for n in range(1, passes + 1):
            started = time.monotonic()
            console.rule(f"pass {n}")
            report = run_pass(ctx, force=True, echo=console.print)
            s, m, a = report.summary()["scrape"], report.summary()["match"], report.summary()["alerts"]
            console.print(
                f"pass {n} in {time.monotonic() - started:.1f}s: {s['new_statements']} new statements, "
                f"{s['new_versions']} new versions, {m['new_references']} new references, "
                f"{a['sent'] + a['printed']} alerts delivered"
            )
        with session_scope(ctx.factory) as session:
            table = Table("statement", "lang", "references", title="Stored statements")
            for st in session.scalars(select(Statement).order_by(Statement.id)):
                refs = session.scalars(
                    select(Reference.commitment_id)
                    .where(Reference.statement_id == st.id)
                    .order_by(Reference.commitment_id)
                ).all()
                table.add_row(st.title or st.url, st.lang or "?", ", ".join(refs) or "-")
            console.print(table)
            counts = {
                "statements": session.scalar(select(func.count()).select_from(Statement)),
                "versions": session.scalar(select(func.count()).select_from(Version)),
                "references": session.scalar(select(func.count()).select_from(Reference)),
                "alerts": session.scalar(select(func.count()).select_from(Alert)),
            }
            console.print("totals: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    finally:
        server.shutdown()
        ctx.close()

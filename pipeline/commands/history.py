"""Analyst commands: a statement's history, references, timelines, exports and the report.

All read-only, all through ``models.history`` (the ``v_*`` views). Scraped text is shown
through ``rich.text.Text`` so that a title like ``[bold]`` or ``[/]`` is printed, never
interpreted as console markup.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from models import history
from models.history import HistoryError
from models.timeutil import utcnow
from pipeline.cli import app, console, err_console
from pipeline.context import Context

SINCE_HELP = "From this date: YYYY, YYYY-MM, YYYY-MM-DD or an ISO timestamp (UTC)."
UNTIL_HELP = "Up to and including this date (a year, month or day: to its end)."


def _fail(message: str) -> typer.Exit:
    err_console.print(Text.assemble(("error: ", "red"), message))
    return typer.Exit(2)


def parse_when(value: str, *, end: bool = False) -> datetime:
    """A point in time from a year, a month, a day or an ISO timestamp (naive = UTC).

    With ``end``, a year, month or day means its end (exclusive), so ``--until 2025`` keeps all
    of 2025; a full timestamp is taken as given.
    """
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}(-\d{2})?", text):
            label = text
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = datetime.fromisoformat(text).replace(tzinfo=UTC)
            return day + (timedelta(days=1) if end else timedelta())
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        start, stop = history.period_bounds(label)
        return stop if end else start
    except ValueError as exc:
        raise typer.BadParameter(f"not a date: {value!r} (YYYY, YYYY-MM, YYYY-MM-DD or ISO 8601)") from exc


def _window(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    return (
        parse_when(since) if since else None,
        parse_when(until, end=True) if until else None,
    )


@contextmanager
def _session() -> Iterator[tuple[Context, Session]]:
    """A read-only session on the configured database, after checking the views exist."""
    ctx = Context.from_env()
    try:
        missing = set(history.VIEW_NAMES) - set(inspect(ctx.engine).get_view_names())
        if missing:
            raise _fail(
                f"the analyst views are missing ({', '.join(sorted(missing))}): run `pledgewatch db upgrade`"
            )
        with ctx.factory() as session:
            yield ctx, session
            session.rollback()
    except HistoryError as exc:
        raise _fail(str(exc)) from exc
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    finally:
        ctx.close()


def _day(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d}" if value else "-"


def _minute(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "-"


def _short(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _print_json(value: Any) -> None:
    print(json.dumps(_jsonable(value), ensure_ascii=False))


# --- history ------------------------------------------------------------------------------


def _parse_diff(spec: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*\.\.\s*(\d+)\s*", spec)
    if not match:
        raise typer.BadParameter(f"--diff wants two version numbers like 1..3, not {spec!r}")
    return int(match.group(1)), int(match.group(2))


def _resolve_statement(session: Session, target: str) -> history.StatementInfo:
    if target.isdigit():
        return history.find_statement(session, statement_id=int(target))
    from scrapers.urls import url_hash

    try:
        key = url_hash(target)
    except ValueError:
        key = None
    return history.find_statement(session, url_hash=key, url=target)


@app.command("history")
def history_cmd(
    target: str = typer.Argument(..., help="A statement id, or the statement's URL."),
    diff: str | None = typer.Option(None, "--diff", help="Compare two versions, e.g. 1..3."),
    show: int | None = typer.Option(None, "--show", help="Print the full text of version N."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object."),
) -> None:
    """Every version of a statement, what changed in each, and a diff between any two."""
    pair = _parse_diff(diff) if diff else None
    with _session() as (_ctx, session):
        statement = _resolve_statement(session, target)
        versions = history.statement_versions(session, statement.id)
        compared = history.diff_versions(session, statement.id, *pair) if pair else None
        shown = history.version_text(session, statement.id, show)[0] if show else None
    if as_json:
        _print_json(
            {
                "statement": asdict(statement),
                "versions": [asdict(v) for v in versions],
                "diff": {**asdict(compared), "added": compared.added, "removed": compared.removed}
                if compared
                else None,
                "text": shown,
            }
        )
        return
    console.print(Text(statement.title or "(no title)", style="bold"))
    console.print(
        Text(
            f"{statement.url}\nstatement {statement.id} · {statement.publisher or '?'} · "
            f"published {_day(statement.published_at)} · {statement.lang or '?'} · "
            f"{statement.version_count} versions · first seen {_minute(statement.first_seen_at)}"
        )
    )
    table = Table("v", "fetched (UTC)", "chars", "change", "commitments", title="Versions")
    for v in versions:
        if v.change_kind == "first":
            change = Text("first version", style="dim")
        else:
            change = Text(f"+{len(v.added)} / -{len(v.removed)} paragraphs ", style="bold")
            change.append(f"(+{v.added_chars} / -{v.removed_chars} chars)")
            for paragraph in v.added[:2]:
                change.append(f"\n+ {_short(paragraph, 90)}", style="green")
            for paragraph in v.removed[:2]:
                change.append(f"\n- {_short(paragraph, 90)}", style="red")
        table.add_row(str(v.seq), _minute(v.fetched_at), str(v.text_chars), change, ", ".join(v.commitments))
    console.print(table)
    if compared is not None:
        _print_diff(compared)
    if shown is not None:
        console.print(Text(f"\nversion {show}:", style="bold"))
        console.print(Text(shown))


def _print_diff(compared: history.VersionDiff) -> None:
    if not compared.lines:
        console.print(Text(f"versions {compared.from_seq} and {compared.to_seq} have the same text"))
        return
    for line in compared.lines:
        if line.startswith(("---", "+++")):
            console.print(Text(line, style="bold"))
        elif line.startswith("@@"):
            console.print(Text(line, style="cyan"))
        elif line.startswith("+"):
            console.print(Text(line, style="green"))
        elif line.startswith("-"):
            console.print(Text(line, style="red"))
        else:
            console.print(Text(line, style="dim"))


# --- references ---------------------------------------------------------------------------


def _evidence(ref: history.ReferenceRow, limit: int = 220) -> Text:
    text = Text(ref.evidence)
    span = ref.cue_span
    if span:
        text.stylize("bold yellow", *span)
        if len(ref.evidence) > limit:
            left = max(0, min(span[0] - limit // 3, len(ref.evidence) - limit))
            text = text[left : left + limit]
    elif len(ref.evidence) > limit:
        text = text[:limit]
    return text


@app.command("references")
def references_cmd(
    commitment: str = typer.Option(..., "--commitment", "-c", help="Commitment id, e.g. c2a.4.2."),
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
    until: str | None = typer.Option(None, "--until", help=UNTIL_HELP),
    publisher: str | None = typer.Option(None, "--publisher", help="Only this publisher (any case)."),
    lang: str | None = typer.Option(None, "--lang", help="Only this language: en, fr, es..."),
    new_only: bool = typer.Option(False, "--new-only", help="Only new references (not re-confirmations)."),
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines, one reference each."),
) -> None:
    """The statements that referred to a commitment, with the evidence sentence and the cue."""
    start, end = _window(since, until)
    with _session() as (_ctx, session):
        state = history.require_commitment(session, commitment)
        refs = history.find_references(
            session,
            commitment,
            since=start,
            until=end,
            publisher=publisher,
            lang=lang,
            new_only=new_only,
            limit=limit,
        )
    if as_json:
        for ref in refs:
            _print_json(asdict(ref))
        return
    table = Table(
        "date",
        "publisher",
        "lang",
        "statement",
        "cue",
        "evidence",
        "score",
        "new",
        title=Text(f"{commitment} — {state.title}: {len(refs)} references"),
        show_lines=True,
    )
    for ref in refs:
        statement = Text(_short(ref.title, 70) + "\n", style="bold")
        statement.append(Text(ref.url, style="dim", overflow="fold"))
        flags = ("yes" if ref.is_new else "again") + (" (implied)" if ref.implied else "")
        table.add_row(
            _day(ref.referenced_at),
            Text(ref.publisher or "?"),
            ref.lang or "?",
            statement,
            Text(ref.cue),
            _evidence(ref),
            f"{ref.score:.2f}",
            flags,
        )
    console.print(table)


# --- timeline -----------------------------------------------------------------------------


@app.command("timeline")
def timeline_cmd(
    commitment: str = typer.Option(..., "--commitment", "-c", help="Commitment id, e.g. c2a.7.4."),
    by: str = typer.Option("month", "--by", help="month, quarter or year."),
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP + " Default: the first reference."),
    until: str | None = typer.Option(None, "--until", help=UNTIL_HELP + " Default: now."),
    plot: Path | None = typer.Option(None, "--plot", help="Also draw it: FILE.png or FILE.html."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object."),
) -> None:
    """New references to a commitment per period, by publisher, with its quiet periods."""
    if by not in history.GRAINS:
        raise typer.BadParameter(f"--by is one of {', '.join(history.GRAINS)}, not {by!r}")
    if plot is not None and plot.suffix.lower() not in {".png", ".html", ".htm"}:
        raise typer.BadParameter(f"--plot writes .png or .html, not {plot.name!r}")
    start, end = _window(since, until)
    with _session() as (ctx, session):
        timeline = history.commitment_timeline(
            session,
            commitment,
            by=by,
            since=start,
            until=end,
            default_threshold_days=ctx.settings.quiet_default_days,
            now=utcnow(),
        )
    if plot is not None:
        _write_plot(timeline, plot)
    if as_json:
        _print_json(
            {
                "commitment_id": timeline.commitment_id,
                "title": timeline.title,
                "by": timeline.by,
                "threshold_days": timeline.threshold_days,
                "publishers": timeline.publishers,
                "periods": [asdict(p) for p in timeline.periods],
                "quiet_spans": [list(span) for span in timeline.quiet_spans],
                "plot": str(plot) if plot else None,
            }
        )
        return
    shown = timeline.publishers[:5]
    folded = len(timeline.publishers) > len(shown)
    table = Table(
        title=Text(f"{timeline.commitment_id} — {timeline.title}"),
        caption=f"new = new references; quiet after {timeline.threshold_days} days without one",
    )
    table.add_column(by)
    table.add_column("new", justify="right")
    for name in shown:
        table.add_column(Text(_short(name, 24)), justify="right")
    if folded:
        table.add_column("others", justify="right")
    table.add_column("all refs", justify="right")
    table.add_column("statements", justify="right")
    table.add_column("")
    for p in timeline.periods:
        others = p.new_references - sum(p.by_publisher.get(name, 0) for name in shown)
        table.add_row(
            p.label,
            str(p.new_references),
            *(str(p.by_publisher.get(name, 0) or "") for name in shown),
            *([str(others or "")] if folded else []),
            str(p.references),
            str(p.statements),
            Text("quiet", style="red") if p.quiet else "",
        )
    console.print(table)
    if plot is not None:
        console.print(Text(f"chart written to {plot}"))


def _write_plot(timeline: history.Timeline, path: Path) -> None:
    from pipeline.charts import png_bytes, timeline_figure
    from pipeline.report import timeline_page

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".png":
        path.write_bytes(png_bytes(timeline_figure(timeline)))
    else:
        path.write_text(timeline_page(timeline), encoding="utf-8")


# --- export -------------------------------------------------------------------------------


@app.command("export")
def export_cmd(
    what: str = typer.Option(..., "--what", help="references, statements or changes."),
    fmt: str = typer.Option("csv", "--format", help="csv, jsonl or parquet."),
    out: Path | None = typer.Option(None, "--out", "-o", help="File to write (default: standard output)."),
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
    until: str | None = typer.Option(None, "--until", help=UNTIL_HELP),
    commitment: str | None = typer.Option(None, "--commitment", "-c", help="References to this one only."),
    batch_size: int = typer.Option(10_000, "--batch-size", min=1, help="Rows held in memory at once."),
) -> None:
    """Export the history (one view) in batches: references, statements, or changes."""
    from pipeline.export import EXPORTS, FORMATS, export

    if what not in EXPORTS:
        raise typer.BadParameter(f"--what is one of {', '.join(EXPORTS)}, not {what!r}")
    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format is one of {', '.join(FORMATS)}, not {fmt!r}")
    start, end = _window(since, until)
    with _session() as (_ctx, session):
        if commitment is not None:
            history.require_commitment(session, commitment)
        result = export(
            session,
            what,
            fmt,
            out=out,
            stream=sys.stdout,
            since=start,
            until=end,
            commitment_id=commitment,
            batch_size=batch_size,
        )
    if out is not None:
        err_console.print(Text(f"exported {result.rows} {what} rows as {fmt} to {out}"))


# --- report -------------------------------------------------------------------------------


@app.command("report")
def report_cmd(
    since: str = typer.Option(..., "--since", help=SINCE_HELP),
    until: str | None = typer.Option(None, "--until", help=UNTIL_HELP + " Default: now."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="The HTML file to write."),
    newest: int = typer.Option(50, "--newest", min=0, help="How many of the newest references to show."),
    title: str = typer.Option("PledgeWatch report", "--title", help="The page title."),
) -> None:
    """A self-contained HTML report: every commitment's status and timeline, the newest
    references with their evidence, and source health."""
    from pipeline.report import gather_report, render_report

    start, end = _window(since, until)
    assert start is not None
    with _session() as (ctx, session):
        data = gather_report(
            session,
            since=start,
            until=end,
            newest=newest,
            default_threshold_days=ctx.settings.quiet_default_days,
        )
    page = render_report(data, title=title)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    partial.write_text(page, encoding="utf-8")
    partial.replace(out)
    console.print(
        Text(
            f"report written to {out}: {len(data.states)} commitments, {len(data.timelines)} timelines, "
            f"{len(data.references)} references, {len(data.sources)} sources ({len(page) // 1024} KiB)"
        )
    )

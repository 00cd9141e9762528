"""Monitors' commands: the alert outbox (``alerts list|resend|mute|unmute``) and ``commitments status``.

Every decision stays in ``alerts/``: the outbox query and the resend rule (``alerts.outbox``),
mutes (``alerts.mute``), the status evidence (``alerts.quiet``, read through the
``v_commitment_status`` view by ``models.history``). These commands parse, call, and print.

Titles, publishers, evidence and errors are scraped or come from Slack: they are printed
through ``rich.text.Text`` (literally), never as console markup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import typer
from rich.style import Style
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from alerts.mute import active_mutes, muted_until, set_mute, shown_status
from alerts.outbox import KINDS, MUTED, STATUSES, alert_query, count_alerts, describe, resend
from alerts.quiet import status_details
from models import Alert, Commitment, CommitmentStatus, history, session_scope, upgrade_database, utcnow
from models.history import HistoryError
from pipeline.cli import alerts_app, commitments_app, console, err_console
from pipeline.commands.history import parse_when
from pipeline.context import Context, record_run
from pipeline.dashboard import id_sort_key

SHOWN_STATUSES = ("active", "quiet", "unknown", "muted", "never", "unchecked")
_DURATION = re.compile(r"\s*(\d+)\s*([hdw])\s*", re.IGNORECASE)
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
UNTIL_HELP = (
    "Muted through this date: YYYY-MM-DD (the whole day), an ISO timestamp (UTC), or a duration "
    "from now such as 12h, 30d, 6w."
)
SINCE_HELP = (
    "Created from: YYYY, YYYY-MM, YYYY-MM-DD, an ISO timestamp (UTC), or a duration back such as 24h, 7d."
)


def _fail(message: str) -> typer.Exit:
    err_console.print(Text.assemble(("error: ", "red"), message))
    return typer.Exit(2)


def _moment(value: str, option: str, *, future: bool, end: bool) -> datetime:
    """A point in time from a date (see ``parse_when``) or a duration (ahead or back from now)."""
    match = _DURATION.fullmatch(value)
    if match:
        span = int(match.group(1)) * _UNITS[match.group(2).lower()]
        return utcnow() + span if future else utcnow() - span
    try:
        return parse_when(value, end=end)
    except typer.BadParameter as exc:
        raise typer.BadParameter(f"{exc} or a duration like 30d", param_hint=option) from exc


def _check_choices(values: list[str], allowed: tuple[str, ...], option: str) -> None:
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise typer.BadParameter(
            f"{', '.join(repr(w) for w in wrong)}: use {', '.join(allowed)}", param_hint=option
        )


@contextmanager
def _database() -> Iterator[tuple[Context, Session]]:
    """The configured database, migrated, with one session committed on success."""
    ctx = Context.from_env()
    try:
        upgrade_database(ctx.settings.effective_database_url)
        with session_scope(ctx.factory) as session:
            yield ctx, session
    except HistoryError as exc:
        raise _fail(str(exc)) from exc
    finally:
        ctx.close()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _minute(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "-"


def _day(value: datetime | str | None) -> str:
    if value is None:
        return "-"
    return f"{value:%Y-%m-%d}" if isinstance(value, datetime) else str(value)[:10]


def _days(value: float | None) -> str:
    return "-" if value is None else f"{round(value)} d"


def _require_commitment(ctx: Context, session: Session, commitment_id: str) -> history.CommitmentState:
    """The commitment, synced from the catalog first if the database has not seen it yet.

    So that a monitor can mute a commitment before the first pass ever referred to it.
    """
    if session.get(Commitment, commitment_id) is None and ctx.catalog.get(commitment_id) is not None:
        from pipeline.match import sync_commitments

        sync_commitments(session, ctx.catalog)
    return history.require_commitment(session, commitment_id)


# --- alerts list ----------------------------------------------------------------------------


def _alert_json(row: Alert) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "dedup_key": row.dedup_key,
        "commitment_id": row.commitment_id,
        "statement_id": row.statement_id,
        "source_id": row.source_id,
        "channel": row.channel,
        "attempts": row.attempts,
        "created_at": _iso(row.created_at),
        "next_attempt_at": _iso(row.next_attempt_at),
        "sent_at": _iso(row.sent_at),
        "slack_ts": row.slack_ts,
        "slack_channel": row.slack_channel,
        "last_error": row.last_error,
        "summary": describe(row),
        "resend_of": (row.payload or {}).get("resend_of"),
        "payload": row.payload,
    }


_STATUS_STYLE = {
    "sent": "green",
    "pending": "yellow",
    "sending": "yellow",
    "failed": "red",
    "unconfirmed": "magenta",
    "muted": "dim",
    "console": "cyan",
}


def _outcome(row: Alert) -> Text:
    """What happened to it: Slack's timestamp, the next attempt, or the last problem."""
    if row.status == "sent":
        text = Text(f"sent {_minute(row.sent_at)}")
        if row.slack_ts:
            text.append(f" ts {row.slack_ts}", style="dim")
        return text
    text = Text()
    if row.status == "pending" and row.next_attempt_at:
        text.append(f"next try {_minute(row.next_attempt_at)}")
    if row.last_error:
        if text:
            text.append("\n")
        text.append(" ".join(row.last_error.split())[:160], style="dim")
    return text


@alerts_app.command("list")
def alerts_list(
    status: list[str] = typer.Option(
        [], "--status", "-s", help=f"Only these (repeatable): {', '.join(STATUSES)}."
    ),
    kind: list[str] = typer.Option([], "--kind", "-k", help=f"Only these (repeatable): {', '.join(KINDS)}."),
    commitment: str | None = typer.Option(
        None, "--commitment", "-c", help="Alerts about this commitment and those under it."
    ),
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines, one alert each, with its payload."),
) -> None:
    """The outbox: what is owed, sent, failed, unconfirmed or held by a mute, newest first."""
    _check_choices(status, STATUSES, "--status")
    _check_choices(kind, KINDS, "--kind")
    start = _moment(since, "--since", future=False, end=False) if since else None
    with _database() as (ctx, session):
        if commitment:
            _require_commitment(ctx, session, commitment)
        query = alert_query(statuses=status, kinds=kind, commitment=commitment, since=start)
        total = count_alerts(session, query)
        rows = list(session.scalars(query.limit(limit)))
        if as_json:
            for row in rows:
                print(json.dumps(_alert_json(row), ensure_ascii=False, default=str))
            return
        filters = ", ".join(
            part
            for part in (
                f"status {'/'.join(status)}" if status else "",
                f"kind {'/'.join(kind)}" if kind else "",
                f"commitment {commitment}" if commitment else "",
                f"since {_minute(start)} UTC" if start else "",
            )
            if part
        )
        table = Table(
            title=Text(f"Alert outbox{f' ({filters})' if filters else ''}"),
            caption=f"{len(rows)} of {total} shown, newest first"
            + (" (--limit for more)" if total > len(rows) else ""),
            show_lines=True,
        )
        for name in ("id", "created (UTC)", "kind", "status"):
            table.add_column(name, no_wrap=True, justify="right" if name == "id" else "left")
        table.add_column("about", ratio=3, min_width=30, overflow="fold")
        table.add_column("channel", ratio=1)
        table.add_column("tries", no_wrap=True, justify="right")
        table.add_column("outcome", ratio=2, min_width=16, overflow="fold")
        for row in rows:
            about = Text(describe(row))
            if (row.payload or {}).get("resend_of"):
                about.append(f"\nresend of alert {row.payload['resend_of'].get('alert_id')}", style="dim")
            table.add_row(
                str(row.id),
                _minute(row.created_at),
                row.kind,
                Text(row.status, style=_STATUS_STYLE.get(row.status, "")),
                about,
                Text(row.channel or "-"),
                str(row.attempts),
                _outcome(row),
            )
        console.print(table)
        held = {r.status for r in rows} & {"muted", "failed", "unconfirmed", "console"}
        if held:
            console.print(
                Text(
                    "`pledgewatch alerts resend ID...` delivers one of these now "
                    f"({', '.join(sorted(held))}); an unconfirmed one only after a look at the channel."
                )
            )


# --- alerts resend --------------------------------------------------------------------------


@alerts_app.command("resend")
def alerts_resend(
    alert_ids: list[int] = typer.Argument(None, help="Alert ids, from `pledgewatch alerts list`."),
    status: list[str] = typer.Option(
        [], "--status", "-s", help="Instead of ids: every alert with this status (repeatable), e.g. failed."
    ),
    kind: list[str] = typer.Option([], "--kind", "-k", help="With --status: only these kinds."),
    commitment: str | None = typer.Option(
        None,
        "--commitment",
        "-c",
        help="With --status: only alerts about this commitment (and those under it).",
    ),
    queue_only: bool = typer.Option(
        False,
        "--queue-only",
        help="Only owe them; the next pass (or the Airflow alerts timer) delivers them.",
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON lines, one per alert asked for."),
) -> None:
    """Deliver alerts once more: each request is exactly one more delivery, on record.

    An alert not known to be on Slack (muted, failed, unconfirmed, printed, pending) is owed
    again itself. An alert already sent gets a copy with a key of its own (resend:<id>:<n>),
    marked as a resend in Slack; the original keeps its record. Then the sender runs (unless
    --queue-only), delivering these with everything else now due.
    """
    ids = list(dict.fromkeys(alert_ids or []))
    _check_choices(status, STATUSES, "--status")
    _check_choices(kind, KINDS, "--kind")
    if ids and (status or kind or commitment):
        raise typer.BadParameter("give alert ids, or --status (with --kind/--commitment), not both")
    if not ids and not status:
        raise typer.BadParameter("which alerts? give their ids, or --status (e.g. --status failed)")
    ctx = Context.from_env()
    try:
        upgrade_database(ctx.settings.effective_database_url)
        with session_scope(ctx.factory) as session:
            if commitment:
                try:
                    _require_commitment(ctx, session, commitment)
                except HistoryError as exc:
                    raise _fail(str(exc)) from exc
            if ids:
                found = set(session.scalars(alert_query(ids=ids).with_only_columns(Alert.id)))
                unknown = [str(i) for i in ids if i not in found]
                if unknown:
                    raise _fail(
                        f"no alert {', '.join(unknown)} in the outbox (`pledgewatch alerts list` shows the ids); nothing resent"
                    )
        with record_run(ctx, "resend") as run:
            with session_scope(ctx.factory) as session:
                if ids:
                    by_id = {r.id: r for r in session.scalars(alert_query(ids=ids))}
                    rows = [by_id[i] for i in ids]
                else:
                    rows = list(
                        reversed(
                            list(
                                session.scalars(
                                    alert_query(statuses=status, kinds=kind, commitment=commitment)
                                )
                            )
                        )
                    )
                done = resend(session, rows)
            run.counts = {
                "asked": len(done),
                "requeued": sum(1 for d in done if d.queued_id == d.alert_id),
                "copied": sum(1 for d in done if d.queued_id not in (None, d.alert_id)),
                "left": sum(1 for d in done if d.queued_id is None),
            }
        if not done:
            console.print(Text("no alert matches: nothing resent"))
            return
        report = None
        if not queue_only and any(d.queued_id for d in done):
            from pipeline.alert import run_alerts

            report = run_alerts(ctx, echo=err_console.print if as_json else console.print)
        with session_scope(ctx.factory) as session:
            final = {
                r.id: r for r in session.scalars(alert_query(ids=[d.queued_id for d in done if d.queued_id]))
            }
            session.expunge_all()
    finally:
        ctx.close()

    failed = False
    for d in done:
        row = final.get(d.queued_id) if d.queued_id else None
        now_status = row.status if row else d.was
        failed = failed or now_status in ("failed", "unconfirmed")
        if as_json:
            print(
                json.dumps(
                    {
                        "alert_id": d.alert_id,
                        "was": d.was,
                        "queued_id": d.queued_id,
                        "copy": d.queued_id not in (None, d.alert_id),
                        "status": now_status,
                        "dedup_key": row.dedup_key if row else None,
                        "slack_ts": row.slack_ts if row else None,
                        "note": d.note,
                    }
                )
            )
            continue
        line = Text(f"alert {d.alert_id} ({d.was}): {d.note}")
        if row is not None and d.queued_id != d.alert_id:
            line.append(f" → alert {row.id}")
        if row is not None:
            style = _STATUS_STYLE.get(row.status, "")
            line.append(" · now ")
            line.append(row.status, style=style)
            if row.status == "sent" and row.slack_ts:
                line.append(f" (ts {row.slack_ts})", style="dim")
            elif row.last_error and row.status != "pending":
                line.append(f" ({' '.join(row.last_error.split())[:160]})", style="dim")
        console.print(line)
    if not as_json:
        if report is not None:
            console.print(
                Text(
                    f"sender: {report.sent} sent to Slack, {report.printed} printed, {report.retried} to retry, "
                    f"{report.failed} failed, {report.unconfirmed} unconfirmed"
                )
            )
            for error in report.errors:
                console.print(Text(error, style="red"))
        elif queue_only:
            console.print(
                Text("queued: the next `pledgewatch run` (or the Airflow alerts timer) delivers them")
            )
    if failed:
        raise typer.Exit(1)


# --- alerts mute / unmute -------------------------------------------------------------------


@alerts_app.command("mute")
def alerts_mute(
    commitment: str = typer.Argument(..., help="Commitment id; a parent or family mutes those under it."),
    until: str = typer.Option(..., "--until", help=UNTIL_HELP),
    reason: str | None = typer.Option(
        None, "--reason", help="Why, for the other monitors (shown in the status)."
    ),
) -> None:
    """Hold a commitment's alerts until a date; its status keeps being computed.

    Alerts owed meanwhile are kept as 'muted' (never dropped: `alerts list --status muted`,
    `alerts resend`). Muting again replaces the date; `alerts unmute` lifts it.
    """
    end = _moment(until, "--until", future=True, end=True)
    if end <= utcnow():
        raise typer.BadParameter(
            f"{until!r} is in the past; `pledgewatch alerts unmute {commitment}` lifts a mute",
            param_hint="--until",
        )
    with _database() as (ctx, session):
        state = _require_commitment(ctx, session, commitment)
        held = set_mute(session, commitment, end, (reason or "").strip() or None)
        under = sum(
            1 for s in history.commitment_states(session) if s.commitment_id.startswith(commitment + ".")
        )
    line = Text(f"muted {commitment} — {state.title}")
    if under:
        line.append(f" (and the {under} commitment{'s' if under != 1 else ''} under it)")
    line.append(f" until {end:%Y-%m-%d %H:%M} UTC")
    if reason:
        line.append(f": {reason.strip()}")
    console.print(line)
    console.print(
        Text(
            f"{held} pending alert(s) held now; alerts owed meanwhile are kept as 'muted' "
            f"(`pledgewatch alerts list --status muted -c {commitment}`)."
        )
    )


@alerts_app.command("unmute")
def alerts_unmute(commitment: str = typer.Argument(..., help="Commitment id.")) -> None:
    """Lift a mute now. Alerts held while it lasted stay listed; `alerts resend` sends them."""
    with _database() as (ctx, session):
        state = _require_commitment(ctx, session, commitment)
        row = session.get(CommitmentStatus, commitment)
        now = utcnow()
        was_muted = row is not None and row.muted_until is not None and row.muted_until > now
        if was_muted:
            set_mute(session, commitment, None)
        held = count_alerts(session, alert_query(statuses=[MUTED], commitment=commitment))
        still = muted_until(commitment, active_mutes(session, now))
    if was_muted:
        console.print(Text(f"unmuted {commitment} — {state.title}"))
    else:
        console.print(Text(f"{commitment} had no mute of its own running: nothing to lift"))
    if still is not None:
        console.print(Text(f"still muted through a parent until {still:%Y-%m-%d %H:%M} UTC"))
    if held:
        console.print(
            Text(
                f"{held} alert(s) held while muted: `pledgewatch alerts resend --status muted -c {commitment}` "
                "sends them"
            )
        )


# --- commitments status ---------------------------------------------------------------------


def _status_json(state: history.CommitmentState, shown: str, details: dict[str, Any]) -> dict[str, Any]:
    last = details.get("last_reference") or None
    statement = (last or {}).get("statement") or {}
    return {
        "commitment_id": state.commitment_id,
        "title": state.title,
        "parent_id": state.parent_id,
        "family": state.family,
        "level": state.level,
        "status": shown,
        "computed_status": state.status,
        "since": _iso(state.status_since),
        "reason": details.get("reason"),
        "last_reference": {
            "at": last.get("at"),
            "reference_id": last.get("reference_id"),
            "statement_id": statement.get("id"),
            "title": statement.get("title"),
            "publisher": statement.get("publisher"),
            "url": statement.get("url"),
            "history_url": last.get("history_url"),
        }
        if last
        else None,
        "gap_days": state.gap_days,
        "usual_gap_days": state.usual_gap_days,
        "threshold_days": state.threshold_days,
        "threshold_source": details.get("threshold_source"),
        "source_health": state.source_health,
        "sources": details.get("sources") or [],
        "muted_until": _iso(state.muted_until),
        "mute_reason": state.mute_reason,
        "checked_at": _iso(state.checked_at),
        "reference_count": state.reference_count,
        "new_reference_count": state.new_reference_count,
    }


_SHOWN_STYLE = {
    "active": "green",
    "quiet": "red",
    "unknown": "yellow",
    "muted": "dim",
    "never": "",
    "unchecked": "dim",
}


def _status_cell(computed: str, shown: str) -> Text:
    """The status a monitor sees; under a mute, the computed one beneath it."""
    cell = Text(shown, style=_SHOWN_STYLE.get(shown, ""))
    if shown != computed:
        cell.append(f"\n({computed})", style=_SHOWN_STYLE.get(computed, ""))
    return cell


def _last_reference_cell(details: dict[str, Any]) -> Text:
    last = details.get("last_reference")
    if not last:
        return Text("never", style="dim")
    statement = last.get("statement") or {}
    title = " ".join(str(statement.get("title") or "(untitled)").split())
    cell = Text(f"{_day(last.get('at'))} ")
    cell.append(title[:90] + ("…" if len(title) > 90 else ""), style="bold")
    if statement.get("publisher"):
        cell.append(f" ({statement['publisher']})")
    url = statement.get("url")
    if url:
        cell.append("\n")
        cell.append(str(url), style=Style(dim=True, link=str(url)))
    return cell


def _note(
    state: history.CommitmentState, shown: str, details: dict[str, Any], until: datetime | None
) -> Text:
    parts: list[str] = []
    if shown == "muted" and until is not None:
        own = state.muted_until is not None and state.muted_until >= until
        parts.append(
            f"muted until {_minute(until)} UTC"
            + (f": {state.mute_reason}" if own and state.mute_reason else "")
            + ("" if own else " (a parent's mute)")
        )
    if state.status == "unknown":
        reason = details.get("reason")
        parts.append(
            {"sources": "its sources were failing", "too_early": "watched for less than a threshold"}.get(
                str(reason), str(reason or "")
            )
        )
    if state.status == "unchecked":
        parts.append("not checked yet: `pledgewatch run`")
    return Text("; ".join(p for p in parts if p))


@commitments_app.command("status")
def commitments_status(
    status: list[str] = typer.Option(
        [], "--status", "-s", help=f"Only these (repeatable): {', '.join(SHOWN_STATUSES)}."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON lines, one commitment each."),
) -> None:
    """Every tracked commitment's attention status, with its evidence.

    As of the last check (every pass, and the daily Airflow check): status and since when,
    the last reference (with its link), the gap in days against the usual gap and the
    threshold, and how healthy its sources were over that window. Quiet is a measurement,
    not a verdict; unknown means we could not look.
    """
    _check_choices(status, SHOWN_STATUSES, "--status")
    with _database() as (_ctx, session):
        now = utcnow()
        states = history.commitment_states(session)
        details = status_details(session)
        mutes = active_mutes(session, now)
    rows = []
    for state in sorted(states, key=lambda s: id_sort_key(s.commitment_id)):
        shown = shown_status(state.status, state.commitment_id, mutes)
        if status and shown not in status:
            continue
        rows.append((state, shown, details.get(state.commitment_id, {})))
    if as_json:
        for state, shown, extra in rows:
            print(json.dumps(_status_json(state, shown, extra), ensure_ascii=False, default=str))
        return
    if not states:
        console.print(Text("no commitments yet: `pledgewatch run` syncs the catalog and checks them"))
        return
    checked = max((s.checked_at for s in states if s.checked_at), default=None)
    counts: dict[str, int] = {}
    for _, shown, _ in rows:
        counts[shown] = counts.get(shown, 0) + 1
    table = Table(
        title="Commitments",
        caption=(
            ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            + f" · as of the last check {_minute(checked)} UTC · sources = share of the window "
            "the sources that usually mention it were fetched"
        ),
        show_lines=True,
    )
    table.add_column("id", no_wrap=True)
    table.add_column("commitment", ratio=2, min_width=16)
    table.add_column("status", no_wrap=True)
    table.add_column("since", no_wrap=True)
    table.add_column("last reference", ratio=3, min_width=20, overflow="fold")
    for name in ("gap", "usual gap", "threshold", "sources"):
        table.add_column(name, no_wrap=True, justify="right")
    table.add_column("note", ratio=2, min_width=12)
    for state, shown, extra in rows:
        until = muted_until(state.commitment_id, mutes)
        threshold = "-" if state.threshold_days is None else f"{state.threshold_days} d"
        if extra.get("threshold_source") == "default":
            threshold += "\n(default)"
        table.add_row(
            state.commitment_id,
            Text(state.title),
            _status_cell(state.status, shown),
            _day(state.status_since),
            _last_reference_cell(extra),
            _days(state.gap_days),
            _days(state.usual_gap_days),
            threshold,
            "-" if state.source_health is None else f"{round(state.source_health * 100)}%",
            _note(state, shown, extra, until),
        )
    console.print(table)

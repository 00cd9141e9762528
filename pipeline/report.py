"""The shareable report: one self-contained HTML file.

Inline CSS, charts inlined as SVG, no script and no external resource, so the file can be
mailed, attached to a ticket or opened offline and always looks the same. Everything that came
from a scraped page (titles, evidence, cues, publishers, URLs, error messages) is HTML-escaped
here, at the one place where it becomes markup; links are kept only for http(s) URLs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from models.history import (
    CommitmentState,
    HistoryCounts,
    ReferenceRow,
    SourceHealth,
    Timeline,
    commitment_states,
    commitment_timeline,
    find_references,
    history_counts,
    new_references_by_commitment,
    source_health,
)
from models.timeutil import as_utc, utcnow
from pipeline.charts import svg_text, timeline_figure

EVIDENCE_LIMIT = 600
STATUS_HELP = {
    "active": "referenced within its threshold",
    "quiet": "no new reference for longer than its threshold while sources were healthy",
    "unknown": "no new reference, but the sources were not healthy enough to call it quiet",
    "muted": "quiet alerts muted by a monitor",
    "never": "never referenced",
    "unchecked": "the quiet check has not run for it yet",
}


@dataclass
class ReportData:
    since: datetime
    until: datetime
    generated_at: datetime
    counts: HistoryCounts
    states: list[CommitmentState]
    new_in_window: dict[str, int]
    timelines: list[Timeline]
    references: list[ReferenceRow]
    sources: list[SourceHealth]


def report_grain(since: datetime, until: datetime) -> str:
    """Months up to three years, then quarters: a chart keeps a readable number of bars."""
    return "month" if until - since <= timedelta(days=3 * 366) else "quarter"


def gather_report(
    session: Session,
    *,
    since: datetime,
    until: datetime | None = None,
    newest: int = 50,
    default_threshold_days: int = 90,
    now: datetime | None = None,
) -> ReportData:
    """Everything the report shows, read in one session (one consistent snapshot on PostgreSQL
    when the session is in a repeatable-read transaction)."""
    now = as_utc(now) or utcnow()
    since = as_utc(since) or since
    until = as_utc(until) or now
    if since >= until:
        raise ValueError(f"the report window is empty: {since:%Y-%m-%d} is not before {until:%Y-%m-%d}")
    states = commitment_states(session)
    by = report_grain(since, until)
    timelines = [
        commitment_timeline(
            session,
            state.commitment_id,
            by=by,
            since=since,
            until=until,
            default_threshold_days=default_threshold_days,
            now=min(now, until),
        )
        for state in states
        if state.reference_count
    ]
    return ReportData(
        since=since,
        until=until,
        generated_at=now,
        counts=history_counts(session, since=since, until=until),
        states=states,
        new_in_window=new_references_by_commitment(session, since=since, until=until),
        timelines=timelines,
        references=find_references(session, since=since, until=until, limit=newest),
        sources=source_health(session, since=since, until=until),
    )


# --- rendering ----------------------------------------------------------------------------


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _day(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d}" if value else "—"


def _minute(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "—"


def _link(url: str | None, text: str | None) -> str:
    """A link only for http(s): a scraped ``javascript:`` URL stays inert text."""
    label = esc(text or url or "")
    if url and urlsplit(url).scheme.lower() in {"http", "https"}:
        return f'<a href="{esc(url)}" rel="noopener noreferrer">{label}</a>'
    return label


def _status(status: str) -> str:
    css = re.sub(r"[^a-z]", "", status.lower()) or "unchecked"
    return f'<span class="badge s-{css}" title="{esc(STATUS_HELP.get(status, ""))}">{esc(status)}</span>'


def evidence_html(ref: ReferenceRow) -> str:
    """The evidence sentence, escaped, with the cue that fired marked."""
    evidence, span = ref.evidence, ref.cue_span
    if span is None:
        return esc(_clip(evidence, 0, len(evidence))[0])
    start, end = span
    clipped, offset = _clip(evidence, start, end)
    start, end = start - offset, end - offset
    return f"{esc(clipped[:start])}<mark>{esc(clipped[start:end])}</mark>{esc(clipped[end:])}"


def _clip(text: str, start: int, end: int) -> tuple[str, int]:
    """At most EVIDENCE_LIMIT characters around [start, end); returns the text and its offset."""
    if len(text) <= EVIDENCE_LIMIT:
        return text, 0
    left = max(0, min(start - (EVIDENCE_LIMIT - (end - start)) // 2, len(text) - EVIDENCE_LIMIT))
    clipped = text[left : left + EVIDENCE_LIMIT]
    prefix = "…" if left else ""
    suffix = "…" if left + EVIDENCE_LIMIT < len(text) else ""
    return prefix + clipped + suffix, left - len(prefix)


CSS = """
:root { --ink:#1d2330; --muted:#5b6475; --line:#e3e6ec; --bg:#fbfbfd; --accent:#0072B2; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: var(--bg); margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px;
  border-bottom: 2px solid var(--line); padding-bottom: 4px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; }
.card b { display: block; font-size: 22px; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f1f3f7; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; }
.s-active { background: #d7f0e3; color: #0b6b3a; } .s-quiet { background: #fde2dd; color: #9b2c1a; }
.s-unknown { background: #fff1c2; color: #7a5a00; } .s-muted { background: #e6e6e6; color: #444; }
.s-never, .s-unchecked { background: #eef0f4; color: #5b6475; }
.s-ok { background: #d7f0e3; color: #0b6b3a; } .s-failing { background: #fde2dd; color: #9b2c1a; }
figure { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 12px 0; padding: 8px; }
figure svg { width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12px; }
.ref { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; margin: 10px 0; }
.ref .meta { color: var(--muted); font-size: 12px; }
.ref blockquote { margin: 6px 0 0; padding-left: 10px; border-left: 3px solid var(--accent); }
mark { background: #ffe58a; padding: 0 1px; }
.err { color: #9b2c1a; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
footer { color: var(--muted); font-size: 12px; margin-top: 40px; }
"""


def _page(title: str, body: Iterable[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)}</title><style>{CSS}</style></head>",
            "<body><main>",
            *body,
            "</main></body></html>",
        ]
    )


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], *, numeric: Collection[int] = ()) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    lines = [f"<table><thead><tr>{head}</tr></thead><tbody>"]
    for row in rows:
        cells = "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        lines.append(f"<tr>{cells}</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _timeline_figure(timeline: Timeline) -> str:
    svg = svg_text(timeline_figure(timeline), element_id=f"tl-{timeline.commitment_id}")
    quiet = (
        f"; shaded: quiet (no new reference for more than {timeline.threshold_days} days)"
        if timeline.quiet_spans
        else ""
    )
    caption = (
        f"{esc(timeline.commitment_id)}: {timeline.total_new} new references per {esc(timeline.by)}, "
        f"stacked by publisher{quiet}."
    )
    anchor = esc(f"timeline-{timeline.commitment_id}")
    return f'<figure id="{anchor}">{svg}<figcaption>{caption}</figcaption></figure>'


def _reference_card(ref: ReferenceRow) -> str:
    kind = "new reference" if ref.is_new else "still referenced in a revised version"
    if ref.implied:
        kind += ", implied by a more specific commitment"
    meta = " · ".join(
        esc(part)
        for part in (
            _day(ref.referenced_at),
            ref.commitment_id,
            ref.publisher or "(unknown publisher)",
            (ref.lang or "?").upper(),
            f"cue “{ref.cue}”",
            f"score {ref.score:.2f}",
            kind,
        )
    )
    return (
        f'<div class="ref"><div class="meta">{meta}</div>'
        f"<div>{_link(ref.url, ref.title or ref.url)} <small>(version {ref.version_seq})</small></div>"
        f"<blockquote>{evidence_html(ref)}</blockquote></div>"
    )


def _sources_table(data: ReportData) -> str:
    rows = []
    for s in data.sources:
        state = (
            f'<span class="badge s-failing">failing since {_day(s.failing_since)}</span>'
            if s.consecutive_failures
            else '<span class="badge s-ok">ok</span>'
        )
        if not s.enabled:
            state += " (disabled)"
        ratio = f"{s.ok_ratio:.0%}" if s.ok_ratio is not None else "—"
        rows.append(
            [
                esc(s.key),
                esc(s.publisher),
                esc(s.kind),
                state,
                str(s.consecutive_failures),
                str(s.polls),
                str(s.failed_polls),
                ratio,
                _minute(s.last_success_at),
                f'<span class="err">{esc((s.last_error or "")[:300])}</span>',
            ]
        )
    return _table(
        [
            "source",
            "publisher",
            "kind",
            "now",
            "failures in a row",
            "polls",
            "failed",
            "ok",
            "last success",
            "last error",
        ],
        rows,
        numeric={4, 5, 6, 7},
    )


def _status_table(data: ReportData) -> str:
    rows = []
    for s in data.states:
        anchor = f"timeline-{s.commitment_id}"
        cid = (
            f'<a href="#{esc(anchor)}">{esc(s.commitment_id)}</a>'
            if s.reference_count
            else esc(s.commitment_id)
        )
        note = esc(s.mute_reason or "")
        if s.status == "muted" and s.muted_until:
            note = f"until {_day(s.muted_until)}" + (f": {note}" if note else "")
        rows.append(
            [
                cid,
                esc(s.title),
                _status(s.status),
                _day(s.status_since),
                _day(s.last_referenced_at),
                str(data.new_in_window.get(s.commitment_id, 0)),
                str(s.new_reference_count),
                f"{s.threshold_days} d" if s.threshold_days else "—",
                f"{s.source_health:.0%}" if s.source_health is not None else "—",
                note,
            ]
        )
    return _table(
        [
            "id",
            "commitment",
            "status",
            "since",
            "last new reference",
            "new in window",
            "new, all time",
            "quiet after",
            "source health",
            "note",
        ],
        rows,
        numeric={5, 6},
    )


def render_report(data: ReportData, *, title: str = "PledgeWatch report") -> str:
    counts = data.counts
    failing = sum(1 for s in data.sources if s.consecutive_failures)
    quiet = sum(1 for s in data.states if s.status == "quiet")
    cards = [
        (counts.statements, "new statements"),
        (counts.changed_versions, "revised versions"),
        (counts.new_references, "new references"),
        (quiet, "quiet commitments"),
        (failing, "sources failing now"),
    ]
    body = [
        f"<header><h1>{esc(title)}</h1>",
        f'<p class="sub">{_day(data.since)} to {_day(data.until)} · generated {_minute(data.generated_at)} UTC</p>',
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{n}</b>{esc(label)}</div>' for n, label in cards)
        + "</div></header>",
        '<section id="status"><h2>Commitments</h2>',
        _status_table(data),
        "</section>",
        '<section id="timelines"><h2>Timelines</h2>',
        *(_timeline_figure(t) for t in data.timelines),
        "" if data.timelines else "<p>No commitment has been referenced yet.</p>",
        "</section>",
        f'<section id="references"><h2>Newest references ({len(data.references)})</h2>',
        *(_reference_card(r) for r in data.references),
        "" if data.references else "<p>No reference in this window.</p>",
        "</section>",
        '<section id="sources"><h2>Source health</h2>',
        _sources_table(data),
        "</section>",
        "<footer><p>A reference counts from the statement's publication date (its first version) or "
        "from when a revised version was fetched. <em>Quiet</em> is a measurement, not a verdict: no new "
        "reference for longer than the commitment's threshold while its sources were healthy; shaded "
        "spans replay that rule over the history. Polls and failures are counted within the window.</p>"
        "</footer>",
    ]
    return _page(title, body)


def timeline_page(timeline: Timeline) -> str:
    """A single timeline as a self-contained HTML page: the chart and its numbers."""
    publishers = timeline.publishers
    rows = [
        [
            esc(p.label) + (" <small>(quiet)</small>" if p.quiet else ""),
            str(p.new_references),
            *(str(p.by_publisher.get(name, 0)) for name in publishers),
            str(p.references),
        ]
        for p in timeline.periods
    ]
    table = _table(
        [timeline.by, "new references", *publishers, "all references"],
        rows,
        numeric=set(range(1, len(publishers) + 3)),
    )
    body = [
        f"<h1>{esc(timeline.commitment_id)} — {esc(timeline.title)}</h1>",
        f'<p class="sub">{timeline.total_new} new references · generated {_minute(timeline.now)} UTC</p>',
        _timeline_figure(timeline),
        table,
    ]
    return _page(f"{timeline.commitment_id} timeline", body)

"""HTML for the Commitments dashboard: plain pages, inline CSS, an inline SVG timeline.

Everything that came from a scraped page (titles, evidence, URLs, errors) is untrusted: every
value goes through ``esc`` and every link through ``safe_href``, so a page can neither inject
markup nor smuggle a ``javascript:`` link into the Airflow UI. Links between dashboard pages
are built from ``base`` (the plugin's mount point) and URL-quoted ids.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from html import escape
from urllib.parse import quote, urlsplit

from pipeline.dashboard import (
    HEALTH_DAYS,
    STATUSES,
    TIMELINE_WEEKS,
    WINDOWS,
    CommitmentDetail,
    CommitmentRow,
    ReferenceView,
    SourceDetail,
    SourceRow,
)

STATUS_COLOURS = {
    "active": "#1a7f37",
    "resumed": "#1a7f37",
    "quiet": "#bf8700",
    "unknown": "#6e7781",
    "muted": "#8250df",
    "never": "#6e7781",
    "unchecked": "#afb8c1",
    "ok": "#1a7f37",
    "failing": "#cf222e",
    "never polled": "#6e7781",
    "disabled": "#afb8c1",
}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:16px 24px;
color:#1f2328;background:#fff;font-size:14px}
h1{font-size:22px;margin:4px 0 12px}h2{font-size:17px;margin:20px 0 8px}
nav.pw a{margin-right:14px;font-weight:600}a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:6px 8px;
text-align:left;vertical-align:top}th{background:#f6f8fa;font-weight:600;white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums}.badge{display:inline-block;padding:1px 8px;
border-radius:10px;color:#fff;font-size:12px;white-space:nowrap}.muted{color:#656d76}
blockquote{margin:4px 0;padding:2px 8px;border-left:3px solid #d0d7de;color:#424a53}
mark{background:#fff8c5;padding:0 1px}.summary span{margin-right:14px}.lvl-action td.id{padding-left:22px}
.lvl-family{background:#f6f8fa}.err{color:#cf222e;max-width:420px;overflow-wrap:anywhere}
td.d,th.d{white-space:nowrap}.under{display:block;margin-top:3px;font-size:12px;color:#656d76;white-space:nowrap}
.badge.small{font-size:11px;padding:0 6px}a.filter{text-decoration:none;color:#1f2328}a.filter.on .badge{outline:2px solid #1f2328}
svg text{font:10px system-ui,sans-serif;fill:#656d76}
"""


def esc(value: object) -> str:
    return "" if value is None else escape(str(value), quote=True)


def safe_href(url: str | None) -> str:
    """An http(s) URL, escaped for an attribute; anything else becomes an inert '#'."""
    if not url:
        return "#"
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return "#"
    return esc(url.strip()) if scheme in {"http", "https"} else "#"


def fmt_time(value: datetime | None, with_time: bool = False) -> str:
    if value is None:
        return '<span class="muted">–</span>'
    return esc(value.strftime("%Y-%m-%d %H:%M UTC" if with_time else "%Y-%m-%d"))


def badge(status: str, *, small: bool = False) -> str:
    colour = STATUS_COLOURS.get(status, "#6e7781")
    cls = "badge small" if small else "badge"
    return f'<span class="{cls}" style="background:{colour}">{esc(status)}</span>'


def highlight(text: str, cue: str | None) -> str:
    """Escape ``text``, marking the first case-insensitive occurrence of ``cue``."""
    if cue:
        found = re.search(re.escape(cue), text, flags=re.IGNORECASE)
        if found:
            start, end = found.span()
            return f"{esc(text[:start])}<mark>{esc(text[start:end])}</mark>{esc(text[end:])}"
    return esc(text)


def timeline_svg(
    weekly: list[int], now: datetime, *, width: int = 208, height: int = 34, axis: bool = False
) -> str:
    """One bar per week over the last year, the latest on the right; hover shows the week.

    With ``axis``, the first week of each quarter is labelled under the bars and the peak beside them.
    """
    peak = max(weekly) if weekly else 0
    bar = width / max(1, len(weekly))
    chart_h = height - 14 if axis else height
    bars, ticks = [], []
    for i, count in enumerate(weekly):
        week_start = now - timedelta(weeks=TIMELINE_WEEKS - i)
        h = 0.0 if not peak else max(2.0, (chart_h - 2) * count / peak)
        colour = "#0969da" if count else "#eaeef2"
        shown = h if count else 2.0
        bars.append(
            f'<rect x="{i * bar:.1f}" y="{chart_h - shown:.1f}" width="{max(1.0, bar - 1):.1f}" '
            f'height="{shown:.1f}" fill="{colour}" data-count="{count}"><title>week of {week_start:%Y-%m-%d}: '
            f"{count} new reference(s)</title></rect>"
        )
        week_end = week_start + timedelta(days=6)
        if axis and week_end.day <= 7 and week_end.month in (1, 4, 7, 10):  # holds a quarter's 1st day
            x = min(i * bar, width - 44)
            ticks.append(
                f'<line x1="{i * bar:.1f}" x2="{i * bar:.1f}" y1="{chart_h:.1f}" y2="{chart_h + 3:.1f}" '
                f'stroke="#8c959f"/><text x="{x:.1f}" y="{height - 1}">{week_end:%b %Y}</text>'
            )
    label = f"new references per week over the last year, peak {peak}"
    if axis and peak:
        ticks.append(f'<text x="{width + 4}" y="10">{peak}/week</text>')
    total_w = width + (48 if axis else 0)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{height}" '
        f'viewBox="0 0 {total_w} {height}" role="img" aria-label="{esc(label)}">'
        f"<title>{esc(label)}</title>{''.join(bars)}{''.join(ticks)}</svg>"
    )


def page(title: str, body: str, base: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)} · PledgeWatch</title><style>{CSS}</style></head><body>"
        f'<nav class="pw"><a href="{esc(base)}/">Commitments</a><a href="{esc(base)}/sources">Sources</a></nav>'
        f"<h1>{esc(title)}</h1>{body}</body></html>"
    )


def _statement_link(ref: ReferenceView) -> str:
    title = ref.title or ref.url
    return f'<a href="{safe_href(ref.url)}" target="_blank" rel="noopener noreferrer">{esc(title)}</a>'


def _last_reference(ref: ReferenceView | None) -> str:
    if ref is None:
        return '<span class="muted">no reference yet</span>'
    who = f' <span class="muted">· {esc(ref.publisher)}</span>' if ref.publisher else ""
    return (
        f"{fmt_time(ref.at)} · {_statement_link(ref)}{who}"
        f"<blockquote>{highlight(ref.evidence, ref.cue)}</blockquote>"
    )


def status_cell(r: CommitmentRow) -> str:
    """The status badge; a muted commitment also shows what the quiet check measured, and why."""
    if r.status != "muted":
        return badge(r.status)
    by = f" (with {esc(r.muted_by)})" if r.muted_by and r.muted_by != r.id else ""
    title = f"muted until {r.muted_until:%Y-%m-%d}{by}" if r.muted_until else "muted"
    if r.mute_reason:
        title += f": {r.mute_reason}"
    return (
        f'<span title="{esc(title)}">{badge("muted")}</span>'
        f'<span class="under">until {fmt_time(r.muted_until)}</span>'
        f'<span class="under">measured {badge(r.computed, small=True)}</span>'
    )


def _status_order(status: str) -> tuple[int, str]:
    return (STATUSES.index(status) if status in STATUSES else len(STATUSES), status)


def commitments_page(
    rows: list[CommitmentRow], now: datetime, base: str, *, status: str | None = None
) -> str:
    """The overview; ``rows`` are all active commitments, ``status`` the filter chosen (if any)."""
    by_status = Counter(r.status for r in rows)
    summary = "".join(
        f'<a class="filter{" on" if s == status else ""}" href="{esc(base)}/?status={quote(s)}" '
        f'title="show only {esc(s)}"><span>{badge(s)} {n}</span></a>'
        for s, n in sorted(by_status.items(), key=lambda item: _status_order(item[0]))
    )
    if status is not None:
        summary += f'<span><a href="{esc(base)}/">show all {len(rows)}</a></span>'
        rows = [r for r in rows if r.status == status]
    head = "".join(f'<th class="n">{d} d</th>' for d in WINDOWS)
    body_rows = []
    for r in rows:
        counts = "".join(f'<td class="n">{r.counts.get(d, 0)}</td>' for d in WINDOWS)
        body_rows.append(
            f'<tr class="lvl-{esc(r.level)}"><td class="id"><a href="{esc(base)}/commitments/{quote(r.id)}">'
            f"{esc(r.id)}</a></td><td>{esc(r.title)}</td><td>{status_cell(r)}</td>{counts}"
            f"<td>{timeline_svg(r.weekly, now)}</td><td>{_last_reference(r.last)}</td></tr>"
        )
    table = (
        f"<table><thead><tr><th>id</th><th>commitment</th><th>status</th>{head}"
        f"<th>last 52 weeks</th><th>last reference</th></tr></thead><tbody>{''.join(body_rows)}</tbody></table>"
        if rows
        else '<p class="muted">No commitments yet: they are synced from the catalog by the first match run.</p>'
        if status is None
        else f'<p class="muted">No commitment is {esc(status)}.</p>'
    )
    intro = (
        f'<p class="summary">{summary}<span class="muted">as of {fmt_time(now, True)}; new references '
        "counted when they appeared (the statement's publication, or the edit that added them)</span></p>"
    )
    return page("Commitments", intro + table, base)


def commitment_page(detail: CommitmentDetail, now: datetime, base: str) -> str:
    r = detail.row
    status = badge(r.computed) + (f" since {fmt_time(r.since)}" if r.since else "")
    facts = [
        f"<b>status</b> {status}",
        f"<b>family</b> {esc(r.family)} · <b>level</b> {esc(r.level)}",
        f"<b>quiet after</b> {esc(r.threshold_days) or '–'} days",
        f"<b>last checked</b> {fmt_time(r.checked_at, True)}",
    ]
    if r.status == "muted":
        by = f" (muted with {esc(r.muted_by)})" if r.muted_by and r.muted_by != r.id else ""
        reason = f": {esc(r.mute_reason)}" if r.mute_reason else ""
        facts.insert(1, f"<b>muted</b> {badge('muted')} until {fmt_time(r.muted_until)}{by}{reason}")
    counts = " · ".join(f"{r.counts.get(d, 0)} in {d} days" for d in WINDOWS)
    refs = "".join(
        f'<tr><td class="d">{fmt_time(ref.at)}</td><td>{_statement_link(ref)}'
        f'<div class="muted">{esc(ref.publisher or "")} {esc(ref.lang or "")}</div></td>'
        f"<td><blockquote>{highlight(ref.evidence, ref.cue)}</blockquote></td><td>{esc(ref.cue)}</td>"
        f'<td class="n">{ref.score:.2f}</td><td>{esc(ref.method)}</td></tr>'
        for ref in detail.references
    )
    shown = (
        f"({len(detail.references)} newest of {detail.total})"
        if detail.total > len(detail.references)
        else ""
    )
    table = (
        f"<h2>References {esc(shown)}</h2><table><thead><tr><th>referenced</th><th>statement</th>"
        f"<th>evidence</th><th>cue</th><th>score</th><th>method</th></tr></thead><tbody>{refs}</tbody></table>"
        if detail.references
        else '<p class="muted">No reference to this commitment yet.</p>'
    )
    body = (
        f"<p>{esc(r.title)}</p><p>{'<br>'.join(facts)}</p><p><b>new references</b> {counts}</p>"
        f"{timeline_svg(r.weekly, now, width=728, height=84, axis=True)}{table}"
    )
    return page(f"{r.id}", body, base)


def _source_cells(s: SourceRow, base: str) -> str:
    rate = f"{s.success_rate:.0%}" if s.success_rate is not None else "–"
    error = f'<div class="err">{esc((s.last_error or "")[:300])}</div>' if s.consecutive_failures else ""
    return (
        f'<td><a href="{esc(base)}/sources/{quote(s.key)}">{esc(s.key)}</a>'
        f'<div class="muted">{esc(s.publisher)} · {esc(s.kind)}</div></td><td>{badge(s.health)}{error}</td>'
        f'<td class="n">{esc(rate)} <span class="muted">({s.ok_polls_30d}/{s.polls_30d})</span></td>'
        f'<td class="n">{s.consecutive_failures}</td><td class="d">{fmt_time(s.last_success_at, True)}</td>'
        f'<td class="n">{s.statements_30d}</td><td class="d">{fmt_time(s.next_due_at, True)}</td>'
    )


SOURCE_HEAD = (
    "<tr><th>source</th><th>health</th><th>polls ok (30 d)</th><th>failures in a row</th>"
    "<th>last success</th><th>new statements (30 d)</th><th>next due</th></tr>"
)


def sources_page(rows: list[SourceRow], now: datetime, base: str) -> str:
    body = "".join(f"<tr>{_source_cells(s, base)}</tr>" for s in rows)
    table = (
        f"<table><thead>{SOURCE_HEAD}</thead><tbody>{body}</tbody></table>"
        if rows
        else '<p class="muted">No sources yet: the registry is synced by the first scrape run.</p>'
    )
    return page("Sources", f'<p class="muted">as of {fmt_time(now, True)}</p>{table}', base)


def health_strip(
    history: list[tuple[datetime, bool]], now: datetime, *, width: int = 728, height: int = 30
) -> str:
    """Every poll of the last 30 days as a tick at its time: green when it worked, red when not."""
    span = timedelta(days=HEALTH_DAYS).total_seconds()
    ticks = []
    for started, ok in history:
        x = width * (1 - (now - started).total_seconds() / span)
        if 0 <= x <= width:
            colour = "#1a7f37" if ok else "#cf222e"
            ticks.append(
                f'<rect x="{min(x, width - 2):.1f}" y="0" width="2" height="{height - 14}" '
                f'fill="{colour}" data-ok="{int(ok)}"><title>{started:%Y-%m-%d %H:%M} UTC: '
                f"{'ok' if ok else 'failed'}</title></rect>"
            )
    failed = sum(1 for _, ok in history if not ok)
    label = f"{len(history)} polls over the last {HEALTH_DAYS} days, {failed} failed"
    axis = (
        f'<text x="0" y="{height - 1}">{now - timedelta(days=HEALTH_DAYS):%Y-%m-%d}</text>'
        f'<text x="{width - 60}" y="{height - 1}">{now:%Y-%m-%d}</text>'
    )
    empty = "" if history else f'<text x="{width / 2 - 40:.0f}" y="12">no poll in {HEALTH_DAYS} days</text>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{esc(label)}"><title>{esc(label)}</title>'
        f'<rect x="0" y="0" width="{width}" height="{height - 14}" fill="#f6f8fa"/>{"".join(ticks)}{axis}{empty}</svg>'
    )


def source_page(detail: SourceDetail, now: datetime, base: str) -> str:
    s = detail.row
    polls = "".join(
        f'<tr><td class="d">{fmt_time(p.started_at, True)}</td><td>{badge("ok" if p.ok else "failing")}</td>'
        f'<td class="n">{esc(p.http_status or "")}</td><td class="n">{p.discovered}</td>'
        f'<td class="n">{p.fetched}</td><td class="n">{p.new_statements}</td><td class="n">{p.new_versions}</td>'
        f'<td class="n">{p.failed_items}</td><td class="err">{esc((p.error or "")[:300])}</td></tr>'
        for p in detail.polls
    )
    statements = "".join(
        f'<tr><td class="d">{fmt_time(st.published_at)}</td><td><a href="{safe_href(st.url)}" target="_blank" '
        f'rel="noopener noreferrer">{esc(st.title or st.url)}</a></td><td class="d">{fmt_time(st.first_seen_at, True)}'
        f'</td><td class="n">{st.references}</td></tr>'
        for st in detail.statements
    )
    failed = sum(1 for _, ok in detail.history if not ok)
    body = (
        f'<p><a href="{safe_href(s.url)}" target="_blank" rel="noopener noreferrer">{esc(s.url)}</a></p>'
        f"<table><thead>{SOURCE_HEAD}</thead><tbody><tr>{_source_cells(s, base)}</tr></tbody></table>"
        f'<h2>Health over {HEALTH_DAYS} days</h2><p class="muted">{len(detail.history)} polls, {failed} failed'
        + (f"; failing since {fmt_time(s.failing_since, True)}" if s.failing_since else "")
        + f"</p>{health_strip(detail.history, now)}"
        f"<h2>Latest polls</h2><table><thead><tr><th>started</th><th>result</th><th>HTTP</th>"
        "<th>discovered</th><th>fetched</th><th>new statements</th><th>new versions</th><th>failed items</th>"
        f"<th>error</th></tr></thead><tbody>{polls}</tbody></table>"
        "<h2>Latest statements</h2><table><thead><tr><th>published</th><th>statement</th><th>first seen</th>"
        f"<th>commitments</th></tr></thead><tbody>{statements}</tbody></table>"
    )
    return page(f"Source {s.key}", body, base)


def not_found_page(what: str, base: str) -> str:
    return page("Not found", f"<p>{esc(what)}</p>", base)


def login_required_page(login_url: str, base: str) -> str:
    return page(
        "Login required",
        f'<p>The PledgeWatch dashboard needs an Airflow login. <a href="{esc(login_url)}">Log in</a>.</p>',
        base,
    )

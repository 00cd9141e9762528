"""Slack Block Kit rendering, with a plain-text fallback, within Slack's limits.

Only this module turns alert payloads into Slack markup. Every piece of scraped text (titles,
publishers, evidence, fetch errors) goes through ``escape_mrkdwn`` and every URL through
``safe_url`` on the way, and scraped text never goes into a header (headers are ours: ids,
counts, dates). Limits are enforced by construction (each piece is bounded before it is
assembled), so a cut never lands inside a link.

The message chrome is English (the monitors' working language); statements keep their own
language (EN/FR/ES).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alerts.escape import escape_mrkdwn, link, truncate

MAX_BLOCKS = 50  # Slack: blocks per message
MAX_HEADER = 150  # Slack: header text
MAX_SECTION = 3000  # Slack: a section's text
MAX_CONTEXT_ELEMENTS = 10  # Slack: elements in a context block
MAX_FALLBACK = 3000  # the notification text: Slack cuts long ones, keep it a summary
MAX_REFS_PER_MESSAGE = 10  # commitments of one statement in one message (more: several messages)
EVIDENCE_CHARS = 500
LIST_LINES = 25  # lines in a digest list before "...and N more"


@dataclass(frozen=True)
class Message:
    text: str  # plain-text fallback (notifications, screen readers); mrkdwn-escaped as well
    blocks: list[dict[str, Any]] = field(default_factory=list)


# --- building blocks -------------------------------------------------------------------


def _header(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(text, MAX_HEADER), "emoji": True},
    }


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION)}}


def _context(*parts: str) -> dict[str, Any]:
    elements = [{"type": "mrkdwn", "text": truncate(p, MAX_SECTION)} for p in parts if p]
    return {"type": "context", "elements": elements[:MAX_CONTEXT_ELEMENTS]}


def _footer(alert_ids: list[int], *extra: str) -> dict[str, Any]:
    ids = ", ".join(str(i) for i in alert_ids)
    label = f"PledgeWatch alert {ids}" if len(alert_ids) == 1 else f"PledgeWatch alerts {ids}"
    return _context(*extra, label if alert_ids else "PledgeWatch")


def _lines(title: str, lines: list[str], empty: str) -> str:
    """A titled list that fits one section: whole lines only, then "...and N more"."""
    if not lines:
        return f"{title}\n{empty}"
    out = title
    for i, line in enumerate(lines):
        rest = len(lines) - i
        more = f"\n…and {rest} more"
        if i >= LIST_LINES or len(out) + 1 + len(line) + len(more) > MAX_SECTION:
            return out + more
        out += "\n" + line
    return out


def _date(value: str | None) -> str:
    return (value or "")[:10]


def _when(value: str | None) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM UTC'."""
    if not value:
        return "-"
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return escape_mrkdwn(value[:25])


def _days(value: float | None) -> str:
    if value is None:
        return "-"
    n = round(float(value))
    return "1 day" if n == 1 else f"{n} days"


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{hours // 24} days {hours % 24} h"


def _plain(text: str | None) -> str:
    """Scraped text for the fallback: one line, escaped (Slack parses the fallback too)."""
    return escape_mrkdwn(" ".join((text or "").split()))


def _statement_line(st: dict[str, Any]) -> str:
    title = " ".join((st.get("title") or st.get("url") or "(untitled)").split())
    meta = " · ".join(
        escape_mrkdwn(x) for x in (st.get("publisher"), _date(st.get("published_at")), st.get("lang")) if x
    )
    return f"*{link(st.get('url'), truncate(title, 300))}*" + (f"\n{meta}" if meta else "")


_WORD = re.compile(r"\w", re.UNICODE)


def evidence_mrkdwn(evidence: str, cue_span: list[int] | None, limit: int = EVIDENCE_CHARS) -> str:
    """The evidence sentence, escaped, cut around the cue, the cue (whole words) in bold."""
    text = evidence or ""
    span = cue_span if cue_span and 0 <= cue_span[0] < cue_span[1] <= len(text) else None
    if span:  # widen to whole words, so Slack renders the bold (it needs word boundaries)
        s, e = span
        while s > 0 and _WORD.match(text[s - 1]):
            s -= 1
        while e < len(text) and _WORD.match(text[e]):
            e += 1
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        span = [s, e]
    lead = tail = ""
    if len(text) > limit:
        centre = (span[0] + span[1]) // 2 if span else 0
        start = max(0, min(centre - limit // 2, len(text) - limit))
        end = start + limit
        lead, tail = ("…" if start > 0 else ""), ("…" if end < len(text) else "")
        if span:
            span = [max(span[0], start) - start, min(span[1], end) - start]
        text = text[start:end]
    text = re.sub(r"\s", " ", text)  # one line; one space per whitespace keeps the offsets
    if span and span[0] < span[1]:
        s, e = span
        body = escape_mrkdwn(text[:s]) + "*" + escape_mrkdwn(text[s:e]) + "*" + escape_mrkdwn(text[e:])
    else:
        body = escape_mrkdwn(text)
    return ">" + lead + body + tail


# --- one renderer per kind -------------------------------------------------------------


def _reference(payloads: list[dict[str, Any]], alert_ids: list[int]) -> Message:
    """One message for one statement and the commitments it newly refers to."""
    st = payloads[0]["statement"]
    ids = ", ".join(p["commitment"]["id"] for p in payloads)
    blocks = [
        _header(f":pushpin: Commitment referenced: {ids}"),
        _section(_statement_line(st)),
    ]
    for p in payloads[:MAX_REFS_PER_MESSAGE]:
        c = p["commitment"]
        method = " · semantic match" if p.get("method") == "semantic" else ""
        blocks.append(
            _section(
                f"*{escape_mrkdwn(c['id'])}* {escape_mrkdwn(truncate(c.get('title') or '', 200))}"
                f" · score {float(p.get('score') or 0):.2f}{method}\n"
                + evidence_mrkdwn(p.get("evidence") or "", p.get("cue_span"))
            )
        )
    blocks.append(_footer(alert_ids, link(payloads[0].get("history_url"), "Statement history")))
    title = _plain(truncate(st.get("title") or st.get("url") or "(untitled)", 300))
    who = _plain(st.get("publisher")) or "unknown publisher"
    text = f"Commitment referenced: {ids} · {title} ({who}, {_date(st.get('published_at')) or 'undated'})"
    return Message(truncate(text, MAX_FALLBACK), blocks)


def _last_reference_line(p: dict[str, Any]) -> str:
    last = p.get("last_reference")
    if not last:
        return f"Never referenced since monitoring began ({_date(p.get('monitoring_since')) or '-'})."
    st = last.get("statement") or {}
    title = " ".join((st.get("title") or st.get("url") or "(untitled)").split())
    who = " · ".join(escape_mrkdwn(x) for x in (st.get("publisher"), _date(last.get("at"))) if x)
    history = link(last.get("history_url"), "history") if last.get("history_url") else ""
    return (
        f"Last reference: {link(st.get('url'), truncate(title, 200))}"
        + (f" — {who}" if who else "")
        + (f" ({history})" if history else "")
    )


def _threshold_line(p: dict[str, Any]) -> str:
    origin = "from the catalog" if p.get("threshold_source") == "catalog" else "by default"
    usual = p.get("usual_gap_days")
    usual_text = f"; usually a reference every {_days(usual)}" if usual is not None else ""
    return f"threshold {_days(p.get('threshold_days'))} {origin}{usual_text}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _commitment_line(p: dict[str, Any]) -> str:
    c = p["commitment"]
    return f"*{link(p.get('commitment_url'), c['id'])}* {escape_mrkdwn(truncate(c.get('title') or '', 200))}"


def _health_pct(value: float | None) -> str:
    return "-" if value is None else f"{round(float(value) * 100)}%"


def _source_lines(sources: list[dict[str, Any]]) -> list[str]:
    out = []
    for s in sources:
        line = f"• {escape_mrkdwn(s.get('key'))} ({escape_mrkdwn(s.get('publisher'))}): healthy {_health_pct(s.get('health'))}"
        if s.get("failing_since"):
            line += f", failing since {_when(s.get('failing_since'))}"
        if s.get("last_error"):
            line += f" — {escape_mrkdwn(truncate(' '.join(str(s['last_error']).split()), 200))}"
        out.append(line)
    return out


def _quiet(payloads: list[dict[str, Any]], alert_ids: list[int]) -> Message:
    p = payloads[0]
    cid = p["commitment"]["id"]
    gap = _days(p.get("gap_days"))
    blocks = [
        _header(f":zzz: Quiet: {cid}, no new reference for {gap}"),
        _section(
            f"{_commitment_line(p)}\nNo new reference for *{gap}*: {_threshold_line(p)}.\n{_last_reference_line(p)}"
        ),
        _footer(
            alert_ids,
            f"Sources that usually mention it were healthy {_health_pct(p.get('source_health'))} of the last "
            f"{_days(p.get('threshold_days'))}. Quiet is a measurement, not a verdict.",
        ),
    ]
    text = f"Quiet: {cid} has had no new reference for {gap} (threshold {_days(p.get('threshold_days'))})"
    return Message(text, blocks)


def _unknown(payloads: list[dict[str, Any]], alert_ids: list[int]) -> Message:
    p = payloads[0]
    cid = p["commitment"]["id"]
    gap = _days(p.get("gap_days"))
    health = _health_pct(p.get("source_health"))
    blocks = [
        _header(f":grey_question: Unknown: {cid}, silent {gap} while our sources failed"),
        _section(
            f"{_commitment_line(p)}\nNo new reference for *{gap}* ({_threshold_line(p)}), but this is *not* "
            f"counted as quiet: the sources that usually mention it were healthy only *{health}* of the last "
            f"{_days(p.get('threshold_days'))} (quiet needs {_health_pct(p.get('min_source_health'))}).\n"
            f"{_last_reference_line(p)}"
        ),
        _section(_lines("*Sources behind this*", _source_lines(p.get("sources") or []), "(none on record)")),
        _footer(alert_ids, "Silence while we could not look is not silence."),
    ]
    text = f"Unknown: {cid} silent for {gap}, but its sources were healthy only {health} of the window"
    return Message(text, blocks)


def _resumed(payloads: list[dict[str, Any]], alert_ids: list[int]) -> Message:
    p = payloads[0]
    cid = p["commitment"]["id"]
    quiet = _days(p.get("quiet_days"))
    ref = p.get("reference") or {}
    st = ref.get("statement") or {}
    was = "quiet" if p.get("previous_status") == "quiet" else "of unknown status (our sources were failing)"
    previous = _date(p.get("quiet_since"))
    since = f"previous reference {previous}" if previous else "never referenced before"
    blocks: list[dict[str, Any]] = [
        _header(f":arrow_forward: Resumed: {cid} referenced again after {quiet}"),
        _section(f"{_commitment_line(p)}\nReferenced again after *{quiet}* ({since}; it was {was})."),
    ]
    if st:
        evidence = evidence_mrkdwn(ref.get("evidence") or "", ref.get("cue_span"))
        blocks.append(_section(f"{_statement_line(st)}\n{evidence}"))
    blocks.append(_footer(alert_ids, link(ref.get("history_url"), "Statement history") if ref else ""))
    title = _plain(truncate(st.get("title") or st.get("url") or "", 300))
    text = f"Resumed: {cid} referenced again after {quiet}" + (f" · {title}" if title else "")
    return Message(truncate(text, MAX_FALLBACK), blocks)


def _source_failing(payloads: list[dict[str, Any]], alert_ids: list[int]) -> Message:
    p = payloads[0]
    src = p["source"]
    key = src["key"]
    reminder = int(p.get("reminder") or 0)
    since = _when(p.get("failing_since"))
    head = (
        f":warning: Still failing: {key} (reminder {reminder})"
        if reminder
        else f":warning: Source failing: {key}"
    )
    last_ok = _when(p.get("last_success_at")) if p.get("last_success_at") else "never"
    error = escape_mrkdwn(truncate(" ".join(str(p.get("last_error") or "unknown error").split()), 500))
    blocks = [
        _header(head),
        _section(
            f"*{escape_mrkdwn(src.get('publisher'))}* · {link(src.get('url'), truncate(src.get('url') or '', 200))}\n"
            f"*{int(p.get('consecutive_failures') or 0)}* failed polls in a row, failing since {since}; "
            f"last success {last_ok}.\nLast error: {error}"
        ),
        _footer(
            alert_ids,
            "Commitments this source usually covers count as unknown, not quiet, while it fails. "
            "`pledgewatch sources list` shows every source's health.",
        ),
    ]
    text = (
        f"Source {'still ' if reminder else ''}failing: {key}: "
        f"{int(p.get('consecutive_failures') or 0)} failed polls in a row since {since}"
    )
    return Message(text, blocks)


def _source_recovered(payloads: list[dict[str, Any]], alert_ids: list[int]) -> Message:
    p = payloads[0]
    src = p["source"]
    key = src["key"]
    duration = _duration(float(p.get("down_s") or 0))
    blocks = [
        _header(f":white_check_mark: Source recovered: {key}"),
        _section(
            f"*{escape_mrkdwn(src.get('publisher'))}* · {link(src.get('url'), truncate(src.get('url') or '', 200))}\n"
            f"Fetching again since {_when(p.get('recovered_at'))}, after *{duration}* of failures "
            f"({int(p.get('failed_polls') or 0)} failed polls since {_when(p.get('failing_since'))})."
        ),
        _footer(alert_ids),
    ]
    return Message(f"Source recovered: {key} after {duration} of failures", blocks)


def _digest(payloads: list[dict[str, Any]], alert_ids: list[int]) -> Message:
    p = payloads[0]
    label = p.get("label") or ""
    freq = p.get("frequency") or "daily"
    counts = p.get("counts") or []
    refs = sum(int(c.get("references") or 0) for c in counts)
    ref_lines = [
        f"• *{escape_mrkdwn(c['id'])}* {escape_mrkdwn(truncate(c.get('title') or '', 120))} — {int(c['references'])}"
        for c in counts
    ]
    quiet_lines = [
        f"• *{escape_mrkdwn(q['id'])}* {escape_mrkdwn(truncate(q.get('title') or '', 120))} — {_days(q.get('gap_days'))}"
        for q in p.get("quiet") or []
    ]
    unknown_lines = [
        f"• *{escape_mrkdwn(q['id'])}* {escape_mrkdwn(truncate(q.get('title') or '', 120))} — sources healthy {_health_pct(q.get('source_health'))}"
        for q in p.get("unknown") or []
    ]
    failing_lines = [
        f"• {escape_mrkdwn(s['key'])} ({escape_mrkdwn(s.get('publisher'))}) — since {_when(s.get('failing_since'))}, "
        f"{int(s.get('consecutive_failures') or 0)} failed polls"
        for s in p.get("failing_sources") or []
    ]
    statements = int(p.get("statements") or 0)
    blocks = [
        _header(f":newspaper: PledgeWatch {freq} digest: {label}"),
        _section(
            _lines(
                f"*References* ({refs} in {_count(statements, 'statement')}, "
                f"{_when(p.get('start'))} to {_when(p.get('end'))})",
                ref_lines,
                "No new reference.",
            )
        ),
        _section(_lines(f"*Quiet* ({len(quiet_lines)})", quiet_lines, "None.")),
    ]
    if unknown_lines:
        blocks.append(_section(_lines(f"*Unknown* ({len(unknown_lines)})", unknown_lines, "None.")))
    blocks.append(_section(_lines(f"*Failing sources* ({len(failing_lines)})", failing_lines, "None.")))
    blocks.append(_footer(alert_ids))
    text = (
        f"PledgeWatch {freq} digest {label}: {_count(refs, 'reference')}, {len(quiet_lines)} quiet, "
        f"{_count(len(failing_lines), 'failing source')}"
    )
    return Message(text, blocks)


def _generic(kind: str) -> Callable[[list[dict[str, Any]], list[int]], Message]:
    def render(payloads: list[dict[str, Any]], alert_ids: list[int]) -> Message:
        summary = _plain(str(payloads[0].get("summary") or kind))
        return Message(summary, [_section(f"*{escape_mrkdwn(kind)}*: {summary}"), _footer(alert_ids)])

    return render


RENDERERS: dict[str, Callable[[list[dict[str, Any]], list[int]], Message]] = {
    "reference": _reference,
    "quiet": _quiet,
    "unknown": _unknown,
    "resumed": _resumed,
    "source-failing": _source_failing,
    "source-recovered": _source_recovered,
    "digest": _digest,
}


def _resent(message: Message, origin: dict[str, Any]) -> Message:
    """Mark a message sent again at a monitor's request, so nobody takes it for a new event."""
    first = origin.get("first_sent_at")
    note = f"Resent at a monitor's request (alert {escape_mrkdwn(str(origin.get('alert_id') or '?'))}" + (
        f", first sent {_when(first)})" if first else ")"
    )
    blocks = list(message.blocks)
    at = len(blocks) - 1 if blocks and blocks[-1].get("type") == "context" else len(blocks)
    blocks.insert(at, _context(note))
    return Message(f"[resent] {message.text}", blocks)


def render(kind: str, payloads: list[dict[str, Any]], alert_ids: list[int] | None = None) -> Message:
    """The Slack message for alerts of one kind (several only for references of one statement)."""
    message = RENDERERS.get(kind, _generic(kind))(payloads, list(alert_ids or []))
    origin = payloads[0].get("resend_of") if payloads else None
    if isinstance(origin, dict):
        message = _resent(message, origin)
    blocks = message.blocks
    if len(blocks) > MAX_BLOCKS:  # defensive: renderers stay far below
        blocks = [
            *blocks[: MAX_BLOCKS - 1],
            _context(f"…{len(message.blocks) - MAX_BLOCKS + 1} more blocks cut"),
        ]
    return Message(truncate(message.text, MAX_FALLBACK), blocks)

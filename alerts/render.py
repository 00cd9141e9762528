"""Slack Block Kit rendering, with a plain-text fallback, within Slack's limits.

Only this module turns alert payloads into Slack markup, and it escapes every piece of
scraped text on the way (``alerts.escape``).
"""

from __future__ import annotations

from typing import Any

from alerts.escape import escape_mrkdwn, link, truncate

MAX_BLOCKS = 50  # Slack: blocks per message
MAX_SECTION_TEXT = 3000  # Slack: characters in a section's text
MAX_FALLBACK_TEXT = 4000  # keep the notification text short (Slack truncates long ones)


def _evidence_mrkdwn(evidence: str, cue_span: list[int] | None) -> str:
    """The evidence sentence, escaped, with the cue in bold."""
    evidence = truncate(evidence, 600)
    if cue_span and 0 <= cue_span[0] < cue_span[1] <= len(evidence):
        s, e = cue_span
        return (
            escape_mrkdwn(evidence[:s])
            + "*"
            + escape_mrkdwn(evidence[s:e])
            + "*"
            + escape_mrkdwn(evidence[e:])
        )
    return escape_mrkdwn(evidence)


def render_reference(payloads: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """One message for one statement and the commitments it newly refers to."""
    statement = payloads[0]["statement"]
    title = statement.get("title") or statement.get("url") or "(untitled)"
    ids = ", ".join(p["commitment"]["id"] for p in payloads)
    fallback = truncate(
        f"New reference to {ids} by {statement.get('publisher') or 'unknown publisher'}: {title} {statement.get('url', '')}",
        MAX_FALLBACK_TEXT,
    )
    meta = " · ".join(
        escape_mrkdwn(x)
        for x in (
            statement.get("publisher"),
            (statement.get("published_at") or "")[:10],
            statement.get("lang"),
        )
        if x
    )
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(f"Commitment referenced: {ids}", 150)},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": truncate(f"*{link(statement.get('url'), title)}*\n{meta}", MAX_SECTION_TEXT),
            },
        },
    ]
    for p in payloads:
        if len(blocks) >= MAX_BLOCKS - 2:
            blocks.append(
                {"type": "context", "elements": [{"type": "mrkdwn", "text": f"…and {len(payloads)} in all"}]}
            )
            break
        c = p["commitment"]
        text = (
            f"*{escape_mrkdwn(c['id'])}* {escape_mrkdwn(c.get('title'))} (score {float(p.get('score', 0)):.2f})\n"
            f">{_evidence_mrkdwn(p.get('evidence', ''), p.get('cue_span'))}"
        )
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)}}
        )
    history = payloads[0].get("history_url")
    if history:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": link(history, "Statement history")}]}
        )
    return fallback, blocks


def render_generic(kind: str, payload: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """Fallback rendering for alert kinds without a dedicated renderer."""
    summary = escape_mrkdwn(payload.get("summary") or kind)
    return truncate(payload.get("summary") or kind, MAX_FALLBACK_TEXT), [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": truncate(f"*{escape_mrkdwn(kind)}*: {summary}", MAX_SECTION_TEXT),
            },
        }
    ]

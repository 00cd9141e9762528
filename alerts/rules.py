"""Reference alerts: what a new reference owes a monitor, as outbox rows with dedup keys.

The match step calls ``reference_alerts`` inside the transaction that stores the references,
so the alert exists exactly when its reference does.
"""

from __future__ import annotations

from typing import Any

from alerts.outbox import NewAlert
from alerts.policy import AlertPolicy
from models import Reference, Statement


def route(commitment_id: str | None, routes: dict[str, str], default: str) -> str:
    """The channel for a commitment (see ``AlertPolicy.route``)."""
    return AlertPolicy(default_channel=default, routes=routes).route(commitment_id)


def reference_alerts(
    statement: Statement,
    references: list[Reference],
    titles: dict[str, str],
    *,
    public_url: str,
    routes: dict[str, str],
    default_channel: str,
) -> list[NewAlert]:
    """One alert per (statement cluster, commitment) for references that are new.

    Keyed on the cluster, so the same message published on two sites alerts once; implied
    parents are not alerted separately (the action-level alert names them). The sender puts
    the alerts of one statement and channel into one message.
    """
    policy = AlertPolicy(default_channel=default_channel, routes=routes, public_url=public_url)
    cluster = statement.cluster_id or statement.id
    out: list[NewAlert] = []
    for ref in references:
        if not ref.is_new or ref.implied:
            continue
        payload: dict[str, Any] = {
            "statement": statement_summary(statement, lang=ref.lang),
            "commitment": {"id": ref.commitment_id, "title": titles.get(ref.commitment_id, "")},
            "reference_id": ref.id,
            "evidence": ref.evidence,
            "cue": ref.cue,
            "cue_span": cue_span(ref),
            "score": round(float(ref.score), 4),
            "method": ref.method,
            "history_url": policy.history_url(statement.id),
        }
        out.append(
            NewAlert(
                kind="reference",
                dedup_key=f"reference:{cluster}:{ref.commitment_id}",
                payload=payload,
                commitment_id=ref.commitment_id,
                statement_id=statement.id,
                source_id=statement.source_id,
                channel=policy.route(ref.commitment_id),
            )
        )
    return out


def statement_summary(statement: Statement, *, lang: str | None = None) -> dict[str, Any]:
    """What an alert shows of a statement: all of it scraped, so all of it escaped at render."""
    return {
        "id": statement.id,
        "url": statement.url,
        "title": statement.title,
        "publisher": statement.publisher,
        "published_at": statement.published_at.isoformat() if statement.published_at else None,
        "lang": lang or statement.lang,
    }


def cue_span(ref: Reference) -> list[int] | None:
    """Where the cue sits inside the evidence sentence, for highlighting."""
    start, end = ref.start_offset - ref.evidence_start, ref.end_offset - ref.evidence_start
    if 0 <= start < end <= len(ref.evidence):
        return [start, end]
    return None

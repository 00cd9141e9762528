"""Alert rules: what is owed to a monitor, as outbox rows with dedup keys."""

from __future__ import annotations

from typing import Any

from alerts.outbox import NewAlert
from models import Reference, Statement


def route(commitment_id: str | None, routes: dict[str, str], default: str) -> str:
    """The channel for a commitment: the most specific route (id, then parents, then family)."""
    if commitment_id:
        parts = commitment_id.split(".")
        for depth in range(len(parts), 0, -1):
            key = ".".join(parts[:depth])
            if key in routes:
                return routes[key]
    return routes.get("*", default)


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
    parents are not alerted separately (the action-level alert names them).
    """
    cluster = statement.cluster_id or statement.id
    out: list[NewAlert] = []
    for ref in references:
        if not ref.is_new or ref.implied:
            continue
        payload: dict[str, Any] = {
            "statement": {
                "id": statement.id,
                "url": statement.url,
                "title": statement.title,
                "publisher": statement.publisher,
                "published_at": statement.published_at.isoformat() if statement.published_at else None,
                "lang": ref.lang or statement.lang,
            },
            "commitment": {"id": ref.commitment_id, "title": titles.get(ref.commitment_id, "")},
            "evidence": ref.evidence,
            "cue": ref.cue,
            "cue_span": cue_span(ref),
            "score": ref.score,
            "method": ref.method,
            "history_url": f"{public_url.rstrip('/')}/statements/{statement.id}",
        }
        out.append(
            NewAlert(
                kind="reference",
                dedup_key=f"reference:{cluster}:{ref.commitment_id}",
                payload=payload,
                commitment_id=ref.commitment_id,
                statement_id=statement.id,
                source_id=statement.source_id,
                channel=route(ref.commitment_id, routes, default_channel),
            )
        )
    return out


def cue_span(ref: Reference) -> list[int] | None:
    """Where the cue sits inside the evidence sentence, for highlighting."""
    start, end = ref.start_offset - ref.evidence_start, ref.end_offset - ref.evidence_start
    if 0 <= start < end <= len(ref.evidence):
        return [start, end]
    return None

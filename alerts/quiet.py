"""Quiet, resumed, unknown: the attention status of every commitment, with its evidence.

For each active commitment (its references include those to the commitments under it: a
parent is implied by its children):

- ``active``: referenced within its threshold (catalog ``quiet_days``, else the default).
- ``never``: not referenced yet, and we have watched for less than the threshold.
- ``quiet``: no reference for longer than the threshold, while the sources that usually
  mention it were healthy over the last threshold-long window (at least
  ``quiet_min_source_health`` of it, weighted by how often each source referenced it).
- ``unknown``: silent as long, but we cannot vouch for the silence: those sources were
  unhealthy for too much of the window (``reason: sources``, alerted), or monitoring began
  less than a window ago (``reason: too_early``, not alerted).

A silent spell (quiet or unknown) alerts once: ``quiet`` when the silence is real; ``unknown``
first if the sources were failing (and ``quiet`` later if they recover and it is still
silent). When a reference ends an alerted spell, ``resumed`` says how long it lasted. Dedup
keys carry the spell, so a spell alerts once however often the check runs. The status row
and its alerts are written in one transaction.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from alerts.coverage import SourceHealth, load_health, weighted_health
from alerts.outbox import NewAlert, enqueue
from alerts.policy import AlertPolicy
from alerts.rules import cue_span, statement_summary
from models import Commitment, CommitmentStatus, Reference, Statement, utcnow

DAY = timedelta(days=1)
RECENT_REFERENCES = 200  # references read per commitment: the last one, the usual gap, the sources
STATUSES = ("active", "quiet", "unknown", "never")

# when a statement says it was published, else when we first stored the reference (never later)
REFERENCE_TIME = case(
    (
        Statement.published_at.is_not(None) & (Statement.published_at < Reference.created_at),
        Statement.published_at,
    ),
    else_=Reference.created_at,
)


@dataclass
class QuietOutcome:
    statuses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    alerts: dict[str, int] = field(default_factory=dict)  # kind -> alerts owed (new rows)
    changed: int = 0

    def counts(self) -> dict[str, int]:
        return {
            **self.statuses,
            "changed": self.changed,
            **{f"alerts_{k}": v for k, v in sorted(self.alerts.items())},
        }


@dataclass
class _Ref:
    id: int
    statement_id: int
    cluster: int
    source_id: int | None
    at: datetime


def _days(delta: timedelta) -> float:
    return round(delta.total_seconds() / 86400, 2)


def _recent_references(session: Session, commitment_id: str) -> list[_Ref]:
    at = REFERENCE_TIME.label("at")
    rows = session.execute(
        select(Reference.id, Reference.statement_id, Statement.cluster_id, Statement.source_id, at)
        .join(Statement, Reference.statement_id == Statement.id)
        .where(
            or_(
                Reference.commitment_id == commitment_id,
                Reference.commitment_id.startswith(commitment_id + ".", autoescape=True),
            )
        )
        .order_by(at.desc(), Reference.id.desc())
        .limit(RECENT_REFERENCES)
    )
    return [_Ref(r[0], r[1], r[2] or r[1], r[3], r[4]) for r in rows]


def usual_gap_days(refs: list[_Ref]) -> float | None:
    """The median time between distinct statements (clusters) referring to the commitment."""
    first_seen: dict[int, datetime] = {}
    for ref in refs:
        if ref.cluster not in first_seen or ref.at < first_seen[ref.cluster]:
            first_seen[ref.cluster] = ref.at
    times = sorted(first_seen.values())
    if len(times) < 2:
        return None
    return round(statistics.median(_days(b - a) for a, b in itertools.pairwise(times)), 2)


def _reference_payload(session: Session, ref_id: int, policy: AlertPolicy) -> dict[str, Any]:
    ref = session.get(Reference, ref_id)
    assert ref is not None
    statement = session.get(Statement, ref.statement_id)
    assert statement is not None
    return {
        "statement": statement_summary(statement, lang=ref.lang),
        "evidence": ref.evidence,
        "cue_span": cue_span(ref),
        "score": round(float(ref.score), 4),
        "history_url": policy.history_url(statement.id),
    }


def _source_rows(parts: list[tuple[SourceHealth, float, float]]) -> list[dict[str, Any]]:
    total = sum(w for _, w, _ in parts) or 1.0
    return [
        {
            "key": s.key,
            "publisher": s.publisher,
            "share": round(w / total, 3),
            "health": round(h, 3),
            "failing_since": s.failing_since.isoformat() if s.failing_since else None,
            "last_error": (s.last_error or None) and s.last_error[:300],
        }
        for s, w, h in parts[:8]
    ]


def status_details(session: Session) -> dict[str, dict[str, Any]]:
    """Per commitment, the evidence the last check kept beside its status.

    ``last_reference`` (when, the statement's title, publisher and link, our history link),
    ``reason`` (why ``unknown``: ``sources`` or ``too_early``), ``threshold_source``,
    ``monitoring_since`` and ``sources`` (the sources behind the health figure). The status
    columns themselves are read through ``v_commitment_status``; this is what the view leaves
    in JSON.
    """
    rows = session.execute(select(CommitmentStatus.commitment_id, CommitmentStatus.details))
    return {cid: dict(details or {}) for cid, details in rows}


def check_commitments(session: Session, policy: AlertPolicy, now: datetime | None = None) -> QuietOutcome:
    """Recompute every active commitment's status; owe the alerts the changes call for."""
    now = now or utcnow()
    outcome = QuietOutcome()
    commitments = list(
        session.scalars(select(Commitment).where(Commitment.active.is_(True)).order_by(Commitment.id))
    )
    if not commitments:
        return outcome
    longest = max(c.quiet_days or policy.quiet_default_days for c in commitments)
    health = load_health(session, now - timedelta(days=longest))
    previous = {s.commitment_id: s for s in session.scalars(select(CommitmentStatus))}
    owed: list[NewAlert] = []
    for c in commitments:
        alert = _check_one(session, c, previous.get(c.id), health, policy, now, outcome)
        if alert is not None:
            owed.append(alert)
    for kind in sorted({a.kind for a in owed}):
        outcome.alerts[kind] = enqueue(session, [a for a in owed if a.kind == kind], now=now)
    session.flush()
    return outcome


def _check_one(
    session: Session,
    c: Commitment,
    prev: CommitmentStatus | None,
    health: dict[int, SourceHealth],
    policy: AlertPolicy,
    now: datetime,
    outcome: QuietOutcome,
) -> NewAlert | None:
    threshold = int(c.quiet_days or policy.quiet_default_days)
    window = timedelta(days=threshold)
    refs = _recent_references(session, c.id)
    last = refs[0] if refs else None

    weights: dict[int, float] = {}
    for ref in refs:
        if ref.source_id in health:
            weights[ref.source_id] = weights.get(ref.source_id, 0.0) + 1.0
    if not weights:  # never referenced by a source we still poll: all of them are relevant
        weights = dict.fromkeys(health, 1.0)
    firsts = [health[sid].first_poll for sid in weights if health[sid].first_poll is not None]
    monitoring_since = min(firsts) if firsts else None  # type: ignore[type-var]
    source_health, parts = weighted_health(health, weights, now - window, now)

    gap_start = last.at if last else monitoring_since
    reason: str | None = None
    if last is not None and now - last.at <= window:
        status = "active"
    elif last is None and (monitoring_since is None or now - monitoring_since <= window):
        status = "never"
    elif monitoring_since is None or monitoring_since > now - window:
        status, reason = "unknown", "too_early"
    elif source_health is None or source_health < policy.quiet_min_source_health:
        status, reason = "unknown", "sources"
    else:
        status = "quiet"

    prev_status = prev.status if prev is not None else "never"
    details: dict[str, Any] = dict(prev.details or {}) if prev is not None else {}
    in_spell = prev_status in ("quiet", "unknown") and bool(details.get("spell"))
    alert: NewAlert | None = None
    common: dict[str, Any] = {
        "commitment": {"id": c.id, "title": c.title},
        "commitment_url": policy.commitment_url(c.id),
    }
    usual = usual_gap_days(refs)
    last_payload = None
    if last is not None:
        ref_payload = _reference_payload(session, last.id, policy)
        last_payload = {
            "at": last.at.isoformat(),
            "reference_id": last.id,
            "statement": ref_payload["statement"],
            "history_url": ref_payload["history_url"],
        }

    if status in ("quiet", "unknown"):
        if in_spell:
            spell, alerted = details["spell"], list(details.get("alerted") or [])
            spell_start = details.get("gap_start")
        else:
            spell, alerted = (str(last.id) if last else "never"), []
            spell_start = gap_start.isoformat() if gap_start else None
        kind = None
        if status == "quiet" and "quiet" not in alerted:
            kind = "quiet"
        elif status == "unknown" and reason == "sources" and not alerted:
            kind = "unknown"
        if kind is not None:
            alerted.append(kind)
            alert = NewAlert(
                kind=kind,
                dedup_key=f"{kind}:{c.id}:{spell}",
                payload={
                    **common,
                    "status": status,
                    "reason": reason,
                    "gap_days": _days(now - gap_start) if gap_start else None,
                    "threshold_days": threshold,
                    "threshold_source": "catalog" if c.quiet_days else "default",
                    "usual_gap_days": usual,
                    "source_health": None if source_health is None else round(source_health, 3),
                    "min_source_health": policy.quiet_min_source_health,
                    "spell_start": spell_start,
                    "monitoring_since": monitoring_since.isoformat() if monitoring_since else None,
                    "last_reference": last_payload,
                    "sources": _source_rows(parts),
                },
                commitment_id=c.id,
                channel=policy.route(c.id),
            )
        details.update(spell=spell, alerted=alerted, gap_start=spell_start)
    else:
        if status == "active" and in_spell and details.get("alerted") and last is not None:
            started = datetime.fromisoformat(details["gap_start"]) if details.get("gap_start") else None
            alert = NewAlert(
                kind="resumed",
                dedup_key=f"resumed:{c.id}:{details['spell']}",
                payload={
                    **common,
                    "quiet_days": _days(last.at - started) if started else None,
                    "quiet_since": details.get("gap_start"),
                    "previous_status": prev_status,
                    "reference": _reference_payload(session, last.id, policy),
                },
                commitment_id=c.id,
                statement_id=last.statement_id,
                channel=policy.route(c.id),
            )
        details.update(spell=None, alerted=[], gap_start=None)

    details.update(
        reason=reason,
        threshold_source="catalog" if c.quiet_days else "default",
        monitoring_since=monitoring_since.isoformat() if monitoring_since else None,
        last_reference=last_payload,
        sources=_source_rows(parts),
        window_days=threshold,
    )
    row = prev or CommitmentStatus(commitment_id=c.id)
    if prev is None:
        session.add(row)
    if prev is None or prev_status != status or row.since is None:
        natural = {
            "active": last.at if last else now,
            "quiet": (gap_start + window) if gap_start else now,
            "never": monitoring_since or now,
        }
        row.since = natural.get(status, now)
        if prev is not None and prev_status != status:
            outcome.changed += 1
    row.status = status
    row.last_reference_id = last.id if last else None
    row.last_reference_at = last.at if last else None
    row.gap_days = _days(now - gap_start) if gap_start else None
    row.usual_gap_days = usual
    row.threshold_days = threshold
    row.source_health = None if source_health is None else round(source_health, 4)
    row.checked_at = now
    row.details = details
    outcome.statuses[status] += 1
    return alert

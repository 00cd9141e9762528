"""Digests: an optional daily or weekly summary per channel.

Each channel gets the new references to the commitments routed to it (counted per
commitment), those commitments that are quiet or unknown, and the failing sources. A digest
covers the last complete period (the previous UTC day, or the previous ISO week) and is owed
once per channel and period (``digest:<frequency>:<channel>:<period>``), whenever the daily
check first runs after the period ended.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.outbox import NewAlert, enqueue
from alerts.policy import AlertPolicy
from models import Commitment, CommitmentStatus, Reference, Source, Statement, utcnow


def digest_period(frequency: str, now: datetime) -> tuple[str, datetime, datetime]:
    """The last complete period before ``now``: (label, start, end)."""
    today = datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)
    if frequency == "weekly":
        end = today - timedelta(days=today.weekday())  # this Monday 00:00
        start = end - timedelta(days=7)
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}", start, end
    start = today - timedelta(days=1)
    return start.date().isoformat(), start, today


def digest_alerts(session: Session, policy: AlertPolicy, now: datetime | None = None) -> int:
    """Owe this period's digest to every channel (nothing when digests are off)."""
    if policy.digest == "off":
        return 0
    now = now or utcnow()
    label, start, end = digest_period(policy.digest, now)
    commitments = {c.id: c for c in session.scalars(select(Commitment).where(Commitment.active.is_(True)))}
    counts: dict[str, int] = dict(
        session.execute(
            select(
                Reference.commitment_id,
                func.count(func.distinct(func.coalesce(Statement.cluster_id, Statement.id))),
            )
            .join(Statement, Reference.statement_id == Statement.id)
            .where(
                Reference.is_new.is_(True),
                Reference.implied.is_(False),
                Reference.created_at >= start,
                Reference.created_at < end,
            )
            .group_by(Reference.commitment_id)
        ).all()
    )
    statements_by_channel: dict[str, set[int]] = defaultdict(set)
    for cid, sid, cluster in session.execute(
        select(Reference.commitment_id, Statement.id, Statement.cluster_id)
        .join(Statement, Reference.statement_id == Statement.id)
        .where(
            Reference.is_new.is_(True),
            Reference.implied.is_(False),
            Reference.created_at >= start,
            Reference.created_at < end,
        )
    ):
        statements_by_channel[policy.route(cid)].add(cluster or sid)
    statuses = list(
        session.scalars(select(CommitmentStatus).where(CommitmentStatus.status.in_(["quiet", "unknown"])))
    )
    failing = [
        {
            "key": s.key,
            "publisher": s.publisher,
            "failing_since": s.failing_since.isoformat() if s.failing_since else None,
            "consecutive_failures": int(s.consecutive_failures or 0),
        }
        for s in session.scalars(
            select(Source)
            .where(Source.enabled.is_(True), Source.consecutive_failures >= policy.source_failure_threshold)
            .order_by(Source.key)
        )
    ]
    owed = []
    for channel in policy.channels():
        mine = [cid for cid in commitments if policy.route(cid) == channel]
        if not mine and channel != policy.routes.get("*", policy.default_channel):
            continue
        rows = sorted(
            (
                {"id": cid, "title": commitments[cid].title, "references": counts[cid]}
                for cid in mine
                if counts.get(cid)
            ),
            key=lambda r: (-r["references"], r["id"]),
        )

        def listed(status: str, channel: str = channel) -> list[dict[str, Any]]:
            return [
                {
                    "id": st.commitment_id,
                    "title": commitments[st.commitment_id].title if st.commitment_id in commitments else "",
                    "gap_days": st.gap_days,
                    "source_health": st.source_health,
                }
                for st in sorted(statuses, key=lambda x: x.commitment_id)
                if st.status == status
                and st.commitment_id in commitments
                and policy.route(st.commitment_id) == channel
                and (status == "quiet" or (st.details or {}).get("reason") == "sources")
            ]

        owed.append(
            NewAlert(
                kind="digest",
                dedup_key=f"digest:{policy.digest}:{channel}:{label}",
                payload={
                    "frequency": policy.digest,
                    "label": label,
                    "channel": channel,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "counts": rows,
                    "statements": len(statements_by_channel.get(channel, ())),
                    "quiet": listed("quiet"),
                    "unknown": listed("unknown"),
                    "failing_sources": failing,
                },
                channel=channel,
            )
        )
    return enqueue(session, owed, now=now)

"""Source health alerts: failing after N consecutive failures, one reminder per period, recovered.

Never one alert per failed fetch. A failure episode is identified by the source's
``failing_since`` (set by the scrape step at the first failure, cleared at the next success),
and every alert of an episode has a dedup key derived from it:

- ``source-failing:<source>:<episode>`` once ``consecutive_failures`` reaches the threshold;
- ``...:reminder:<k>`` when the k-th reminder period since that alert has begun (only the
  current k: a sender that was down for days owes one reminder, not a backlog);
- ``source-recovered:<source>:<episode>`` after the next successful poll, only for an
  episode that was alerted.

These rules read the state the scrape step left behind, so running them again (or twice at
once) owes nothing new: the keys decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.outbox import NewAlert, enqueue
from alerts.policy import AlertPolicy
from models import Alert, Source, SourcePoll, utcnow


@dataclass
class HealthOutcome:
    alerts: dict[str, int] = field(default_factory=dict)
    failing: int = 0

    def counts(self) -> dict[str, int]:
        return {"failing_sources": self.failing, **{f"alerts_{k}": v for k, v in sorted(self.alerts.items())}}


def _source(s: Source) -> dict[str, Any]:
    return {"id": s.id, "key": s.key, "publisher": s.publisher, "url": s.url}


def _episode(s: Source, now: datetime) -> str:
    start = s.failing_since or s.last_failure_at or now
    return start.strftime("%Y%m%dT%H%M%S")


def check_sources(session: Session, policy: AlertPolicy, now: datetime | None = None) -> HealthOutcome:
    """Owe the source-health alerts the current state of every source calls for."""
    now = now or utcnow()
    outcome = HealthOutcome()
    period = timedelta(hours=policy.source_reminder_hours)
    channel = policy.source_channel()
    sources = list(session.scalars(select(Source).order_by(Source.id)))
    owed: list[NewAlert] = []

    failing = [
        s for s in sources if s.enabled and (s.consecutive_failures or 0) >= policy.source_failure_threshold
    ]
    outcome.failing = len(failing)
    first_keys = {s.id: f"source-failing:{s.id}:{_episode(s, now)}" for s in failing}
    firsts = {
        a.dedup_key: a
        for a in session.scalars(select(Alert).where(Alert.dedup_key.in_(list(first_keys.values()))))
    }
    for s in failing:
        key = first_keys[s.id]
        payload = {
            "source": _source(s),
            "episode": _episode(s, now),
            "failing_since": (s.failing_since or s.last_failure_at or now).isoformat(),
            "consecutive_failures": int(s.consecutive_failures or 0),
            "last_success_at": s.last_success_at.isoformat() if s.last_success_at else None,
            "last_error": (s.last_error or "")[:1000],
            "reminder": 0,
        }
        first = firsts.get(key)
        if first is None:
            owed.append(NewAlert("source-failing", key, payload, source_id=s.id, channel=channel))
            continue
        k = int((now - first.created_at) / period) if period.total_seconds() > 0 else 0
        if k >= 1:
            owed.append(
                NewAlert(
                    "source-failing",
                    f"{key}:reminder:{k}",
                    {**payload, "reminder": k},
                    source_id=s.id,
                    channel=channel,
                )
            )

    healthy = {s.id: s for s in sources if (s.consecutive_failures or 0) == 0 and s.last_success_at}
    if healthy:
        latest_ids = session.scalars(
            select(func.max(Alert.id))
            .where(Alert.kind == "source-failing", Alert.source_id.in_(list(healthy)))
            .group_by(Alert.source_id)
        )
        latest = list(session.scalars(select(Alert).where(Alert.id.in_(list(latest_ids)))))
        recovery_keys = {a.id: f"source-recovered:{a.source_id}:{a.payload.get('episode')}" for a in latest}
        done = set(
            session.scalars(select(Alert.dedup_key).where(Alert.dedup_key.in_(list(recovery_keys.values()))))
        )
        for a in latest:
            key = recovery_keys[a.id]
            if key in done or a.source_id is None:
                continue
            s = healthy[a.source_id]
            since = datetime.fromisoformat(a.payload["failing_since"])
            recovered = s.last_success_at or now
            failed_polls = session.scalar(
                select(func.count())
                .select_from(SourcePoll)
                .where(
                    SourcePoll.source_id == s.id,
                    SourcePoll.ok.is_(False),
                    SourcePoll.started_at >= since,
                    SourcePoll.started_at <= recovered,
                )
            )
            owed.append(
                NewAlert(
                    "source-recovered",
                    key,
                    {
                        "source": _source(s),
                        "episode": a.payload.get("episode"),
                        "failing_since": since.isoformat(),
                        "recovered_at": recovered.isoformat(),
                        "down_s": max(0.0, (recovered - since).total_seconds()),
                        "failed_polls": int(failed_polls or 0),
                    },
                    source_id=s.id,
                    channel=channel,
                )
            )
    for kind in sorted({a.kind for a in owed}):
        outcome.alerts[kind] = enqueue(session, [a for a in owed if a.kind == kind], now=now)
    return outcome

"""How well could we look? Source health over a window, from the poll history.

"Quiet" only means something if the sources that usually mention a commitment were being
fetched. Health is measured per source and per day from ``source_polls`` (the share of that
day's polls that succeeded; a day without any poll counts as not looked at, unless the
source is polled less than daily and its last poll is recent enough), then averaged over the
window. Days before a source's first poll are not monitored at all: a window that starts
before monitoring began is "too early to tell", which is not the same as "failing".

Day granularity keeps the query small (one row per source and day, not one per poll) and is
plenty for windows of weeks or months: a transition day is off by at most a day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from models import Source, SourcePoll
from models.timeutil import as_utc

DAY = timedelta(days=1)


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


@dataclass
class SourceHealth:
    """One source's poll record, by day."""

    source_id: int
    key: str
    publisher: str
    interval_s: int
    first_poll: datetime | None
    failing_since: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    days: dict[date, float] = field(default_factory=dict)  # day -> share of polls that succeeded

    def _carry_days(self) -> int:
        """How many poll-less days a source polled less than daily may keep its last day's health."""
        return max(0, math.ceil(2 * self.interval_s / 86400) - 1)

    def day_health(self, d: date) -> float:
        if d in self.days:
            return self.days[d]
        for back in range(1, self._carry_days() + 1):
            if d - timedelta(days=back) in self.days:
                return self.days[d - timedelta(days=back)]
        return 0.0

    def health(self, start: datetime, end: datetime) -> float:
        """Share of [start, end] this source was fetched successfully (0 before its first poll)."""
        total = (end - start).total_seconds()
        if total <= 0:
            return 1.0
        healthy = 0.0
        d = start.date()
        while _day_start(d) < end:
            lo, hi = max(start, _day_start(d)), min(end, _day_start(d) + DAY)
            if hi > lo:
                healthy += (hi - lo).total_seconds() * self.day_health(d)
            d += DAY
        return healthy / total


def load_health(session: Session, since: datetime, *, enabled_only: bool = True) -> dict[int, SourceHealth]:
    """Every (enabled) source's daily health from ``since`` on, with its first poll ever."""
    sources = session.scalars(
        select(Source).where(Source.enabled.is_(True)) if enabled_only else select(Source)
    )
    out = {
        s.id: SourceHealth(
            source_id=s.id,
            key=s.key,
            publisher=s.publisher,
            interval_s=int(s.poll_interval_s or 1800),
            first_poll=None,
            failing_since=s.failing_since,
            last_error=s.last_error,
            consecutive_failures=int(s.consecutive_failures or 0),
        )
        for s in sources
    }
    if not out:
        return out
    carry = max(h._carry_days() for h in out.values())
    for source_id, first in session.execute(
        select(SourcePoll.source_id, func.min(SourcePoll.started_at)).group_by(SourcePoll.source_id)
    ):
        if source_id in out and first is not None:
            out[source_id].first_poll = as_utc(first)
    day = func.date(SourcePoll.started_at)
    rows = session.execute(
        select(
            SourcePoll.source_id,
            day,
            func.sum(case((SourcePoll.ok.is_(True), 1), else_=0)),
            func.count(),
        )
        .where(SourcePoll.started_at >= since - timedelta(days=carry + 1))
        .group_by(SourcePoll.source_id, day)
    )
    for source_id, d, ok, total in rows:
        if source_id in out and total:
            out[source_id].days[_as_date(d)] = float(ok or 0) / float(total)
    return out


def weighted_health(
    health: dict[int, SourceHealth], weights: dict[int, float], start: datetime, end: datetime
) -> tuple[float | None, list[tuple[SourceHealth, float, float]]]:
    """The weighted mean health of the sources in ``weights`` (source id -> weight).

    Returns the mean (None when no weighted source is known) and, per source,
    (source, weight, health), the least healthy first.
    """
    parts = [
        (health[sid], w, health[sid].health(start, end))
        for sid, w in weights.items()
        if sid in health and w > 0
    ]
    total = sum(w for _, w, _ in parts)
    if not parts or total <= 0:
        return None, []
    mean = sum(w * h for _, w, h in parts) / total
    return mean, sorted(parts, key=lambda p: (p[2], -p[1]))

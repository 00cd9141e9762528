"""What the Commitments dashboard shows, read from the database (read-only, no Airflow).

When a reference happened is ``references.referenced_at``, stamped by the database (migration
0002) exactly as the analysts' views read it: a statement's first version refers from its
publication date (else from when we first fetched it), a later edit from when we fetched that
edit. Counts and timelines count *new* references only (``is_new``: the statement refers to the
commitment for the first time), so a statement edited five times is one reference, not six,
and an edit that adds a reference counts on the day of the edit.

The status comes from ``commitment_status`` (written by the daily quiet check); a mute still in
force on the commitment or on one above it (mutes cover the commitments under them, as the
alerts treat them) shows as ``muted``, with the computed status beside it; a commitment the
check has not looked at yet shows as ``unchecked``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select, type_coerce
from sqlalchemy.orm import Session

from alerts.mute import muted_until
from models import Commitment, CommitmentStatus, Reference, Source, SourcePoll, Statement, utcnow
from models.timeutil import UTCDateTime

WINDOWS = (30, 90, 365)
TIMELINE_WEEKS = 52


STATUSES = ("active", "quiet", "unknown", "never", "muted", "unchecked")


def referenced_at() -> ColumnElement[datetime]:
    """When a reference happened (stamped by the database; when we stored it, should it be missing)."""
    return type_coerce(func.coalesce(Reference.referenced_at, Reference.created_at), UTCDateTime())


def id_sort_key(commitment_id: str) -> tuple[Any, ...]:
    """c2a.7.10 after c2a.7.9: numbers compare as numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.]", commitment_id))


@dataclass(frozen=True)
class ReferenceView:
    id: int
    commitment_id: str
    at: datetime | None
    evidence: str
    cue: str
    score: float
    method: str
    is_new: bool
    statement_id: int
    url: str
    title: str | None
    publisher: str | None
    lang: str | None


@dataclass
class CommitmentRow:
    id: str
    title: str
    family: str
    level: str
    status: str  # what the dashboard shows: ``muted`` while a mute is in force, else ``computed``
    computed: str = "unchecked"  # what the quiet check measured
    since: datetime | None = None
    threshold_days: int | None = None
    muted_until: datetime | None = None
    mute_reason: str | None = None
    muted_by: str | None = None  # the commitment whose mute applies (itself, or one above it)
    checked_at: datetime | None = None
    counts: dict[int, int] = field(default_factory=lambda: dict.fromkeys(WINDOWS, 0))
    weekly: list[int] = field(default_factory=lambda: [0] * TIMELINE_WEEKS)
    last: ReferenceView | None = None


@dataclass
class CommitmentDetail:
    row: CommitmentRow
    references: list[ReferenceView]
    total: int


@dataclass
class SourceRow:
    key: str
    publisher: str
    kind: str
    url: str
    enabled: bool
    health: str  # ok | failing | never polled | disabled
    consecutive_failures: int
    last_success_at: datetime | None
    last_failure_at: datetime | None
    failing_since: datetime | None
    last_error: str | None
    next_due_at: datetime | None
    polls_30d: int = 0
    ok_polls_30d: int = 0
    statements_30d: int = 0

    @property
    def success_rate(self) -> float | None:
        return self.ok_polls_30d / self.polls_30d if self.polls_30d else None


@dataclass(frozen=True)
class PollView:
    started_at: datetime | None
    finished_at: datetime | None
    ok: bool
    http_status: int | None
    error: str | None
    discovered: int
    fetched: int
    new_statements: int
    new_versions: int
    failed_items: int


@dataclass(frozen=True)
class StatementView:
    id: int
    url: str
    title: str | None
    published_at: datetime | None
    first_seen_at: datetime | None
    references: int


@dataclass
class SourceDetail:
    row: SourceRow
    polls: list[PollView]  # the latest, newest first
    statements: list[StatementView]
    history: list[tuple[datetime, bool]] = field(default_factory=list)  # every poll of the last 30 days


HEALTH_DAYS = 30


def _reference_query() -> Select[Any]:
    return select(Reference, Statement, referenced_at().label("at")).join(
        Statement, Reference.statement_id == Statement.id
    )


def _reference_view(ref: Reference, st: Statement, at: datetime | None) -> ReferenceView:
    return ReferenceView(
        id=ref.id,
        commitment_id=ref.commitment_id,
        at=at,
        evidence=ref.evidence,
        cue=ref.cue,
        score=ref.score,
        method=ref.method,
        is_new=ref.is_new,
        statement_id=st.id,
        url=st.url,
        title=st.title,
        publisher=st.publisher,
        lang=ref.lang or st.lang,
    )


def _week_index(at: datetime, now: datetime) -> int | None:
    """Bucket 0 is the oldest of the 52 weeks ending now; None outside them."""
    age = (now - at).days // 7
    return TIMELINE_WEEKS - 1 - age if 0 <= age < TIMELINE_WEEKS else None


@dataclass(frozen=True)
class _Mute:
    until: datetime
    reason: str | None


def _mutes(session: Session, now: datetime) -> dict[str, _Mute]:
    """Mutes still in force, by the commitment they were set on."""
    rows = session.execute(
        select(
            CommitmentStatus.commitment_id, CommitmentStatus.muted_until, CommitmentStatus.mute_reason
        ).where(CommitmentStatus.muted_until > now)
    )
    return {cid: _Mute(until, reason) for cid, until, reason in rows}


def _row(c: Commitment, state: CommitmentStatus | None, mutes: dict[str, _Mute]) -> CommitmentRow:
    computed = (state.status if state is not None else None) or "unchecked"
    row = CommitmentRow(
        id=c.id,
        title=c.title,
        family=c.family,
        level=c.level,
        status=computed,
        computed=computed,
        since=state.since if state else None,
        threshold_days=(state.threshold_days if state and state.threshold_days else c.quiet_days),
        checked_at=state.checked_at if state else None,
    )
    until = muted_until(c.id, {cid: m.until for cid, m in mutes.items()})
    if until is not None:
        parts = c.id.split(".")
        by = next(
            k
            for k in (".".join(parts[:d]) for d in range(len(parts), 0, -1))
            if k in mutes and mutes[k].until == until
        )
        row.status, row.muted_until, row.mute_reason, row.muted_by = "muted", until, mutes[by].reason, by
    return row


def _overview(session: Session, now: datetime, only: str | None = None) -> list[CommitmentRow]:
    query = select(Commitment, CommitmentStatus).outerjoin(
        CommitmentStatus, CommitmentStatus.commitment_id == Commitment.id
    )
    # the overview lists the catalog; a commitment dropped from it keeps its own page (its history)
    query = (
        query.where(Commitment.id == only) if only is not None else query.where(Commitment.active.is_(True))
    )
    mutes = _mutes(session, now)
    rows = {c.id: _row(c, state, mutes) for c, state in session.execute(query).all()}
    if not rows:
        return []

    at = referenced_at()
    year_ago = now - timedelta(days=max(WINDOWS))
    counted = select(Reference.commitment_id, at).where(Reference.is_new.is_(True), at >= year_ago, at <= now)
    if only is not None:
        counted = counted.where(Reference.commitment_id == only)
    for commitment_id, when in session.execute(counted).all():
        row = rows.get(commitment_id)
        if row is None or when is None:
            continue
        for days in WINDOWS:
            if when >= now - timedelta(days=days):
                row.counts[days] += 1
        week = _week_index(when, now)
        if week is not None:
            row.weekly[week] += 1

    ranked = select(
        Reference.id,
        func.row_number()
        .over(partition_by=Reference.commitment_id, order_by=(at.desc(), Reference.id.desc()))
        .label("rank"),
    ).where(Reference.is_new.is_(True), at <= now)
    if only is not None:
        ranked = ranked.where(Reference.commitment_id == only)
    latest = ranked.subquery()
    last_ids = select(latest.c.id).where(latest.c.rank == 1)
    for ref, st, when in session.execute(_reference_query().where(Reference.id.in_(last_ids))).all():
        if ref.commitment_id in rows:
            rows[ref.commitment_id].last = _reference_view(ref, st, when)
    return sorted(rows.values(), key=lambda r: id_sort_key(r.id))


def commitments_overview(session: Session, now: datetime | None = None) -> list[CommitmentRow]:
    """Every active commitment with its status, new references per window, weekly timeline and
    last new reference."""
    return _overview(session, now or utcnow())


def commitment_detail(
    session: Session, commitment_id: str, *, now: datetime | None = None, limit: int = 500
) -> CommitmentDetail | None:
    """One commitment with its new references, newest first (None when the id is unknown)."""
    now = now or utcnow()
    rows = _overview(session, now, only=commitment_id)
    if not rows:
        return None
    at = referenced_at()
    query = _reference_query().where(Reference.commitment_id == commitment_id, Reference.is_new.is_(True))
    refs = [
        _reference_view(ref, st, when)
        for ref, st, when in session.execute(query.order_by(at.desc(), Reference.id.desc()).limit(limit))
    ]
    total = session.scalar(
        select(func.count())
        .select_from(Reference)
        .where(Reference.commitment_id == commitment_id, Reference.is_new.is_(True))
    )
    return CommitmentDetail(row=rows[0], references=refs, total=int(total or 0))


def _health(source: Source) -> str:
    if not source.enabled:
        return "disabled"
    if source.consecutive_failures:
        return "failing"
    if source.last_success_at is None:
        return "never polled"
    return "ok"


def sources_overview(session: Session, now: datetime | None = None) -> list[SourceRow]:
    """Every source with its health and the last 30 days of polls and statements."""
    now = now or utcnow()
    since = now - timedelta(days=HEALTH_DAYS)
    polls = {
        source_id: (int(total), int(ok or 0))
        for source_id, total, ok in session.execute(
            select(
                SourcePoll.source_id,
                func.count(),
                func.sum(case((SourcePoll.ok.is_(True), 1), else_=0)),
            )
            .where(SourcePoll.started_at >= since)
            .group_by(SourcePoll.source_id)
        )
    }
    statements = dict(
        session.execute(
            select(Statement.source_id, func.count())
            .where(Statement.first_seen_at >= since)
            .group_by(Statement.source_id)
        ).all()
    )
    rows = []
    for s in session.scalars(select(Source).order_by(Source.enabled.desc(), Source.key)):
        total, ok = polls.get(s.id, (0, 0))
        rows.append(
            SourceRow(
                key=s.key,
                publisher=s.publisher,
                kind=s.kind,
                url=s.url,
                enabled=s.enabled,
                health=_health(s),
                consecutive_failures=s.consecutive_failures or 0,
                last_success_at=s.last_success_at,
                last_failure_at=s.last_failure_at,
                failing_since=s.failing_since,
                last_error=s.last_error,
                next_due_at=s.next_due_at,
                polls_30d=total,
                ok_polls_30d=ok,
                statements_30d=int(statements.get(s.id, 0)),
            )
        )
    return rows


def source_detail(
    session: Session, key: str, *, now: datetime | None = None, polls: int = 20, statements: int = 30
) -> SourceDetail | None:
    """One source: its health (every poll of the last 30 days), its latest polls and statements."""
    now = now or utcnow()
    row = next((r for r in sources_overview(session, now) if r.key == key), None)
    if row is None:
        return None
    source_id = session.scalar(select(Source.id).where(Source.key == key))
    poll_rows = session.scalars(
        select(SourcePoll)
        .where(SourcePoll.source_id == source_id)
        .order_by(SourcePoll.started_at.desc(), SourcePoll.id.desc())
        .limit(polls)
    )
    history = session.execute(
        select(SourcePoll.started_at, SourcePoll.ok)
        .where(SourcePoll.source_id == source_id, SourcePoll.started_at >= now - timedelta(days=HEALTH_DAYS))
        .order_by(SourcePoll.started_at, SourcePoll.id)
    ).all()
    ref_counts = (  # commitments each statement refers to (any version)
        select(Reference.statement_id, func.count(func.distinct(Reference.commitment_id)).label("n"))
        .group_by(Reference.statement_id)
        .subquery()
    )
    statement_rows = session.execute(
        select(Statement, func.coalesce(ref_counts.c.n, 0))
        .outerjoin(ref_counts, ref_counts.c.statement_id == Statement.id)
        .where(Statement.source_id == source_id)
        .order_by(Statement.first_seen_at.desc(), Statement.id.desc())
        .limit(statements)
    ).all()
    return SourceDetail(
        row=row,
        polls=[
            PollView(
                started_at=p.started_at,
                finished_at=p.finished_at,
                ok=p.ok,
                http_status=p.http_status,
                error=p.error,
                discovered=p.discovered,
                fetched=p.fetched,
                new_statements=p.new_statements,
                new_versions=p.new_versions,
                failed_items=p.failed_items,
            )
            for p in poll_rows
        ],
        statements=[
            StatementView(
                id=st.id,
                url=st.url,
                title=st.title,
                published_at=st.published_at,
                first_seen_at=st.first_seen_at,
                references=int(n),
            )
            for st, n in statement_rows
        ],
        history=[(started, bool(ok)) for started, ok in history],
    )

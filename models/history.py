"""Read-only questions over the change history, asked through the analyst views.

The ``v_*`` views (migration 0002) are the public SQL interface; the helpers here query those
same views, so the commands, the report, the bench and an analyst at a SQL prompt all read one
definition of "when was this commitment referenced" and cannot drift apart. Nothing here writes.

Times are aware UTC in Python (as everywhere in ``models``); time buckets are labels such as
``2025-03`` (month), ``2025-Q1`` (quarter) and ``2025`` (year), cut in SQL by the views and
mirrored by ``period_label`` here.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Float,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    case,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from models.tables import Json, Reference, Source, SourcePoll, Statement, Version
from models.timeutil import UTCDateTime, as_utc, utcnow

# The views, described for SQLAlchemy Core. A MetaData of their own: ``create_all`` and the
# models-versus-migrations comparison must never treat them as tables.
VIEWS = MetaData()
_T = UTCDateTime


def _view(name: str, *columns: Column[Any]) -> Table:
    return Table(name, VIEWS, *columns)


v_statements = _view(
    "v_statements",
    Column("statement_id", BigInteger),
    Column("url", Text),
    Column("url_hash", String),
    Column("publisher", String),
    Column("source_key", String),
    Column("title", Text),
    Column("published_at", _T),
    Column("lang", String),
    Column("cluster_id", BigInteger),
    Column("first_seen_at", _T),
    Column("last_seen_at", _T),
    Column("version_count", Integer),
    Column("last_changed_at", _T),
    Column("reference_count", Integer),
    Column("commitment_count", Integer),
)

v_references = _view(
    "v_references",
    Column("reference_id", BigInteger),
    Column("commitment_id", String),
    Column("commitment_title", Text),
    Column("commitment_family", String),
    Column("commitment_parent_id", String),
    Column("statement_id", BigInteger),
    Column("version_id", BigInteger),
    Column("version_seq", Integer),
    Column("url", Text),
    Column("url_hash", String),
    Column("publisher", String),
    Column("source_key", String),
    Column("title", Text),
    Column("published_at", _T),
    Column("fetched_at", _T),
    Column("created_at", _T),
    Column("referenced_at", _T),
    Column("lang", String),
    Column("score", Float),
    Column("cue", Text),
    Column("evidence", Text),
    Column("evidence_start", Integer),
    Column("start_offset", Integer),
    Column("end_offset", Integer),
    Column("method", String),
    Column("implied", Boolean),
    Column("is_new", Boolean),
    Column("cluster_id", BigInteger),
)

v_commitment_timeline = _view(
    "v_commitment_timeline",
    Column("commitment_id", String),
    Column("grain", String),
    Column("period", String),
    Column("publisher", String),
    Column("reference_count", Integer),
    Column("new_reference_count", Integer),
    Column("direct_reference_count", Integer),
    Column("statement_count", Integer),
    Column("first_referenced_at", _T),
    Column("last_referenced_at", _T),
)

v_commitment_status = _view(
    "v_commitment_status",
    Column("commitment_id", String),
    Column("parent_id", String),
    Column("family", String),
    Column("level", String),
    Column("title", Text),
    Column("active", Boolean),
    Column("status", String),
    Column("status_since", _T),
    Column("threshold_days", Integer),
    Column("gap_days", Float),
    Column("usual_gap_days", Float),
    Column("source_health", Float),
    Column("muted_until", _T),
    Column("mute_reason", Text),
    Column("checked_at", _T),
    Column("status_last_reference_at", _T),
    Column("reference_count", Integer),
    Column("new_reference_count", Integer),
    Column("first_referenced_at", _T),
    Column("last_referenced_at", _T),
)

v_statement_changes = _view(
    "v_statement_changes",
    Column("version_id", BigInteger),
    Column("statement_id", BigInteger),
    Column("url", Text),
    Column("url_hash", String),
    Column("publisher", String),
    Column("source_key", String),
    Column("title", Text),
    Column("seq", Integer),
    Column("fetched_at", _T),
    Column("content_hash", String),
    Column("text_chars", Integer),
    Column("change_kind", String),
    Column("previous_version_id", BigInteger),
    Column("previous_seq", Integer),
    Column("previous_fetched_at", _T),
    Column("added_chars", Integer),
    Column("removed_chars", Integer),
    Column("added", Json),
    Column("removed", Json),
)

v_source_health = _view(
    "v_source_health",
    Column("source_id", BigInteger),
    Column("source_key", String),
    Column("publisher", String),
    Column("kind", String),
    Column("url", Text),
    Column("enabled", Boolean),
    Column("consecutive_failures", Integer),
    Column("failing_since", _T),
    Column("last_success_at", _T),
    Column("last_failure_at", _T),
    Column("last_error", Text),
    Column("period", String),
    Column("polls", Integer),
    Column("ok_polls", Integer),
    Column("failed_polls", Integer),
    Column("ok_ratio", Float),
    Column("first_poll_at", _T),
    Column("last_poll_at", _T),
    Column("last_failed_poll_at", _T),
)

VIEW_NAMES = tuple(VIEWS.tables)
GRAINS = ("month", "quarter", "year")


class HistoryError(LookupError):
    """What was asked for is not in the history; the message says what and what exists."""


# --- periods ------------------------------------------------------------------------------


def period_label(when: datetime, by: str) -> str:
    """The label of the period holding ``when`` (UTC), exactly as the views cut it."""
    when = as_utc(when) or when
    if by == "month":
        return f"{when.year:04d}-{when.month:02d}"
    if by == "quarter":
        return f"{when.year:04d}-Q{(when.month + 2) // 3}"
    if by == "year":
        return f"{when.year:04d}"
    raise ValueError(f"unknown period {by!r}: choose one of {', '.join(GRAINS)}")


def period_bounds(label: str) -> tuple[datetime, datetime]:
    """Start (inclusive) and end (exclusive) of a period label, in UTC."""
    try:
        if "-Q" in label:
            year, quarter = label.split("-Q")
            start = datetime(int(year), 3 * int(quarter) - 2, 1, tzinfo=UTC)
            months = 3
        elif "-" in label:
            year, month = label.split("-")
            start = datetime(int(year), int(month), 1, tzinfo=UTC)
            months = 1
        else:
            start = datetime(int(label), 1, 1, tzinfo=UTC)
            months = 12
    except ValueError as exc:
        raise ValueError(f"not a period label: {label!r}") from exc
    index = start.year * 12 + start.month - 1 + months
    return start, datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def periods_between(first: datetime, last: datetime, by: str) -> list[str]:
    """Every period label from the one holding ``first`` to the one holding ``last``."""
    labels: list[str] = []
    label = period_label(first, by)
    end_label = period_label(last, by)
    while True:
        labels.append(label)
        if label >= end_label:
            return labels
        label = period_label(period_bounds(label)[1], by)


# --- statements and their versions --------------------------------------------------------


@dataclass(frozen=True)
class StatementInfo:
    id: int
    url: str
    url_hash: str
    publisher: str | None
    source_key: str | None
    title: str | None
    published_at: datetime | None
    lang: str | None
    cluster_id: int | None
    first_seen_at: datetime
    last_seen_at: datetime
    version_count: int
    reference_count: int


@dataclass(frozen=True)
class VersionInfo:
    id: int
    seq: int
    fetched_at: datetime
    content_hash: str
    title: str | None
    text_chars: int
    change_kind: str  # first | changed
    added: list[str]
    removed: list[str]
    added_chars: int
    removed_chars: int
    commitments: tuple[str, ...]


@dataclass(frozen=True)
class VersionDiff:
    statement_id: int
    from_seq: int
    to_seq: int
    from_fetched_at: datetime
    to_fetched_at: datetime
    lines: list[str]  # a unified diff, one paragraph per line

    @property
    def added(self) -> list[str]:
        return [line[1:] for line in self.lines if line.startswith("+") and not line.startswith("+++")]

    @property
    def removed(self) -> list[str]:
        return [line[1:] for line in self.lines if line.startswith("-") and not line.startswith("---")]


def find_statement(
    session: Session,
    *,
    statement_id: int | None = None,
    url_hash: str | None = None,
    url: str | None = None,
) -> StatementInfo:
    """One statement by id, by URL hash (its canonical key) or by the URL exactly as stored."""
    query = select(v_statements)
    if statement_id is not None:
        query = query.where(v_statements.c.statement_id == statement_id)
        wanted = f"statement {statement_id}"
    elif url_hash is not None or url is not None:
        conditions = []
        if url_hash is not None:
            conditions.append(v_statements.c.url_hash == url_hash)
        if url is not None:
            conditions.append(v_statements.c.url == url)
        query = query.where(or_(*conditions))
        wanted = f"a statement at {url or url_hash}"
    else:
        raise ValueError("give a statement id, a URL hash or a URL")
    row = session.execute(query.limit(1)).mappings().first()
    if row is None:
        raise HistoryError(f"no {wanted} in the history")
    return StatementInfo(
        id=row["statement_id"],
        url=row["url"],
        url_hash=row["url_hash"],
        publisher=row["publisher"],
        source_key=row["source_key"],
        title=row["title"],
        published_at=row["published_at"],
        lang=row["lang"],
        cluster_id=row["cluster_id"],
        first_seen_at=row["first_seen_at"],
        last_seen_at=row["last_seen_at"],
        version_count=row["version_count"] or 0,
        reference_count=row["reference_count"] or 0,
    )


def statement_versions(session: Session, statement_id: int) -> list[VersionInfo]:
    """Every version of a statement, oldest first, with its delta and the commitments it refers to."""
    changes = session.execute(
        select(v_statement_changes)
        .where(v_statement_changes.c.statement_id == statement_id)
        .order_by(v_statement_changes.c.seq)
    ).mappings()
    refs: dict[int, list[str]] = defaultdict(list)
    for version_id, commitment_id in session.execute(
        select(Reference.version_id, Reference.commitment_id)
        .where(Reference.statement_id == statement_id)
        .order_by(Reference.commitment_id)
    ):
        refs[version_id].append(commitment_id)
    return [
        VersionInfo(
            id=row["version_id"],
            seq=row["seq"],
            fetched_at=row["fetched_at"],
            content_hash=row["content_hash"],
            title=row["title"],
            text_chars=row["text_chars"] or 0,
            change_kind=row["change_kind"],
            added=list(row["added"] or []),
            removed=list(row["removed"] or []),
            added_chars=row["added_chars"] or 0,
            removed_chars=row["removed_chars"] or 0,
            commitments=tuple(refs.get(row["version_id"], ())),
        )
        for row in changes
    ]


def version_text(session: Session, statement_id: int, seq: int) -> tuple[str, datetime]:
    row = session.execute(
        select(Version.text, Version.fetched_at).where(
            Version.statement_id == statement_id, Version.seq == seq
        )
    ).first()
    if row is None:
        count = session.scalar(
            select(func.count()).select_from(Version).where(Version.statement_id == statement_id)
        )
        raise HistoryError(f"statement {statement_id} has no version {seq} (it has {count or 0})")
    return row[0], row[1]


def diff_versions(session: Session, statement_id: int, from_seq: int, to_seq: int) -> VersionDiff:
    """A paragraph-level unified diff between any two versions of one statement.

    Paragraphs, not characters: statements are edited a sentence or a paragraph at a time, and
    a reader wants to see the paragraph that changed, whole.
    """
    old, old_at = version_text(session, statement_id, from_seq)
    new, new_at = version_text(session, statement_id, to_seq)
    lines = list(
        difflib.unified_diff(
            _paragraphs(old),
            _paragraphs(new),
            fromfile=f"version {from_seq} ({old_at:%Y-%m-%d %H:%M} UTC)",
            tofile=f"version {to_seq} ({new_at:%Y-%m-%d %H:%M} UTC)",
            lineterm="",
            n=1,
        )
    )
    return VersionDiff(statement_id, from_seq, to_seq, old_at, new_at, lines)


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.splitlines() if p.strip()]


# --- references ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceRow:
    reference_id: int
    commitment_id: str
    commitment_title: str
    statement_id: int
    version_id: int
    version_seq: int
    url: str
    publisher: str | None
    source_key: str | None
    title: str | None
    published_at: datetime | None
    fetched_at: datetime
    referenced_at: datetime
    lang: str | None
    score: float
    cue: str
    evidence: str
    evidence_start: int
    start_offset: int
    end_offset: int
    method: str
    implied: bool
    is_new: bool

    @property
    def cue_span(self) -> tuple[int, int] | None:
        """Where the cue sits inside ``evidence`` (None when the offsets do not fit it)."""
        start, end = self.start_offset - self.evidence_start, self.end_offset - self.evidence_start
        if 0 <= start < end <= len(self.evidence):
            return start, end
        return None


_REFERENCE_FIELDS = tuple(ReferenceRow.__dataclass_fields__)


def references_query(
    commitment_id: str | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    publisher: str | None = None,
    lang: str | None = None,
    new_only: bool = False,
    limit: int | None = None,
) -> Select[Any]:
    """The references-by-commitment query, newest first (shared with the bench)."""
    v = v_references
    query = select(*(v.c[name] for name in _REFERENCE_FIELDS))
    if commitment_id is not None:
        query = query.where(v.c.commitment_id == commitment_id)
    if since is not None:
        query = query.where(v.c.referenced_at >= since)
    if until is not None:
        query = query.where(v.c.referenced_at < until)
    if publisher is not None:
        query = query.where(func.lower(v.c.publisher) == publisher.lower())
    if lang is not None:
        query = query.where(func.lower(v.c.lang) == lang.lower())
    if new_only:
        query = query.where(v.c.is_new)
    query = query.order_by(v.c.referenced_at.desc(), v.c.reference_id.desc())
    return query.limit(limit) if limit else query


def find_references(
    session: Session,
    commitment_id: str | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    publisher: str | None = None,
    lang: str | None = None,
    new_only: bool = False,
    limit: int | None = None,
) -> list[ReferenceRow]:
    """References (to one commitment, or to any), newest first; ``until`` is exclusive."""
    if commitment_id is not None:
        require_commitment(session, commitment_id)
    query = references_query(
        commitment_id,
        since=since,
        until=until,
        publisher=publisher,
        lang=lang,
        new_only=new_only,
        limit=limit,
    )
    return [ReferenceRow(**row) for row in session.execute(query).mappings()]


# --- commitments: status and timeline -----------------------------------------------------


@dataclass(frozen=True)
class CommitmentState:
    commitment_id: str
    parent_id: str | None
    family: str
    level: str
    title: str
    active: bool
    status: str
    status_since: datetime | None
    threshold_days: int | None
    gap_days: float | None
    usual_gap_days: float | None
    source_health: float | None
    muted_until: datetime | None
    mute_reason: str | None
    checked_at: datetime | None
    reference_count: int
    new_reference_count: int
    first_referenced_at: datetime | None
    last_referenced_at: datetime | None


def commitment_states(session: Session, *, active_only: bool = True) -> list[CommitmentState]:
    """Every commitment with its computed status and what its references say, by id."""
    v = v_commitment_status
    fields = CommitmentState.__dataclass_fields__
    query = select(*(v.c[name] for name in fields)).order_by(v.c.commitment_id)
    if active_only:
        query = query.where(v.c.active)
    return [
        CommitmentState(
            **{
                **row,
                "reference_count": row["reference_count"] or 0,
                "new_reference_count": row["new_reference_count"] or 0,
            }
        )
        for row in session.execute(query).mappings()
    ]


def require_commitment(session: Session, commitment_id: str) -> CommitmentState:
    """The commitment's state, or a HistoryError naming the ids that do exist."""
    states = {s.commitment_id: s for s in commitment_states(session, active_only=False)}
    if commitment_id in states:
        return states[commitment_id]
    close = difflib.get_close_matches(commitment_id, list(states), n=5, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    known = "no commitments synced yet (run a match first)" if not states else f"{len(states)} known"
    raise HistoryError(f"unknown commitment {commitment_id!r} ({known}){hint}")


@dataclass
class PeriodCount:
    label: str
    start: datetime
    end: datetime
    new_references: int = 0
    references: int = 0
    statements: int = 0
    by_publisher: dict[str, int] = field(default_factory=dict)  # new references per publisher
    quiet: bool = False  # overlaps a quiet span


@dataclass
class Timeline:
    commitment_id: str
    title: str
    by: str
    threshold_days: int
    periods: list[PeriodCount]
    publishers: list[str]  # by number of new references, most first
    quiet_spans: list[tuple[datetime, datetime]]
    now: datetime

    @property
    def total_new(self) -> int:
        return sum(p.new_references for p in self.periods)


UNKNOWN_PUBLISHER = "(unknown)"


def timeline_query(commitment_id: str, by: str) -> Select[Any]:
    """The per-commitment timeline query (shared with the bench)."""
    v = v_commitment_timeline
    return (
        select(
            v.c.period,
            v.c.publisher,
            v.c.new_reference_count,
            v.c.reference_count,
            v.c.statement_count,
        )
        .where(v.c.commitment_id == commitment_id, v.c.grain == by)
        .order_by(v.c.period, v.c.publisher)
    )


def mention_dates(session: Session, commitment_id: str) -> list[datetime]:
    """When each new reference to a commitment appeared, oldest first."""
    v = v_references
    return list(
        session.scalars(
            select(v.c.referenced_at)
            .where(v.c.commitment_id == commitment_id, v.c.is_new)
            .order_by(v.c.referenced_at)
        )
    )


def quiet_spans(
    dates: Sequence[datetime], threshold_days: float, now: datetime
) -> list[tuple[datetime, datetime]]:
    """Spans during which a commitment counted as quiet: from ``threshold`` days after a new
    reference until the next one (or ``now``). Before the first reference there is no
    baseline, so nothing is quiet.

    This replays the quiet rule over the whole history for charts; the alerts' quiet step
    (``commitment_status``) additionally discounts windows in which sources were unhealthy.
    """
    threshold = timedelta(days=threshold_days)
    spans: list[tuple[datetime, datetime]] = []
    ordered = sorted(dates)
    for index, current in enumerate(ordered):
        quiet_from = current + threshold
        quiet_to = ordered[index + 1] if index + 1 < len(ordered) else now
        if quiet_to > quiet_from:
            spans.append((quiet_from, quiet_to))
    return spans


def commitment_timeline(
    session: Session,
    commitment_id: str,
    *,
    by: str = "month",
    since: datetime | None = None,
    until: datetime | None = None,
    default_threshold_days: int = 90,
    now: datetime | None = None,
) -> Timeline:
    """New references per period and publisher, every period in range (empty ones too),
    with the quiet spans. Range: ``since`` (or the first reference) to ``until`` (or now)."""
    if by not in GRAINS:
        raise ValueError(f"unknown period {by!r}: choose one of {', '.join(GRAINS)}")
    state = require_commitment(session, commitment_id)
    now = as_utc(now) or utcnow()
    rows = session.execute(timeline_query(commitment_id, by)).all()
    dates = mention_dates(session, commitment_id)
    threshold = state.threshold_days or default_threshold_days

    first = since or (dates[0] if dates else None)
    if first is None and rows:
        first = period_bounds(rows[0].period)[0]
    last = until - timedelta(microseconds=1) if until else now
    labels = periods_between(first, last, by) if first is not None and first <= last else []
    periods = {label: PeriodCount(label, *period_bounds(label)) for label in labels}
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        period = periods.get(row.period)
        if period is None:
            continue
        publisher = row.publisher or UNKNOWN_PUBLISHER
        new = int(row.new_reference_count or 0)
        period.new_references += new
        period.references += int(row.reference_count or 0)
        period.statements += int(row.statement_count or 0)
        if new:
            period.by_publisher[publisher] = period.by_publisher.get(publisher, 0) + new
            totals[publisher] += new
    spans = quiet_spans(dates, threshold, now)
    if labels:
        window_start, window_end = periods[labels[0]].start, min(periods[labels[-1]].end, now)
        spans = [(max(a, window_start), min(b, window_end)) for a, b in spans if b > window_start]
        spans = [(a, b) for a, b in spans if b > a and a < window_end]
    for period in periods.values():
        period.quiet = any(a < period.end and b > period.start for a, b in spans)
    return Timeline(
        commitment_id=commitment_id,
        title=state.title,
        by=by,
        threshold_days=threshold,
        periods=list(periods.values()),
        publishers=sorted(totals, key=lambda p: (-totals[p], p)),
        quiet_spans=spans,
        now=now,
    )


# --- sources ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceHealth:
    source_id: int
    key: str
    publisher: str
    kind: str
    url: str
    enabled: bool
    consecutive_failures: int
    failing_since: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    polls: int  # in the window
    failed_polls: int
    last_failed_poll_at: datetime | None

    @property
    def ok_ratio(self) -> float | None:
        return (self.polls - self.failed_polls) / self.polls if self.polls else None


def source_health(session: Session, *, since: datetime, until: datetime | None = None) -> list[SourceHealth]:
    """Every source's current state and its polls in [since, until), by key.

    Reads ``source_polls`` by time (ix_source_polls_started) rather than the monthly
    ``v_source_health``, so that a window can start mid-month.
    """
    failed = case((SourcePoll.ok, 0), else_=1)
    window: list[ColumnElement[bool]] = [SourcePoll.started_at >= since]
    if until is not None:
        window.append(SourcePoll.started_at < until)
    polls = (
        select(
            SourcePoll.source_id,
            func.count().label("polls"),
            func.sum(failed).label("failed_polls"),
            func.max(case((SourcePoll.ok, None), else_=SourcePoll.started_at)).label("last_failed"),
        )
        .where(*window)
        .group_by(SourcePoll.source_id)
        .subquery()
    )
    rows = session.execute(
        select(Source, polls.c.polls, polls.c.failed_polls, polls.c.last_failed)
        .outerjoin(polls, polls.c.source_id == Source.id)
        .order_by(Source.key)
    ).all()
    return [
        SourceHealth(
            source_id=src.id,
            key=src.key,
            publisher=src.publisher,
            kind=src.kind,
            url=src.url,
            enabled=src.enabled,
            consecutive_failures=src.consecutive_failures,
            failing_since=src.failing_since,
            last_success_at=src.last_success_at,
            last_error=src.last_error,
            polls=int(n or 0),
            failed_polls=int(bad or 0),
            last_failed_poll_at=_as_datetime(last_failed),
        )
        for src, n, bad, last_failed in rows
    ]


def _as_datetime(value: Any) -> datetime | None:
    """A timestamp out of an untyped expression (SQLite hands back its stored text)."""
    if value is None or isinstance(value, datetime):
        return as_utc(value)
    return as_utc(datetime.fromisoformat(str(value)))


def new_references_by_commitment(
    session: Session, *, since: datetime, until: datetime | None = None
) -> dict[str, int]:
    """How many new references each commitment received in [since, until)."""
    v = v_references
    query = (
        select(v.c.commitment_id, func.count())
        .where(v.c.is_new, v.c.referenced_at >= since)
        .group_by(v.c.commitment_id)
    )
    if until is not None:
        query = query.where(v.c.referenced_at < until)
    return {cid: int(n) for cid, n in session.execute(query)}


@dataclass(frozen=True)
class HistoryCounts:
    statements: int
    versions: int
    changed_versions: int
    references: int
    new_references: int


def history_counts(session: Session, *, since: datetime, until: datetime | None = None) -> HistoryCounts:
    """What the history gained in a window: statements first seen, versions, references."""

    def count(model_column: Any, time_column: Any, *extra: Any) -> int:
        query = select(func.count(model_column)).where(time_column >= since, *extra)
        if until is not None:
            query = query.where(time_column < until)
        return int(session.scalar(query) or 0)

    v = v_references
    return HistoryCounts(
        statements=count(Statement.id, Statement.first_seen_at),
        versions=count(Version.id, Version.fetched_at),
        changed_versions=count(Version.id, Version.fetched_at, Version.seq > 1),
        references=count(v.c.reference_id, v.c.referenced_at),
        new_references=count(v.c.reference_id, v.c.referenced_at, v.c.is_new),
    )


# --- exports ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSpec:
    view: Table
    key: str  # stable order, so two exports of the same data are identical
    time_column: str  # what --since/--until filter on


EXPORTS: dict[str, ExportSpec] = {
    "references": ExportSpec(v_references, "reference_id", "referenced_at"),
    "statements": ExportSpec(v_statements, "statement_id", "published_at"),
    "changes": ExportSpec(v_statement_changes, "version_id", "fetched_at"),
}


def export_batches(
    session: Session,
    what: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    commitment_id: str | None = None,
    batch_size: int = 5000,
) -> Iterator[list[dict[str, Any]]]:
    """Rows of one view in batches, streamed from the database (a server-side cursor on
    PostgreSQL), so an export of millions of rows holds one batch in memory at a time."""
    spec = EXPORTS.get(what)
    if spec is None:
        raise ValueError(f"unknown export {what!r}: choose one of {', '.join(EXPORTS)}")
    view = spec.view
    query = select(view).order_by(view.c[spec.key])
    if since is not None:
        query = query.where(view.c[spec.time_column] >= since)
    if until is not None:
        query = query.where(view.c[spec.time_column] < until)
    if commitment_id is not None:
        if "commitment_id" not in view.c:
            raise ValueError(f"--commitment filters references only, not {what}")
        query = query.where(view.c.commitment_id == commitment_id)
    result = session.execute(query.execution_options(yield_per=batch_size))
    for partition in result.mappings().partitions(batch_size):
        yield [dict(row) for row in partition]

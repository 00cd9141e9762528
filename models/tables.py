"""The schema, as typed SQLAlchemy 2 ORM classes.

Every table that a pipeline step writes has a natural unique key (a URL hash, a
(version, commitment) pair, an alert's dedup key, ...). The steps insert with
"on conflict do nothing" against those keys, which is what makes a retried Airflow task, or
two runs at once, unable to duplicate a statement, a reference or an alert.

Alembic owns the schema (``models/migrations``); ``Base.metadata.create_all`` is for tests only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from models.timeutil import UTCDateTime, utcnow

# Integer on SQLite (so that the primary key is the rowid alias and autoincrements),
# BIGINT elsewhere: versions and references grow past 2**31 in a long-lived deployment.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: Json, list[Any]: Json}


class Source(Base):
    """One place we poll (a feed, a sitemap, a listing page or one watched page) of one publisher.

    Rows are synced from the source registry (``scrapers/sources.yaml``); the health columns
    are written by the scrape step and read by source-health alerts and the dashboard.
    """

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    publisher: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(Text)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    poll_interval_s: Mapped[int] = mapped_column(Integer, default=1800)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)

    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    next_due_at: Mapped[datetime | None]
    backfilled_at: Mapped[datetime | None]

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SourcePoll(Base):
    """One attempt to poll one source: the health history behind 'quiet' vs 'unknown'."""

    __tablename__ = "source_polls"
    __table_args__ = (
        Index("ix_source_polls_source_started", "source_id", "started_at"),
        # Health of every source over a window (the report, "which sources broke last month").
        Index("ix_source_polls_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    discovered: Mapped[int] = mapped_column(Integer, default=0)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new_statements: Mapped[int] = mapped_column(Integer, default=0)
    new_versions: Mapped[int] = mapped_column(Integer, default=0)
    failed_items: Mapped[int] = mapped_column(Integer, default=0)


class FetchState(Base):
    """Per-URL memory of the polite client: validators for conditional GET, failures, backoff."""

    __tablename__ = "fetch_state"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url_hash: Mapped[str] = mapped_column(String(40), unique=True)
    url: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    body_hash: Mapped[str | None] = mapped_column(String(64))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_fetched_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    backoff_until: Mapped[datetime | None]


class Statement(Base):
    """One published item, identified by its canonical URL."""

    __tablename__ = "statements"
    __table_args__ = (
        Index("ix_statements_published", "published_at"),
        Index("ix_statements_cluster", "cluster_id"),
        Index("ix_statements_source", "source_id", "first_seen_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url_hash: Mapped[str] = mapped_column(String(40), unique=True)
    url: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    publisher: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    lang: Mapped[str | None] = mapped_column(String(8))
    # Near-duplicates across sources (the same SG message on un.org and press.un.org) share a
    # cluster: the id of the first statement seen with that text. Alerts go once per cluster.
    cluster_id: Mapped[int | None] = mapped_column(BigInteger)
    fingerprint: Mapped[int | None] = mapped_column(BigInteger)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[Version]] = relationship(
        back_populates="statement", order_by="Version.seq", cascade="all, delete-orphan"
    )


class Version(Base):
    """One distinct normalised text of a statement; a new row only when that text changed."""

    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("statement_id", "seq"),
        Index("ix_versions_pending", "matched_at", "id"),
        Index("ix_versions_statement_fetched", "statement_id", "fetched_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(8))
    published_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    # NULL until the match step has processed this version: the match step's work queue.
    matched_at: Mapped[datetime | None]
    matcher_version: Mapped[str | None] = mapped_column(String(40))

    statement: Mapped[Statement] = relationship(back_populates="versions")


class Delta(Base):
    """What changed between a version and the one before it, paragraph by paragraph."""

    __tablename__ = "deltas"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"), unique=True)
    previous_version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"))
    added: Mapped[list[Any]] = mapped_column(default=list)
    removed: Mapped[list[Any]] = mapped_column(default=list)
    added_chars: Mapped[int] = mapped_column(Integer, default=0)
    removed_chars: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Commitment(Base):
    """One tracked commitment, synced from the catalog (ids from CATALOG-IDS.md)."""

    __tablename__ = "commitments"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(String(20))
    family: Mapped[str] = mapped_column(String(10))
    level: Mapped[str] = mapped_column(String(10))  # family | top | action
    title: Mapped[str] = mapped_column(Text)
    quiet_days: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommitmentStatus(Base):
    """The computed attention status of a commitment, with the evidence behind it.

    'quiet' is a measurement (no new reference for longer than the threshold while the
    sources were healthy), never a verdict; 'unknown' when we could not look.
    """

    __tablename__ = "commitment_status"

    commitment_id: Mapped[str] = mapped_column(
        ForeignKey("commitments.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20), default="never")  # active|quiet|unknown|never
    since: Mapped[datetime | None]
    last_reference_id: Mapped[int | None] = mapped_column(BigInteger)
    last_reference_at: Mapped[datetime | None]
    gap_days: Mapped[float | None] = mapped_column(Float)
    usual_gap_days: Mapped[float | None] = mapped_column(Float)
    threshold_days: Mapped[int | None] = mapped_column(Integer)
    source_health: Mapped[float | None] = mapped_column(Float)
    muted_until: Mapped[datetime | None]
    mute_reason: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Reference(Base):
    """A match: this version of this statement refers to this commitment, with evidence."""

    __tablename__ = "references"
    __table_args__ = (
        UniqueConstraint("version_id", "commitment_id"),
        Index("ix_references_commitment_created", "commitment_id", "created_at"),
        Index("ix_references_statement", "statement_id"),
        # A commitment's timeline and its newest references, read from this table alone.
        Index("ix_references_commitment_referenced", "commitment_id", "referenced_at"),
    )
    # The stamps below are written by a trigger (after the insert, on SQLite): read them back on
    # access, not from RETURNING, which on SQLite shows the row before its AFTER trigger ran.
    __mapper_args__ = {"eager_defaults": False}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    commitment_id: Mapped[str] = mapped_column(ForeignKey("commitments.id"))
    score: Mapped[float] = mapped_column(Float)
    cue: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    evidence_start: Mapped[int] = mapped_column(Integer, default=0)  # offset of the sentence in the text
    start_offset: Mapped[int] = mapped_column(Integer)
    end_offset: Mapped[int] = mapped_column(Integer)
    lang: Mapped[str | None] = mapped_column(String(8))
    method: Mapped[str] = mapped_column(String(20), default="rule")  # rule | semantic
    implied: Mapped[bool] = mapped_column(Boolean, default=False)  # a parent implied by a child
    # False when the previous version of the statement already referred to this commitment:
    # kept for history, but it does not alert again.
    is_new: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Filled by the database at insert (triggers in migration 0002; writers leave them out), so
    # that timelines need no join over millions of versions: when the referring text appeared
    # (the statement's publication date for its first version, else when the revision was
    # fetched) and who published it. Kept in step when a statement's date or publisher changes.
    referenced_at: Mapped[datetime | None] = mapped_column(server_default=FetchedValue())
    publisher: Mapped[str | None] = mapped_column(String(200), server_default=FetchedValue())


class Alert(Base):
    """The outbox: one message owed to a person, delivered at most once per dedup key."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_status_next", "status", "next_attempt_at"),
        Index("ix_alerts_kind_created", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    dedup_key: Mapped[str] = mapped_column(String(255), unique=True)
    commitment_id: Mapped[str | None] = mapped_column(String(20))
    statement_id: Mapped[int | None] = mapped_column(BigInteger)
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # pending -> sending -> sent | failed (permanent, surfaced) | unconfirmed (maybe posted by a
    # webhook, which cannot be checked) ; muted ; console (no Slack set up)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set just before a post, cleared once its outcome is known: a row found with it set was
    # maybe delivered (the sender died or timed out), so Slack is asked before posting again.
    posting_at: Mapped[datetime | None]
    slack_ts: Mapped[str | None] = mapped_column(String(64))
    slack_channel: Mapped[str | None] = mapped_column(String(40))  # the channel id Slack answered
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Run(Base):
    """What one pass (or one Airflow task) did: counts, errors, duration."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_kind_started", "kind", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    trigger: Mapped[str] = mapped_column(String(30), default="cli")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|ok|partial|failed
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    duration_s: Mapped[float | None] = mapped_column(Float)

"""Building the database state alert rules read: sources and their polls, statements, references.

Rows are written through the ORM exactly as the scrape and match steps write them, so the
rules under test read real rows on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from alerts.outbox import NewAlert, enqueue
from alerts.policy import AlertPolicy
from alerts.rules import reference_alerts
from models import Commitment, Reference, Source, SourcePoll, Statement, Version

_SERIAL = itertools.count(1)
COMMITMENTS = [
    # id, parent, family, level, title, quiet_days
    ("c2a", None, "c2a", "family", "The Secretary-General's Call to Action for Human Rights", None),
    ("c2a.4", "c2a", "c2a", "top", "Public participation and civic space", 60),
    ("c2a.4.2", "c2a.4", "c2a", "action", "A system-wide strategy on civic space", None),
    ("c2a.3.7", "c2a.3", "c2a", "action", "Gender parity across the UN system by 2028", 180),
    ("c2a.7.4", "c2a.7", "c2a", "action", "A ban on lethal autonomous weapon systems", 30),
    ("ngo.8", "ngo", "ngo", "top", "Abolition of the death penalty", None),
]


def add_commitments(session: Session, only: list[str] | None = None) -> None:
    for cid, parent, family, level, title, quiet in COMMITMENTS:
        if only is None or cid in only:
            session.merge(
                Commitment(
                    id=cid,
                    parent_id=parent,
                    family=family,
                    level=level,
                    title=title,
                    quiet_days=quiet,
                    active=True,
                )
            )
    session.flush()


def add_source(
    session: Session, key: str, *, publisher: str = "Test Office", interval_s: int = 1800, url: str = ""
) -> Source:
    source = Source(
        key=key,
        publisher=publisher,
        kind="listing",
        url=url or f"https://www.example.org/{key}",
        languages=["en"],
        poll_interval_s=interval_s,
        enabled=True,
        config={},
    )
    session.add(source)
    session.flush()
    return source


def add_polls(
    session: Session, source: Source, start: datetime, end: datetime, *, ok: bool = True, every: timedelta
) -> None:
    """Polls every ``every`` from ``start`` (included) to ``end`` (excluded), all ok or all failed."""
    at = start
    while at < end:
        session.add(
            SourcePoll(
                source_id=source.id, started_at=at, finished_at=at, ok=ok, error=None if ok else "HTTP 503"
            )
        )
        at += every
    session.flush()


def fail_source(
    session: Session,
    source: Source,
    since: datetime,
    failures: int,
    error: str = "HTTP 503",
    last_success: datetime | None = None,
) -> None:
    """The state the scrape step leaves on a source after ``failures`` failed polls in a row."""
    source.last_success_at = last_success or source.last_success_at
    source.consecutive_failures = failures
    source.failing_since = since
    source.last_failure_at = since
    source.last_error = error
    session.flush()


def recover_source(session: Session, source: Source, at: datetime) -> None:
    source.consecutive_failures = 0
    source.failing_since = None
    source.last_success_at = at
    source.last_error = None
    session.flush()


def add_reference(
    session: Session,
    source: Source | None,
    commitment_id: str,
    at: datetime,
    *,
    title: str = "A statement",
    url: str | None = None,
    text: str = "The High Commissioner spoke about civic space today.",
    cue: str = "civic space",
    lang: str = "en",
    publisher: str | None = "Test Office",
) -> Reference:
    """A statement published (and matched) at ``at`` that refers to ``commitment_id``."""
    url = url or f"https://www.example.org/statements/{next(_SERIAL)}"
    statement = Statement(
        url_hash=hashlib.sha1(url.encode()).hexdigest(),
        url=url,
        source_id=source.id if source else None,
        publisher=publisher,
        title=title,
        published_at=at,
        lang=lang,
        first_seen_at=at,
        last_seen_at=at,
    )
    session.add(statement)
    session.flush()
    version = Version(
        statement_id=statement.id,
        seq=1,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        title=title,
        text=text,
        lang=lang,
        published_at=at,
        fetched_at=at,
        matched_at=at,
    )
    session.add(version)
    session.flush()
    start = text.find(cue) if cue in text else 0
    ref = Reference(
        version_id=version.id,
        statement_id=statement.id,
        commitment_id=commitment_id,
        score=0.8,
        cue=cue,
        evidence=text,
        evidence_start=0,
        start_offset=start,
        end_offset=start + len(cue),
        lang=lang,
        method="rule",
        implied=False,
        is_new=True,
        created_at=at,
    )
    session.add(ref)
    session.flush()
    return ref


def owe_statement(
    session: Session,
    policy: AlertPolicy,
    title: str,
    commitments: list[str],
    *,
    text: str | None = None,
    cue: str = "civic space",
    url: str | None = None,
    lang: str = "en",
    publisher: str = "Test Office",
    at: datetime | None = None,
) -> list[NewAlert]:
    """A statement referring to ``commitments``, its references, and the alerts they owe.

    The alerts come from the real rule (``alerts.rules.reference_alerts``) and are enqueued as
    the match step does; returns them.
    """
    at = at or datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    text = text or f"The High Commissioner said {cue} matters."
    refs = [
        add_reference(
            session, None, cid, at, title=title, url=url, text=text, cue=cue, lang=lang, publisher=publisher
        )
        for cid in commitments[:1]
    ]
    statement = session.get(Statement, refs[0].statement_id)
    assert statement is not None
    start = text.find(cue) if cue in text else 0
    for cid in commitments[1:]:
        ref = Reference(
            version_id=refs[0].version_id,
            statement_id=statement.id,
            commitment_id=cid,
            score=0.7,
            cue=cue,
            evidence=text,
            evidence_start=0,
            start_offset=start,
            end_offset=start + len(cue),
            lang=lang,
            method="rule",
            implied=False,
            is_new=True,
            created_at=at,
        )
        session.add(ref)
        refs.append(ref)
    session.flush()
    titles = {cid: title for cid, _, _, _, title, _ in COMMITMENTS}
    owed = reference_alerts(
        statement,
        refs,
        titles,
        public_url=policy.public_url,
        routes=policy.routes,
        default_channel=policy.default_channel,
    )
    enqueue(session, owed)
    return owed

"""Storage of what scraping found: statements, versions (only when the text changed), deltas.

Every write is keyed: statements by canonical-URL hash, versions by (statement, seq), deltas
by version. A retried task or a concurrent run finds the row already there and moves on.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Delta, Source, Statement, Version, utcnow
from models.db import insert_ignore
from scrapers.dedup import hamming, simhash
from scrapers.discover import Item
from scrapers.extract import Extracted, content_hash, paragraphs
from scrapers.urls import clean_url, url_hash

CLUSTER_WINDOW = timedelta(days=14)
CLUSTER_MAX_DISTANCE = 3  # of 64 simhash bits: the same text with small edits


@dataclass(frozen=True)
class Stored:
    statement_id: int
    version_id: int | None  # None: the text had not changed
    is_new_statement: bool


def upsert_statement(
    session: Session, source: Source, item: Item, extracted: Extracted | None
) -> tuple[Statement, bool]:
    key = url_hash(item.url)
    now = utcnow()
    inserted = insert_ignore(
        session,
        Statement,
        [
            {
                "url_hash": key,
                "url": clean_url(item.url),
                "source_id": source.id,
                "publisher": source.publisher,
                "title": (extracted.title if extracted else None) or item.title,
                "published_at": item.published_at or (extracted.published_at if extracted else None),
                "lang": (extracted.lang if extracted else None) or item.lang,
                "first_seen_at": now,
                "last_seen_at": now,
            }
        ],
        ["url_hash"],
    )
    statement = session.scalars(select(Statement).where(Statement.url_hash == key)).one()
    if not inserted:
        statement.last_seen_at = now
        if extracted is not None:
            statement.title = extracted.title or statement.title
            statement.lang = statement.lang or extracted.lang
            statement.published_at = statement.published_at or extracted.published_at or item.published_at
    return statement, bool(inserted)


def store_version(
    session: Session, statement: Statement, extracted: Extracted, fetched_at: datetime | None = None
) -> Version | None:
    """Append a version if the normalised text differs from the latest one; else None."""
    digest = content_hash(extracted.text)
    latest = session.scalars(
        select(Version).where(Version.statement_id == statement.id).order_by(Version.seq.desc()).limit(1)
    ).first()
    if latest is not None and latest.content_hash == digest:
        return None
    version = Version(
        statement_id=statement.id,
        seq=(latest.seq + 1) if latest else 1,
        content_hash=digest,
        title=extracted.title,
        text=extracted.text,
        lang=extracted.lang or statement.lang,
        published_at=extracted.published_at,
        fetched_at=fetched_at or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(version)
            session.flush()
    except IntegrityError:
        return None  # a concurrent run stored this version first
    if latest is not None:
        added, removed = paragraph_delta(latest.text, extracted.text)
        session.add(
            Delta(
                version_id=version.id,
                previous_version_id=latest.id,
                added=added,
                removed=removed,
                added_chars=sum(len(p) for p in added),
                removed_chars=sum(len(p) for p in removed),
            )
        )
    else:
        assign_cluster(session, statement, extracted.text)
    return version


def paragraph_delta(old: str, new: str) -> tuple[list[str], list[str]]:
    """Paragraphs added and removed between two normalised texts, in document order."""
    a, b = paragraphs(old), paragraphs(new)
    added: list[str] = []
    removed: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag in {"replace", "delete"}:
            removed.extend(a[i1:i2])
        if tag in {"replace", "insert"}:
            added.extend(b[j1:j2])
    return added, removed


def assign_cluster(session: Session, statement: Statement, text: str) -> None:
    """Link a new statement to an earlier near-duplicate (same text, another URL or site)."""
    fp = simhash(text)
    statement.fingerprint = fp
    since = utcnow() - CLUSTER_WINDOW
    candidates = session.execute(
        select(Statement.id, Statement.cluster_id, Statement.fingerprint).where(
            Statement.fingerprint.is_not(None),
            Statement.first_seen_at >= since,
            Statement.id != statement.id,
        )
    ).all()
    best: tuple[int, int] | None = None
    for cand_id, cand_cluster, cand_fp in candidates:
        distance = hamming(fp, cand_fp)
        if distance <= CLUSTER_MAX_DISTANCE and (best is None or distance < best[0]):
            best = (distance, cand_cluster or cand_id)
    statement.cluster_id = best[1] if best else statement.id

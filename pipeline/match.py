"""The match step: run the matcher over versions not yet matched, store references, owe alerts.

References and the alerts they cause are written in one transaction per version, then the
version is marked matched: a crash leaves the version pending and a retry redoes it, and the
unique keys (version x commitment, alert dedup key) keep the retry from duplicating anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.outbox import enqueue
from alerts.rules import reference_alerts
from matching import MATCHER_VERSION, Catalog, Matcher
from models import Commitment, Reference, Statement, Version, session_scope, utcnow
from models.db import insert_ignore
from pipeline.context import Context, record_run


@dataclass
class MatchReport:
    versions: int = 0
    references: int = 0
    new_references: int = 0
    alerts: int = 0

    def counts(self) -> dict[str, int]:
        return dict(self.__dict__)


def sync_commitments(session: Session, catalog: Catalog) -> None:
    """Mirror the catalog into ``commitments`` (references point at these rows)."""
    existing = {c.id: c for c in session.scalars(select(Commitment))}
    now = utcnow()
    for entry in catalog:
        row = existing.get(entry.id) or Commitment(id=entry.id)
        row.parent_id = entry.parent
        row.family = entry.family
        row.level = entry.level
        row.title = entry.title
        row.quiet_days = entry.quiet_days
        row.source = entry.source
        row.active = True
        row.synced_at = now
        session.add(row)
    for cid, row in existing.items():
        if catalog.get(cid) is None:
            row.active = False
    session.flush()


def match_version(session: Session, version: Version, matcher: Matcher, ctx: Context) -> tuple[int, int, int]:
    statement = session.get(Statement, version.statement_id)
    assert statement is not None
    matches = matcher.match(version.text, lang=version.lang or statement.lang, title=version.title)
    previous = set()
    if version.seq > 1:
        prev_id = session.scalar(
            select(Version.id).where(
                Version.statement_id == version.statement_id, Version.seq == version.seq - 1
            )
        )
        previous = set(
            session.scalars(select(Reference.commitment_id).where(Reference.version_id == prev_id))
        )
    now = utcnow()
    rows = [
        {
            "version_id": version.id,
            "statement_id": statement.id,
            "commitment_id": m.commitment,
            "score": m.score,
            "cue": m.cue,
            "evidence": m.evidence,
            "evidence_start": m.evidence_start,
            "start_offset": m.start,
            "end_offset": m.end,
            "lang": m.lang,
            "method": m.method,
            "implied": m.implied,
            "is_new": m.commitment not in previous,
            "created_at": now,
        }
        for m in matches
        if matcher.catalog.get(m.commitment) is not None
    ]
    insert_ignore(session, Reference, rows, ["version_id", "commitment_id"])
    refs = list(session.scalars(select(Reference).where(Reference.version_id == version.id)))
    titles = {e.id: e.title for e in matcher.catalog}
    owed = reference_alerts(
        statement,
        refs,
        titles,
        public_url=ctx.settings.public_url,
        routes=ctx.slack.routes,
        default_channel=ctx.slack.channel,
    )
    alerts = enqueue(session, owed)
    version.matched_at = now
    version.matcher_version = MATCHER_VERSION
    return len(refs), sum(1 for r in refs if r.is_new), alerts


def run_match(ctx: Context, *, batch: int = 200) -> MatchReport:
    """Match every pending version; a version that fails stays pending for the next run."""
    report = MatchReport()
    failed: set[int] = set()
    with record_run(ctx, "match") as run:
        with session_scope(ctx.factory) as session:
            sync_commitments(session, ctx.catalog)
        while True:
            with session_scope(ctx.factory) as session:
                query = select(Version).where(Version.matched_at.is_(None)).order_by(Version.id).limit(batch)
                if failed:
                    query = query.where(Version.id.not_in(failed))
                if session.get_bind().dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                versions = list(session.scalars(query))
                for version in versions:
                    try:
                        with session.begin_nested():
                            refs, new, alerts = match_version(session, version, ctx.matcher, ctx)
                    except Exception as exc:  # one bad text must not block the queue
                        failed.add(version.id)
                        run.errors.append(f"version {version.id}: {type(exc).__name__}: {exc}")
                        continue
                    report.versions += 1
                    report.references += refs
                    report.new_references += new
                    report.alerts += alerts
            if len(versions) < batch:
                break
        run.counts = report.counts()
    return report

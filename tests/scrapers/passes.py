"""Run real scrape passes in tests: a registry file, a Context on the test database, the pass.

A pass here is ``pipeline.scrape.run_scrape`` (registry sync, then ``scrapers.crawl.scrape``
with the polite client), exactly what ``pledgewatch run`` does before matching; only the
database, the registry and the client settings are the test's. Helpers read back what the
pass left behind (statements, versions, deltas, fetch states, source health) as plain values,
so that tests compare data rather than ORM objects bound to a closed session.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import func, select

from models import Delta, FetchState, Source, SourcePoll, Statement, Version, session_scope
from pipeline.context import Context

__all__ = ["Context"]
from pipeline.scrape import run_scrape
from scrapers.crawl import ScrapeReport
from scrapers.urls import url_hash

MakeCtx = Callable[..., Context]


def write_registry(path: pathlib.Path, entries: list[dict[str, Any]]) -> pathlib.Path:
    path.write_text(yaml.safe_dump({"sources": entries}, sort_keys=False), encoding="utf-8")
    return path


def context(
    make_ctx: MakeCtx, tmp_path: pathlib.Path, entries: list[dict[str, Any]], **settings: Any
) -> Context:
    """A Context whose registry is ``entries`` only (built-ins off), on the test database."""
    registry = write_registry(tmp_path / "sources.yaml", entries)
    return make_ctx(sources_file=registry, **settings)


def scrape(ctx: Context, keys: list[str] | None = None) -> ScrapeReport:
    """One forced pass (the poll schedule ignored), as ``pledgewatch scrape --force`` runs it."""
    return run_scrape(ctx, keys=keys, force=True)


def count(ctx: Context, model: Any) -> int:
    with session_scope(ctx.factory) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@dataclass(frozen=True)
class StatementRow:
    id: int
    url: str
    source_key: str | None
    title: str | None
    lang: str | None
    published_at: datetime | None
    cluster_id: int | None
    texts: tuple[str, ...]  # every version's text, oldest first


def statements(ctx: Context) -> list[StatementRow]:
    with session_scope(ctx.factory) as session:
        keys = {s.id: s.key for s in session.scalars(select(Source))}
        rows = []
        for st in session.scalars(select(Statement).order_by(Statement.id)):
            texts = tuple(
                session.scalars(
                    select(Version.text).where(Version.statement_id == st.id).order_by(Version.seq)
                )
            )
            rows.append(
                StatementRow(
                    id=st.id,
                    url=st.url,
                    source_key=keys.get(st.source_id) if st.source_id else None,
                    title=st.title,
                    lang=st.lang,
                    published_at=st.published_at,
                    cluster_id=st.cluster_id,
                    texts=texts,
                )
            )
        return rows


def deltas(ctx: Context) -> list[tuple[list[str], list[str]]]:
    with session_scope(ctx.factory) as session:
        return [(list(d.added), list(d.removed)) for d in session.scalars(select(Delta).order_by(Delta.id))]


@dataclass(frozen=True)
class FetchRow:
    url: str
    etag: str | None
    last_modified: str | None
    last_status: int | None
    consecutive_failures: int
    last_error: str | None
    last_success_at: datetime | None
    backoff_until: datetime | None


def fetch_state(ctx: Context, url: str) -> FetchRow | None:
    with session_scope(ctx.factory) as session:
        row = session.scalars(select(FetchState).where(FetchState.url_hash == url_hash(url))).one_or_none()
        if row is None:
            return None
        return FetchRow(
            url=row.url,
            etag=row.etag,
            last_modified=row.last_modified,
            last_status=row.last_status,
            consecutive_failures=row.consecutive_failures,
            last_error=row.last_error,
            last_success_at=row.last_success_at,
            backoff_until=row.backoff_until,
        )


@dataclass(frozen=True)
class SourceHealth:
    key: str
    consecutive_failures: int
    last_error: str | None
    last_success_at: datetime | None
    next_due_at: datetime | None
    backfilled_at: datetime | None
    polls: int


def source(ctx: Context, key: str) -> SourceHealth:
    with session_scope(ctx.factory) as session:
        row = session.scalars(select(Source).where(Source.key == key)).one()
        polls = session.scalar(
            select(func.count()).select_from(SourcePoll).where(SourcePoll.source_id == row.id)
        )
        return SourceHealth(
            key=row.key,
            consecutive_failures=row.consecutive_failures,
            last_error=row.last_error,
            last_success_at=row.last_success_at,
            next_due_at=row.next_due_at,
            backfilled_at=row.backfilled_at,
            polls=int(polls or 0),
        )


def make_all_due(ctx: Context) -> None:
    """Pretend the recheck interval passed: every known URL is due for re-validation."""
    with session_scope(ctx.factory) as session:
        for state in session.scalars(select(FetchState)):
            state.last_fetched_at = None

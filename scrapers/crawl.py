"""One scrape pass: for each due source, discover, fetch, extract and store.

Sources run concurrently (threads); within a source, item pages are fetched concurrently up to
the per-host cap, the polite client's gates doing the pacing. A source's failure is recorded
on that source and never stops the others; an item's failure is recorded on its URL and
retried on later passes until it succeeds, so nothing discovered is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import FetchState, Source, SourcePoll, Statement, utcnow
from models.db import insert_ignore, session_scope
from scrapers.client import FetchError, PoliteClient, Response
from scrapers.discover import DiscoveryError, Item, discoverer_for
from scrapers.extract import ExtractionError, extract
from scrapers.store import store_version, upsert_statement
from scrapers.urls import canonical_url, url_hash

log = logging.getLogger(__name__)

ITEM_RECHECK = timedelta(hours=6)  # re-validate a known statement at most this often
ITEM_MAX_BACKOFF = timedelta(hours=24)
RECENT_WINDOW = timedelta(days=30)  # statements this young are re-validated for edits


@dataclass
class SourceResult:
    key: str
    ok: bool = False
    error: str | None = None
    not_modified: bool = False
    discovered: int = 0
    fetched: int = 0
    new_statements: int = 0
    new_versions: int = 0
    failed_items: int = 0
    item_errors: list[str] = field(default_factory=list)


@dataclass
class ScrapeReport:
    sources: list[SourceResult] = field(default_factory=list)

    @property
    def new_versions(self) -> int:
        return sum(r.new_versions for r in self.sources)

    @property
    def new_statements(self) -> int:
        return sum(r.new_statements for r in self.sources)

    @property
    def failed_sources(self) -> list[SourceResult]:
        return [r for r in self.sources if not r.ok]

    def counts(self) -> dict[str, int]:
        return {
            "sources": len(self.sources),
            "sources_failed": len(self.failed_sources),
            "discovered": sum(r.discovered for r in self.sources),
            "fetched": sum(r.fetched for r in self.sources),
            "new_statements": self.new_statements,
            "new_versions": self.new_versions,
            "failed_items": sum(r.failed_items for r in self.sources),
        }


def due_sources(
    session: Session, now: datetime | None = None, *, keys: list[str] | None = None, force: bool = False
) -> list[Source]:
    now = now or utcnow()
    query = select(Source).where(Source.enabled.is_(True)).order_by(Source.key)
    if keys:
        query = query.where(Source.key.in_(keys))
    rows = list(session.scalars(query))
    if force:
        return rows
    return [s for s in rows if s.next_due_at is None or s.next_due_at <= now]


def _fetch_state(session: Session, url: str, source_id: int | None) -> FetchState:
    key = url_hash(url)
    insert_ignore(session, FetchState, [{"url_hash": key, "url": url, "source_id": source_id}], ["url_hash"])
    return session.scalars(select(FetchState).where(FetchState.url_hash == key)).one()


def _record_success(state: FetchState, resp: Response) -> None:
    now = utcnow()
    state.last_status = resp.status
    state.last_fetched_at = now
    state.last_success_at = now
    state.consecutive_failures = 0
    state.last_error = None
    state.backoff_until = None
    if not resp.not_modified:
        state.etag = resp.etag
        state.last_modified = resp.last_modified


def _record_failure(state: FetchState, error: BaseException) -> None:
    now = utcnow()
    state.last_fetched_at = now
    state.consecutive_failures = (state.consecutive_failures or 0) + 1
    state.last_error = str(error)[:2000]
    if isinstance(error, FetchError):
        state.last_status = error.status
        wait = timedelta(minutes=5) * (2 ** min(state.consecutive_failures - 1, 8))
        if error.retry_after_s:
            wait = max(wait, timedelta(seconds=error.retry_after_s))
        state.backoff_until = now + min(wait, ITEM_MAX_BACKOFF)


class SourceScraper:
    """Scrapes one source; holds nothing between passes (state lives in the database)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        client: PoliteClient,
        *,
        backfill_pages: int = 3,
        max_items: int = 200,
    ) -> None:
        self.factory = factory
        self.client = client
        self.backfill_pages = backfill_pages
        self.max_items = max_items

    def run(self, source_id: int, run_id: int | None = None) -> SourceResult:
        with session_scope(self.factory) as session:
            source = session.get(Source, source_id)
            assert source is not None
            key, kind, url, config = source.key, source.kind, source.url, dict(source.config or {})
            languages = list(source.languages or [])
            first_pass = source.backfilled_at is None
            poll = SourcePoll(source_id=source_id, run_id=run_id, started_at=utcnow())
            session.add(poll)
            session.flush()
            poll_id = poll.id
        if len(languages) == 1:
            config.setdefault("lang", languages[0])
        allowed = frozenset(h.lower() for h in config.get("allowed_hosts") or []) or None
        result = SourceResult(key=key)
        http_status: int | None = None
        try:
            items, http_status, result.not_modified = self._discover(
                source_id, kind, url, config, allowed, first_pass, result
            )
            result.discovered = len(items)
            pending = self._select_items(source_id, items)
            self._fetch_items(source_id, pending, config, allowed, result, kind == "page")
            result.ok = True
        except (FetchError, DiscoveryError) as exc:
            result.error = str(exc)
            http_status = getattr(exc, "status", None)
        except Exception as exc:  # an unexpected bug must not stop the other sources
            log.exception("source %s crashed", key)
            result.error = f"internal error: {type(exc).__name__}: {exc}"
        self._finish(source_id, poll_id, result, http_status, first_pass)
        return result

    # -- steps ---------------------------------------------------------------------------
    def _discover(
        self,
        source_id: int,
        kind: str,
        url: str,
        config: dict,
        allowed: frozenset[str] | None,
        first_pass: bool,
        result: SourceResult,
    ) -> tuple[list[Item], int | None, bool]:
        discoverer = discoverer_for(kind, config)
        if kind == "page":
            return [Item(url=url, lang=config.get("lang"))], None, False
        pages_left = self.backfill_pages if first_pass else 1
        queue = [url]
        seen: set[str] = set()
        items: list[Item] = []
        status: int | None = None
        not_modified = False
        while queue and pages_left > 0 and len(items) < self.max_items:
            page_url = queue.pop(0)
            if page_url in seen:
                continue
            seen.add(page_url)
            pages_left -= 1
            with session_scope(self.factory) as session:
                state = _fetch_state(session, page_url, source_id)
                etag, modified = state.etag, state.last_modified
            try:
                resp = self.client.get(page_url, etag=etag, last_modified=modified, allowed_hosts=allowed)
            except FetchError as exc:
                with session_scope(self.factory) as session:
                    _record_failure(_fetch_state(session, page_url, source_id), exc)
                if page_url == url:
                    raise
                result.item_errors.append(str(exc))
                continue
            if page_url == url:
                status = resp.status
            with session_scope(self.factory) as session:
                _record_success(_fetch_state(session, page_url, source_id), resp)
            if resp.not_modified:
                not_modified = not_modified or page_url == url
                continue
            found = discoverer.parse(resp.body, resp.url)
            items.extend(found.items)
            queue.extend(found.next_pages)
        return items[: self.max_items], status, not_modified

    def _select_items(self, source_id: int, items: list[Item]) -> list[Item]:
        """New items, known items due for re-validation, and earlier failures due for retry."""
        now = utcnow()
        chosen: dict[str, Item] = {}
        by_hash = {url_hash(i.url): i for i in items}
        with session_scope(self.factory) as session:
            states = (
                {
                    s.url_hash: s
                    for s in session.scalars(select(FetchState).where(FetchState.url_hash.in_(list(by_hash))))
                }
                if by_hash
                else {}
            )
            for key, item in by_hash.items():
                state = states.get(key)
                if state is None or state.last_success_at is None:
                    if state is None or state.backoff_until is None or state.backoff_until <= now:
                        chosen[key] = item
                elif state.last_fetched_at is None or state.last_fetched_at + ITEM_RECHECK <= now:
                    chosen[key] = item
            # earlier failures of this source that the listing no longer shows
            retry = session.scalars(
                select(FetchState).where(
                    FetchState.source_id == source_id,
                    FetchState.last_success_at.is_(None),
                    FetchState.consecutive_failures > 0,
                )
            )
            for state in retry:
                if (
                    state.url_hash not in chosen
                    and (state.backoff_until is None or state.backoff_until <= now)
                    and state.url_hash not in by_hash
                ):
                    chosen[state.url_hash] = Item(url=state.url)
            # recent statements are re-validated (conditional GET) even when the listing is
            # unchanged: corrections and updates happen on the statement page itself
            recent = session.execute(
                select(Statement.url_hash, Statement.url, FetchState.last_fetched_at)
                .join(FetchState, FetchState.url_hash == Statement.url_hash)
                .where(Statement.source_id == source_id, Statement.first_seen_at >= now - RECENT_WINDOW)
            )
            for key, url, last in recent:
                if key not in chosen and (last is None or last + ITEM_RECHECK <= now):
                    chosen[key] = by_hash.get(key) or Item(url=url)
        return list(chosen.values())

    def _fetch_items(
        self,
        source_id: int,
        items: list[Item],
        config: dict,
        allowed: frozenset[str] | None,
        result: SourceResult,
        entry_is_page: bool,
    ) -> None:
        if not items:
            return
        workers = max(1, min(len(items), self.client.policy.per_host_concurrency))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="item") as pool:
            outcomes = list(pool.map(lambda it: self._fetch_item(source_id, it, config, allowed), items))
        for outcome in outcomes:
            kind, detail = outcome
            if kind == "error":
                result.failed_items += 1
                result.item_errors.append(detail)
            else:
                result.fetched += 1
                if kind in {"new_statement"}:
                    result.new_statements += 1
                    result.new_versions += 1
                elif kind == "new_version":
                    result.new_versions += 1
        if entry_is_page and result.failed_items:
            raise FetchError("page", result.item_errors[-1], url=items[0].url)

    def _fetch_item(
        self, source_id: int, item: Item, config: dict, allowed: frozenset[str] | None
    ) -> tuple[str, str]:
        with session_scope(self.factory) as session:
            state = _fetch_state(session, item.url, source_id)
            etag, modified = state.etag, state.last_modified
        try:
            resp = self.client.get(item.url, etag=etag, last_modified=modified, allowed_hosts=allowed)
            if resp.not_modified:
                with session_scope(self.factory) as session:
                    _record_success(_fetch_state(session, item.url, source_id), resp)
                return "unchanged", ""
            extracted = extract(
                resp.body, resp.url, content_type=resp.content_type, charset=resp.charset, config=config
            )
        except (FetchError, ExtractionError) as exc:
            with session_scope(self.factory) as session:
                _record_failure(_fetch_state(session, item.url, source_id), exc)
            return "error", f"{item.url}: {exc}"
        if not extracted.lang and item.lang:
            extracted = type(extracted)(extracted.title, extracted.text, extracted.published_at, item.lang)
        with session_scope(self.factory) as session:
            source = session.get(Source, source_id)
            assert source is not None
            statement, is_new = upsert_statement(session, source, item, extracted)
            version = store_version(session, statement, extracted)
            _record_success(_fetch_state(session, item.url, source_id), resp)
        if version is None:
            return "unchanged", ""
        return ("new_statement" if is_new or version.seq == 1 else "new_version"), ""

    def _finish(
        self, source_id: int, poll_id: int, result: SourceResult, http_status: int | None, first_pass: bool
    ) -> None:
        now = utcnow()
        with session_scope(self.factory) as session:
            source = session.get(Source, source_id)
            poll = session.get(SourcePoll, poll_id)
            assert source is not None and poll is not None
            poll.finished_at = now
            poll.ok = result.ok
            poll.http_status = http_status
            poll.error = result.error
            poll.discovered = result.discovered
            poll.fetched = result.fetched
            poll.new_statements = result.new_statements
            poll.new_versions = result.new_versions
            poll.failed_items = result.failed_items
            if result.ok:
                source.consecutive_failures = 0
                source.failing_since = None
                source.last_success_at = now
                source.last_error = None
                source.next_due_at = now + timedelta(seconds=source.poll_interval_s)
                if first_pass:
                    source.backfilled_at = now
            else:
                source.consecutive_failures = (source.consecutive_failures or 0) + 1
                source.failing_since = source.failing_since or now
                source.last_failure_at = now
                source.last_error = result.error
                # back off: poll interval, doubled per consecutive failure, at most a day
                backoff = timedelta(seconds=source.poll_interval_s) * (
                    2 ** min(source.consecutive_failures - 1, 5)
                )
                source.next_due_at = now + min(backoff, timedelta(hours=24))


def scrape(
    factory: sessionmaker[Session],
    client: PoliteClient,
    source_ids: list[int],
    *,
    run_id: int | None = None,
    workers: int = 16,
    backfill_pages: int = 3,
    max_items: int = 200,
    on_source_done: Callable[[SourceResult], None] | None = None,
) -> ScrapeReport:
    """Scrape the given sources concurrently and report what each did."""
    scraper = SourceScraper(factory, client, backfill_pages=backfill_pages, max_items=max_items)
    report = ScrapeReport()
    if not source_ids:
        return report

    def one(source_id: int) -> SourceResult:
        res = scraper.run(source_id, run_id)
        if on_source_done:
            on_source_done(res)
        return res

    with ThreadPoolExecutor(
        max_workers=max(1, min(workers, len(source_ids))), thread_name_prefix="source"
    ) as pool:
        report.sources = list(pool.map(one, source_ids))
    return report


__all__ = ["ScrapeReport", "SourceResult", "SourceScraper", "canonical_url", "due_sources", "scrape"]

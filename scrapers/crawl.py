"""One scrape pass: for each source, discover, fetch, extract and store.

Shape of a pass (the lessons of urlwatch's fixed pool and commit-per-row, inverted):

- **Fetching fans out by host.** Every fetch is a task queued under its host; at most the
  per-host cap of a host's tasks are handed to the fetch threads at once, so threads never
  sit blocked behind one busy or slow host while others have work. With enough threads the
  wall time of a pass is bounded by politeness (hosts x cap / latency), not by one host.
  Threads are added as work comes, started without waiting for each to run (the hosts of a
  pass start together, not one thread start after another), and the first tasks go out
  longest chain first: the slots of the hosts with the most requests start first.
- **What the database already knows goes first.** Known statements due for re-validation and
  earlier failures due for a retry are read for all sources in two queries and handed out at
  once, next to each source's discovery; each discovery page's new items go out as soon as
  that page is read. In a pass of known statements the listing is one request among theirs.
- **Extraction happens next to the fetch**: in the fetch threads, or, once a pass has many
  pages to read, in a few worker processes (``scrapers.analyse``) so that it uses more than
  one core (forked at the start of a first pass where that is safe, else from a forkserver). The content hash and the near-duplicate fingerprint are computed there too.
- **Storing happens in one writer** (the calling thread): it applies what the threads
  produced in batched transactions, letting a batch fill while work is in flight (group
  commit) until the threads go quiet (they wait for answers: the writer's Python then delays
  no request): pages are stored set-wise (``store.store_pages``), fetch-state rows,
  source polls and source health as executemany. One writer also means near-duplicates
  stored in the same pass see each other, and SQLite never has two writers waiting on each
  other. If a batch fails, its operations are re-applied one by one so that one bad row
  cannot lose the others.
- **Nothing is lost.** A failed fetch or extraction is recorded on its URL (consecutive
  failures, last error, backoff until) and retried on a later pass until it succeeds; a
  source's failure is recorded on the source (and in ``source_polls``) and never stops the
  others. Unique keys make a retried or concurrent pass unable to duplicate anything.
- **Unchanged costs little.** Conditional GET (ETag / Last-Modified) on every document, a 304
  is not parsed; a 200 whose bytes hash to what we stored last time is not parsed either;
  robots.txt answers are kept between passes (``client.RobotsCache``).
"""

from __future__ import annotations

import _thread
import hashlib
import json
import logging
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from models import FetchState, Source, SourcePoll, Statement, utcnow
from models.db import session_scope
from scrapers.analyse import Analysed, Analyser
from scrapers.client import FetchError, PoliteClient, Response
from scrapers.discover import Discovery, DiscoveryError, Item, Page, discoverer_for
from scrapers.extract import Extracted, ExtractionError, extract
from scrapers.store import (
    PageToStore,
    StoreContext,
    fetch_state_row,
    identity_url,
    store_pages,
    upsert_fetch_states,
)
from scrapers.urls import canonical_url, url_hash

log = logging.getLogger(__name__)

ITEM_MAX_BACKOFF = timedelta(hours=24)
SITEMAP_DEFAULT_MAX_AGE_DAYS = 90


@dataclass(frozen=True)
class CrawlPolicy:
    """How much one pass does; built from settings by ``pipeline``."""

    workers: int = 64  # fetch threads in flight across all hosts
    backfill_pages: int = 3  # listing pages / sitemap children read on a source's first pass
    max_items: int = 200  # new items fetched per source per pass
    recheck_after: timedelta = timedelta(hours=6)  # re-validate a known statement this often...
    recent_window: timedelta = timedelta(days=30)  # ...while it is this young
    write_batch: int = 500  # operations per writer transaction
    write_window_s: float = 0.02  # how long the writer lets a batch fill before writing it...
    write_quiet_s: float = 0.004  # ...and until no operation came for this long (fetches are waiting)
    write_max_wait_s: float = 0.25  # but never longer than this after its first operation
    processes: int = 0  # worker processes for extraction when a pass has many pages (0: threads only)
    max_item_failures: int = 12  # after this many failures in a row an item is no longer retried


@dataclass
class SourceResult:
    key: str
    ok: bool = False
    error: str | None = None
    not_modified: bool = False
    discovered: int = 0
    fetched: int = 0
    unchanged: int = 0
    new_statements: int = 0
    new_versions: int = 0
    failed_items: int = 0
    item_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ScrapeReport:
    sources: list[SourceResult] = field(default_factory=list)
    extraction_cpu_s: float = 0.0  # CPU used by extraction worker processes (not in this process)

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


def due_source_ids(
    session: Session, now: datetime | None = None, *, keys: list[str] | None = None, force: bool = False
) -> list[int]:
    """``due_sources``' ids, without loading the ORM rows (one light query at a pass's start)."""
    now = now or utcnow()
    st = Source.__table__
    query = select(st.c.id, st.c.next_due_at).where(st.c.enabled.is_(True)).order_by(st.c.key)
    if keys:
        query = query.where(st.c.key.in_(keys))
    return [
        row.id for row in session.execute(query) if force or row.next_due_at is None or row.next_due_at <= now
    ]


# -- per-URL memory ------------------------------------------------------------------------
@dataclass(frozen=True)
class UrlState:
    """A snapshot of one ``fetch_state`` row (or of its absence)."""

    url: str
    exists: bool = False
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_status: int | None = None
    last_fetched_at: datetime | None = None
    last_success_at: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    backoff_until: datetime | None = None

    @classmethod
    def of(cls, row: Any, url: str) -> UrlState:
        """From a ``fetch_state`` row (an ORM object or a row of ``_STATE_COLUMNS``)."""
        if row is None:
            return cls(url=url)
        return cls(
            url=url,
            exists=True,
            etag=row.etag,
            last_modified=row.last_modified,
            body_hash=row.body_hash,
            last_status=row.last_status,
            last_fetched_at=row.last_fetched_at,
            last_success_at=row.last_success_at,
            consecutive_failures=row.consecutive_failures or 0,
            last_error=row.last_error,
            backoff_until=row.backoff_until,
        )

    def success_row(
        self, source_id: int, resp: Response | None, body_hash: str | None, now: datetime | None = None
    ) -> dict[str, Any]:
        now = now or utcnow()
        fresh = resp is not None and not resp.not_modified
        return fetch_state_row(
            self.url,
            source_id,
            etag=resp.etag if fresh and resp is not None else self.etag,
            last_modified=resp.last_modified if fresh and resp is not None else self.last_modified,
            body_hash=body_hash or self.body_hash,
            last_status=resp.status if resp is not None else self.last_status,
            last_fetched_at=now,
            last_success_at=now,
            consecutive_failures=0,
            last_error=None,
            backoff_until=None,
        )

    def failure_row(
        self, source_id: int, error: BaseException, now: datetime | None = None
    ) -> dict[str, Any]:
        now = now or utcnow()
        failures = self.consecutive_failures + 1
        wait = timedelta(minutes=5) * (2 ** min(failures - 1, 9))
        if isinstance(error, FetchError):
            if error.retry_after_s:
                wait = max(wait, timedelta(seconds=error.retry_after_s))
            if error.permanent:
                wait = max(wait, timedelta(hours=6))
        elif isinstance(error, ExtractionError):
            wait = max(wait, timedelta(hours=1))
        return fetch_state_row(
            self.url,
            source_id,
            etag=self.etag,
            last_modified=self.last_modified,
            body_hash=self.body_hash,
            last_status=getattr(error, "status", None),
            last_fetched_at=now,
            last_success_at=self.last_success_at,
            consecutive_failures=failures,
            last_error=str(error)[:2000],
            backoff_until=now + min(wait, ITEM_MAX_BACKOFF),
        )


# the columns a UrlState is made of, read as plain rows (no ORM objects: a pass reads hundreds)
_STATE_COLUMNS = (
    "url_hash",
    "url",
    "source_id",
    "etag",
    "last_modified",
    "body_hash",
    "last_status",
    "last_fetched_at",
    "last_success_at",
    "consecutive_failures",
    "last_error",
    "backoff_until",
)


def _state_columns(table: Any = None) -> list[Any]:
    table = FetchState.__table__ if table is None else table
    return [table.c[name] for name in _STATE_COLUMNS]


@lru_cache(maxsize=1)
def _read_states_query() -> Any:
    """Built once: building a statement costs about what running it does."""
    fs = FetchState.__table__
    return select(*_state_columns()).where(fs.c.url_hash.in_(bindparam("keys", expanding=True)))


def read_states(session: Session, urls: Iterable[str]) -> dict[str, UrlState]:
    """Fetch-state snapshots for ``urls``, keyed by URL hash (chunked IN queries)."""
    by_hash = {url_hash(u): u for u in urls}
    states = {h: UrlState(url=u) for h, u in by_hash.items()}
    keys = list(by_hash)
    for i in range(0, len(keys), 500):
        for row in session.execute(_read_states_query(), {"keys": keys[i : i + 500]}):
            states[row.url_hash] = UrlState.of(row, by_hash[row.url_hash])
    return states


# -- the writer ------------------------------------------------------------------------------
@dataclass
class _Counts:
    fetched: int = 0
    unchanged: int = 0
    new_statements: int = 0
    new_versions: int = 0
    failed_items: int = 0
    errors: list[str] = field(default_factory=list)


class _Batch:
    """One writer transaction: ORM work on the session, plus rows written in bulk at the end.

    Fetched pages are collected and stored set-wise (``store_pages``) when the batch is
    flushed, or earlier when an operation needs their counts (the end of a source).
    """

    def __init__(self, session: Session, store: StoreContext) -> None:
        self.session = session
        self.store = store
        self.fetch_rows: dict[str, dict[str, Any]] = {}
        self.counts: dict[str, _Counts] = {}
        self.pages: list[tuple[str, PageToStore]] = []
        # the end of sources: their rows read once per batch, polls and health written set-wise
        self.ending: dict[int, Any] = {}
        self.polls: list[dict[str, Any]] = []
        self.source_updates: dict[str, list[dict[str, Any]]] = {"ok": [], "ok_first": [], "failed": []}

    def count(self, key: str) -> _Counts:
        return self.counts.setdefault(key, _Counts())

    def fetch_state(self, row: dict[str, Any]) -> None:
        self.fetch_rows[row["url_hash"]] = row

    def store_page(self, key: str, page: PageToStore) -> None:
        self.pages.append((key, page))

    def flush_pages(self) -> None:
        if not self.pages:
            return
        pages, self.pages = self.pages, []
        for (key, _), stored in zip(
            pages, store_pages(self.session, [p for _, p in pages], self.store), strict=True
        ):
            counts = self.count(key)
            counts.fetched += 1
            if stored.outcome == "new_statement":
                counts.new_statements += 1
                counts.new_versions += 1
            elif stored.outcome == "new_version":
                counts.new_versions += 1
            else:
                counts.unchanged += 1

    def flush(self) -> None:
        self.flush_pages()
        upsert_fetch_states(self.session, self.fetch_rows.values())
        if self.polls:
            self.session.execute(insert(SourcePoll), self.polls)
        for rows in self.source_updates.values():
            if rows:
                columns = [c for c in rows[0] if c != "sid"]
                self.session.execute(
                    update(Source.__table__)
                    .where(Source.__table__.c.id == bindparam("sid"))
                    .values({c: bindparam(c) for c in columns}),
                    rows,
                )


@dataclass
class _Op:
    apply: Callable[[_Batch], Any]
    done: Callable[[Any], None] | None = None
    failed: Callable[[BaseException], None] | None = None
    source_id: int | None = None  # the end of a source: its row is read with the others of the batch


# -- scheduling -------------------------------------------------------------------------------
class Threads:
    """Fetch threads, started as work comes.

    As a ``ThreadPoolExecutor``, a thread is added when work is handed out and none is idle,
    up to ``count``. But a thread is started without waiting for it to say it runs:
    ``threading.Thread.start`` waits for that handshake, which here costs a scheduler wake-up
    (1-2 ms on a virtual machine), and handing out the first tasks of 32 hosts x 2 slots then
    took a tenth of a second, one start after another; the last hosts began that much later.
    ``_thread.start_new_thread`` returns as soon as the thread exists (tens of microseconds).
    ``shutdown`` stops them (and may wait for them to end). They are not ``threading.Thread``
    objects: a log record made in one names it ``Dummy-N``.
    """

    def __init__(self, count: int, name: str = "scrape", *, idle: int = 0) -> None:
        """``idle``: threads started at once, waiting for work (the first tasks of a pass)."""
        self._max = max(1, count)
        self._name = name
        self._queue: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._idle = threading.Semaphore(0)  # threads waiting for work
        self._lock = threading.Lock()
        self._started = 0
        self._running = 0  # threads not yet ended
        self._ended = threading.Condition(self._lock)
        for _ in range(min(idle, self._max)):
            self._start_thread(waiting=True)

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._queue.put((fn, args))
        if self._idle.acquire(blocking=False):
            return  # an idle thread takes it
        self._start_thread(waiting=False)

    def _start_thread(self, *, waiting: bool) -> None:
        with self._lock:
            if self._started >= self._max:
                return
            self._started += 1
            self._running += 1
            number = self._started - 1
        try:
            _thread.start_new_thread(self._loop, (number, waiting))
        except BaseException:
            with self._lock:
                self._running -= 1
            raise

    def _loop(self, number: int, waiting: bool = False) -> None:
        if waiting:
            self._idle.release()  # started ahead of work: idle until some comes
        try:
            while True:
                work = self._queue.get()
                if work is None:
                    return
                fn, args = work
                try:
                    fn(*args)
                except Exception:  # tasks record their own failures; this is a last resort
                    log.exception("scrape thread task crashed")
                self._idle.release()
        finally:
            with self._lock:
                self._running -= 1
                self._ended.notify_all()

    def shutdown(self, wait: bool = True) -> None:
        """Stop the threads once the queued work is done; ``wait``: until they have ended
        (a pass does not: its tasks are all done, and the idle threads end on their own)."""
        with self._lock:
            started = self._started
            self._max = 0  # no thread is started after this
        for _ in range(started):
            self._queue.put(None)
        if wait:
            with self._lock:
                while self._running:
                    self._ended.wait()

    def __enter__(self) -> Threads:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        # after an error tasks may still run: wait for them; after a pass every task is done
        self.shutdown(wait=exc_type is not None)


class HostScheduler:
    """Hands tasks to the pool so that at most ``cap`` tasks of one host are in it at a time."""

    def __init__(self, pool: Threads | ThreadPoolExecutor, cap: int) -> None:
        self._pool = pool
        self._cap = max(1, cap)
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}
        self._waiting: dict[str, deque[Callable[[], None]]] = {}

    def submit(self, host: str, task: Callable[[], None]) -> None:
        with self._lock:
            if self._running.get(host, 0) >= self._cap:
                self._waiting.setdefault(host, deque()).append(task)
                return
            self._running[host] = self._running.get(host, 0) + 1
        self._pool.submit(self._run, host, task)

    def _run(self, host: str, task: Callable[[], None]) -> None:
        while True:
            try:
                task()
            except Exception:  # tasks record their own failures; this is a last resort
                log.exception("scrape task on %s crashed", host)
            with self._lock:
                waiting = self._waiting.get(host)
                if not waiting:
                    self._running[host] -= 1
                    return
                task = waiting.popleft()  # keep the slot: run the host's next task here


# -- one source in a pass -------------------------------------------------------------------
@dataclass
class _Job:
    id: int
    key: str
    kind: str
    publisher: str | None
    urls: list[str]
    config: dict[str, Any]
    first_pass: bool
    poll_interval_s: int
    allowed: frozenset[str] | None
    pattern: re.Pattern[str] | None
    started_at: datetime
    result: SourceResult
    states: dict[str, UrlState] = field(default_factory=dict)
    known: list[tuple[Item, UrlState]] = field(default_factory=list)  # due before discovery
    pending: int = 0
    http_status: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def host(self) -> str:
        return host_of(self.urls[0])

    @property
    def extract_key(self) -> str:
        """Hash salt: a body is re-extracted when the source's extraction settings change."""
        keys = ("content_selector", "title_selector", "date_selector", "drop_selector", "min_text_chars")
        return json.dumps({k: self.config.get(k) for k in keys}, sort_keys=True)


@dataclass
class _Selection:
    """What a source's discovery has handed out so far (its limits count over all pages)."""

    scheduled: set[str]
    new: int = 0
    due: int = 0


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class ScrapePass:
    """Scrapes a set of sources once; holds nothing between passes (state lives in the database)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        client: PoliteClient,
        policy: CrawlPolicy | None = None,
        *,
        run_id: int | None = None,
        on_source_done: Callable[[SourceResult], None] | None = None,
    ) -> None:
        self.factory = factory
        self.client = client
        self.policy = policy or CrawlPolicy()
        self.run_id = run_id
        self.on_source_done = on_source_done
        self._ops: queue.Queue[_Op] = queue.Queue()
        self._store = StoreContext()
        self._finished = 0
        self._results: dict[str, SourceResult] = {}
        self._jobs: list[_Job] = []
        self._scheduler: HostScheduler | None = None
        self._analyser = Analyser(self.policy.processes, extractor=self._extract)

    # -- driver ----------------------------------------------------------------------------
    def run(self, source_ids: list[int]) -> ScrapeReport:
        report = ScrapeReport()
        jobs = self._load_jobs(source_ids)
        if not jobs:
            return report
        workers = max(1, self.policy.workers)
        if any(job.first_pass for job in jobs):
            self._analyser.prestart()  # a first pass reads a whole backfill
        tasks, first = self._plan(jobs)
        try:
            # the threads of the first tasks are started before those are handed out: each
            # new thread first needs the GIL to come up, and 64 of them coming up while the
            # first requests are being made delayed those by tens of milliseconds
            with Threads(workers, idle=len(first)) as pool:
                scheduler = HostScheduler(pool, self.client.policy.per_host_concurrency)
                self._scheduler = scheduler
                self._results = {job.key: job.result for job in jobs}
                self._jobs = jobs
                for job in jobs:
                    # a source is finished when its discovery and all its items are
                    job.pending = 1 + len(job.known)
                self.client.prepare([queue_[0][0] for queue_ in tasks.values()])
                self._start(scheduler, tasks, first)
                self._write_until_done(len(jobs))
        finally:
            self._analyser.close()
        report.sources = [job.result for job in jobs]
        report.extraction_cpu_s = self._analyser.workers_cpu_s
        return report

    def _plan(
        self, jobs: list[_Job]
    ) -> tuple[dict[str, list[tuple[str, Callable[[], None]]]], list[tuple[int, int, int, str]]]:
        """The first tasks of a pass, per host (URL, task): each source's discovery and what the
        database already says is due; and the order in which each host's first ``cap`` start.

        Known items do not wait for the listing: in a pass of known statements the listing is
        one request among theirs. A host runs ``cap`` tasks at once, one after another on each
        slot, so a pass lasts as long as its longest slot: the first tasks of all hosts are
        handed out longest slot first (the slots of the hosts with the most requests, then
        the rest), so that the threads' first requests, which go out one after another (each
        costs the GIL a millisecond: connection, robots.txt, request), start the long chains
        first. Within a host, its discoveries go first (new items come from them)."""
        cap = max(1, self.client.policy.per_host_concurrency)
        tasks: dict[str, list[tuple[str, Callable[[], None]]]] = {}
        for job in jobs:
            tasks.setdefault(job.host, []).append((job.urls[0], lambda job=job: self._discover_task(job)))
        for job in jobs:
            for item, state in job.known:
                tasks.setdefault(host_of(item.url), []).append(
                    (item.url, lambda job=job, i=item, s=state: self._item_task(job, i, s))
                )
        first: list[tuple[int, int, int, str]] = []
        for host, queue_ in tasks.items():
            n = len(queue_)
            for slot in range(min(cap, n)):
                chain = -(-(n - slot) // cap)  # tasks this slot will run, one after another
                first.append((-chain, -n, slot, host))
        first.sort()
        return tasks, first

    def _start(
        self,
        scheduler: HostScheduler,
        tasks: dict[str, list[tuple[str, Callable[[], None]]]],
        first: list[tuple[int, int, int, str]],
    ) -> None:
        """Hand out the planned tasks: each host's first ones in ``first``'s order, then the rest
        (they wait for a free slot of their host)."""
        cap = max(1, self.client.policy.per_host_concurrency)
        for _, _, slot, host in first:
            scheduler.submit(host, tasks[host][slot][1])
        for host, queue_ in tasks.items():
            for _, task in queue_[cap:]:
                scheduler.submit(host, task)

    def _load_jobs(self, source_ids: list[int]) -> list[_Job]:
        now = utcnow()
        jobs: list[_Job] = []
        st = Source.__table__
        columns = (
            "id",
            "key",
            "kind",
            "publisher",
            "url",
            "config",
            "languages",
            "backfilled_at",
            "poll_interval_s",
        )
        with session_scope(self.factory) as session:
            rows = session.execute(
                select(*(st.c[c] for c in columns)).where(st.c.id.in_(source_ids)).order_by(st.c.key)
            ).all()
            for source in rows:
                config = dict(source.config or {})
                languages = list(source.languages or [])
                if len(languages) == 1:
                    config.setdefault("lang", languages[0])
                allowed = frozenset(h.lower() for h in config.get("allowed_hosts") or []) or None
                pattern = config.get("pattern")
                jobs.append(
                    _Job(
                        id=source.id,
                        key=source.key,
                        kind=source.kind,
                        publisher=source.publisher,
                        urls=[source.url, *(config.get("urls") or [])],
                        config=config,
                        first_pass=source.backfilled_at is None,
                        poll_interval_s=source.poll_interval_s,
                        allowed=allowed,
                        pattern=re.compile(pattern) if pattern else None,
                        started_at=now,
                        result=SourceResult(key=source.key),
                    )
                )
            states = read_states(session, [u for job in jobs for u in job.urls])
            self._select_known(session, jobs)
        for job in jobs:
            job.states = {url_hash(u): states[url_hash(u)] for u in job.urls}
        return jobs

    def _write_until_done(self, total: int) -> None:
        """Apply what the threads produced, in batches (group commit), until every source ended.

        A batch is written once no operation came for ``write_quiet_s`` (the fetch threads are
        waiting for answers), at the latest ``write_max_wait_s`` after its first operation, at
        once when nothing is in flight any more; never before ``write_window_s``. The writer's
        Python holds the GIL: writing while answers are being handled would delay the next
        request of every slot that just got one (on a pass of slow hosts, every round trip),
        writing while they wait costs nothing."""
        policy = self.policy
        while self._finished < total:
            try:
                first = self._ops.get(timeout=1.0)
            except queue.Empty:
                continue
            ops = [first]
            started = time.monotonic()
            window_end = started + policy.write_window_s
            latest = started + max(policy.write_max_wait_s, policy.write_window_s)
            while len(ops) < policy.write_batch:
                try:
                    ops.append(self._ops.get_nowait())
                    continue
                except queue.Empty:
                    pass
                if not self._in_flight():
                    break  # nothing more will come: write now
                now = time.monotonic()
                if now >= latest:
                    break
                wait = max(window_end - now, policy.write_quiet_s) if policy.write_window_s > 0 else 0.0
                if wait <= 0:
                    break
                try:
                    ops.append(self._ops.get(timeout=min(wait, latest - now)))
                except queue.Empty:
                    if time.monotonic() >= window_end:
                        break  # quiet for write_quiet_s after the window: the threads are waiting
            self._apply(ops)

    def _in_flight(self) -> bool:
        """Whether any source still has discovery or items running (more ops will come)."""
        return any(job.pending > 0 for job in self._jobs)

    def _apply(self, ops: list[_Op]) -> None:
        try:
            with session_scope(self.factory) as session:
                batch = _Batch(session, self._store)
                ending = [op.source_id for op in ops if op.source_id is not None]
                if ending:  # one query for the sources ending in this batch, not one each
                    batch.ending = {
                        row.id: row
                        for row in session.execute(
                            select(
                                Source.id,
                                Source.poll_interval_s,
                                Source.consecutive_failures,
                                Source.failing_since,
                            ).where(Source.id.in_(ending))
                        )
                    }
                values = [op.apply(batch) for op in ops]
                batch.flush()
        except Exception as exc:
            self._store.rollback()
            if len(ops) > 1:
                log.warning("write batch of %d failed (%s); applying one by one", len(ops), exc)
                for op in ops:
                    self._apply([op])
                return
            log.exception("write failed")
            if ops[0].failed is not None:
                ops[0].failed(exc)
            return
        self._store.commit()
        for key, counts in batch.counts.items():
            self._merge(key, counts)
        for op, value in zip(ops, values, strict=True):
            if op.done is not None:
                op.done(value)

    def _merge(self, key: str, counts: _Counts) -> None:
        result = self._results[key]
        result.fetched += counts.fetched
        result.unchanged += counts.unchanged
        result.new_statements += counts.new_statements
        result.new_versions += counts.new_versions
        result.failed_items += counts.failed_items
        result.item_errors.extend(counts.errors)

    def _enqueue(self, op: _Op) -> None:
        self._ops.put(op)

    # -- discovery ---------------------------------------------------------------------------
    def _discover_task(self, job: _Job) -> None:
        try:
            if job.kind == "page":
                job.result.discovered = 1
                self._schedule(
                    job,
                    [(Item(url=job.urls[0], lang=job.config.get("lang")), job.states[url_hash(job.urls[0])])],
                )
            else:
                selection = _Selection(
                    scheduled={url_hash(item.url) for item, _ in job.known}, due=len(job.known)
                )

                def hand_out(found: list[Item]) -> None:
                    # each listing page's items go out as soon as it is read, not after the last
                    chosen = self._select(job, self._fresh_enough(job, found), selection)
                    self._analyser.expect(sum(1 for _, state in chosen if state.last_success_at is None))
                    self._schedule(job, chosen)

                job.result.discovered = len(self._discover(job, hand_out))
        except (FetchError, DiscoveryError, ExtractionError) as exc:
            job.result.error = str(exc)
            job.http_status = getattr(exc, "status", None)
        except Exception as exc:  # a bug must not stop the other sources
            log.exception("source %s crashed in discovery", job.key)
            job.result.error = f"internal error: {type(exc).__name__}: {exc}"
        self._task_done(job)

    def _schedule(self, job: _Job, chosen: list[tuple[Item, UrlState]]) -> None:
        if not chosen:
            return
        with job.lock:
            job.pending += len(chosen)
        self._submit(job, chosen)

    def _submit(self, job: _Job, chosen: list[tuple[Item, UrlState]]) -> None:
        assert self._scheduler is not None
        for item, state in chosen:
            self._scheduler.submit(host_of(item.url), lambda i=item, s=state: self._item_task(job, i, s))

    def _task_done(self, job: _Job) -> None:
        with job.lock:
            job.pending -= 1
            last = job.pending == 0
        if last:
            self._finish(job)

    def _discover(self, job: _Job, hand_out: Callable[[list[Item]], None]) -> list[Item]:
        """Read the source's listing / feed / sitemap pages; each page's new items are handed
        out as soon as it is read. Returns every item found (recent enough)."""
        discoverer = discoverer_for(job.kind, job.config)
        budget = self.policy.backfill_pages if job.first_pass else 1
        if job.kind == "sitemap":
            budget += 1  # the index itself does not count: the bound is on the sitemaps it lists
        items: list[Item] = []
        seen_items: set[str] = set()
        for entry_index, entry in enumerate(job.urls):
            queue_: deque[Page] = deque([Page(entry)])
            seen_pages: set[str] = set()
            pages_left = budget
            while queue_ and pages_left > 0 and len(items) < self.policy.max_items * 2:
                page = queue_.popleft()
                if page.url in seen_pages:
                    continue
                seen_pages.add(page.url)
                pages_left -= 1
                state = job.states.get(url_hash(page.url))
                if state is None:
                    with session_scope(self.factory) as session:
                        state = read_states(session, [page.url])[url_hash(page.url)]
                primary = entry_index == 0 and page.url == entry
                try:
                    resp = self.client.get(
                        page.url,
                        etag=state.etag,
                        last_modified=state.last_modified,
                        allowed_hosts=job.allowed,
                    )
                    if primary:
                        job.http_status = resp.status
                    if resp.not_modified:
                        job.result.not_modified = job.result.not_modified or primary
                        self._record_fetch(job, state.success_row(job.id, resp, None))
                        continue
                    found = discoverer.parse(resp.body, resp.url)
                except (FetchError, DiscoveryError) as exc:
                    self._record_fetch(job, state.failure_row(job.id, exc))
                    if primary:
                        raise
                    job.result.warnings.append(str(exc))
                    continue
                self._record_fetch(job, state.success_row(job.id, resp, None))
                job.result.warnings.extend(found.warnings)
                fresh: list[Item] = []
                for item in found.items:
                    key = canonical_url(item.url)
                    if key not in seen_items:
                        seen_items.add(key)
                        fresh.append(item)
                items.extend(fresh)
                if fresh:
                    hand_out(fresh)
                queue_.extend(self._follow(job, found, state))
        return self._fresh_enough(job, items)

    def _follow(self, job: _Job, found: Discovery, parent: UrlState) -> list[Page]:
        """Further pages to read: a listing's next page; a sitemap index's changed children."""
        if job.kind != "sitemap" or not found.next_pages:
            return list(found.next_pages)
        children = found.next_pages
        if job.first_pass:
            return children[: self.policy.backfill_pages]
        with session_scope(self.factory) as session:
            states = read_states(session, [c.url for c in children])
        changed = [
            c
            for c in children
            if c.lastmod is None
            or states[url_hash(c.url)].last_success_at is None
            or c.lastmod > states[url_hash(c.url)].last_success_at  # type: ignore[operator]
        ]
        # the budget counts pages, and later passes read one: give the changed children room
        return changed[: max(1, self.policy.backfill_pages)] if changed else children[:1]

    def _fresh_enough(self, job: _Job, items: list[Item]) -> list[Item]:
        max_age = job.config.get("max_age_days")
        if max_age is None and job.kind == "sitemap":
            max_age = SITEMAP_DEFAULT_MAX_AGE_DAYS
        if not max_age:
            return items
        cutoff = utcnow() - timedelta(days=float(max_age))
        kept = []
        for item in items:
            when = item.lastmod or item.published_at
            if when is None or when >= cutoff:
                kept.append(item)
        return kept

    def _select_known(self, session: Session, jobs: list[_Job]) -> None:
        """What the database alone says is due, for every source in two queries, scheduled
        before discovery has read anything: earlier failures due for a retry and (listings and
        feeds) the recent statements due for re-validation. They do not wait for the listing:
        in a pass of known statements the listing is one more request among theirs, not a
        round trip in front of them."""
        now = utcnow()
        limit = self.policy.max_items
        by_id = {job.id: job for job in jobs}
        fs = FetchState.__table__
        failed_rank = (
            func.row_number().over(partition_by=fs.c.source_id, order_by=fs.c.last_fetched_at).label("rank")
        )
        failed = (
            select(fs.c.id, failed_rank)
            .where(
                fs.c.source_id.in_(list(by_id)),
                fs.c.last_success_at.is_(None),
                fs.c.consecutive_failures > 0,
                fs.c.consecutive_failures < self.policy.max_item_failures,
                or_(fs.c.backoff_until.is_(None), fs.c.backoff_until <= now),
            )
            .subquery()
        )
        for row in session.execute(
            select(*_state_columns()).join(failed, fs.c.id == failed.c.id).where(failed.c.rank <= limit)
        ):
            job = by_id[row.source_id]
            if url_hash(row.url) not in {url_hash(u) for u in job.urls} and self._is_item(job, row.url):
                job.known.append((Item(url=row.url, lang=job.config.get("lang")), UrlState.of(row, row.url)))
        # Statements are re-validated while young, listed or not: corrections and updates
        # happen on the statement page itself. (A statement known under another URL than the
        # one fetched, after a redirect, is only re-validated while listed: its identity URL
        # has no fetch history.) Sitemaps say what changed (lastmod): they are not re-checked.
        recheck = [job.id for job in jobs if job.kind != "sitemap"]
        if not recheck:
            return
        st = Statement.__table__
        recent_rank = (
            func.row_number()
            .over(partition_by=st.c.source_id, order_by=st.c.first_seen_at.desc())
            .label("rank")
        )
        recent = (
            select(
                st.c.source_id.label("statement_source_id"),
                st.c.url.label("statement_url"),
                fs.c.id,
                recent_rank,
            )
            .join(fs, fs.c.url_hash == st.c.url_hash)
            .where(
                st.c.source_id.in_(recheck),
                st.c.first_seen_at >= now - self.policy.recent_window,
                or_(
                    fs.c.last_fetched_at.is_(None),
                    fs.c.last_fetched_at <= now - self.policy.recheck_after,
                ),
            )
            .subquery()
        )
        state = fs.alias("state")
        for row in session.execute(
            select(recent.c.statement_source_id, recent.c.statement_url, *_state_columns(state))
            .join(state, state.c.id == recent.c.id)
            .where(recent.c.rank <= limit)
        ):
            job = by_id[row.statement_source_id]
            url = row.statement_url
            job.known.append((Item(url=url, lang=job.config.get("lang")), UrlState.of(row, url)))

    def _select(self, job: _Job, items: list[Item], selection: _Selection) -> list[tuple[Item, UrlState]]:
        """Of the items a discovery page found: the new ones, and listed known ones that are
        due (sitemaps: changed since we last read them), except what is already handed out;
        within the source's limits, counted over its whole discovery."""
        now = utcnow()
        limit = self.policy.max_items
        with session_scope(self.factory) as session:
            states = read_states(session, [i.url for i in items])
        new: list[tuple[Item, UrlState]] = []
        due: list[tuple[Item, UrlState]] = []
        for item in items:
            key = url_hash(item.url)
            if key in selection.scheduled:
                continue
            state = states[key]
            if state.last_success_at is None:
                if self._retry_due(state, now) and selection.new + len(new) < limit:  # new, or failed before
                    new.append((item, state))
            elif job.kind == "sitemap":
                if item.lastmod is not None and item.lastmod > state.last_success_at:
                    due.append((item, state))
            elif state.last_fetched_at is None or state.last_fetched_at + self.policy.recheck_after <= now:
                due.append((item, state))
        due = due[: max(0, limit - selection.due)]
        selection.new += len(new)
        selection.due += len(due)
        selection.scheduled.update(url_hash(item.url) for item, _ in new + due)
        return new + due

    def _is_item(self, job: _Job, url: str) -> bool:
        return job.pattern is None or bool(job.pattern.search(url))

    def _retry_due(self, state: UrlState, now: datetime) -> bool:
        if state.consecutive_failures >= self.policy.max_item_failures:
            return False  # given up; the last error stays on record
        return state.backoff_until is None or state.backoff_until <= now

    # -- items --------------------------------------------------------------------------------
    def _item_task(self, job: _Job, item: Item, state: UrlState) -> None:
        try:
            self._fetch_item(job, item, state)
        except Exception as exc:  # a bug on one page must not lose the others
            log.exception("item %s of %s crashed", item.url, job.key)
            self._item_failed(job, item, state, RuntimeError(f"internal error: {type(exc).__name__}: {exc}"))
        finally:
            self._task_done(job)

    def _fetch_item(self, job: _Job, item: Item, state: UrlState) -> None:
        try:
            resp = self.client.get(
                item.url, etag=state.etag, last_modified=state.last_modified, allowed_hosts=job.allowed
            )
            if job.kind == "page":
                job.http_status = resp.status
            if resp.not_modified:
                self._item_unchanged(job, state, resp, None)
                return
            hasher = hashlib.blake2b(resp.body, digest_size=16)
            hasher.update(job.extract_key.encode())  # (no copy of the body to append the key)
            digest = hasher.hexdigest()
            if digest == state.body_hash and state.last_success_at is not None:
                self._item_unchanged(job, state, resp, digest)
                return
            analysed = self._analyser.analyse(
                resp.body,
                resp.url,
                content_type=resp.content_type,
                charset=resp.charset,
                config=job.config,
                fingerprint=state.last_success_at is None,  # probably a new statement: cluster it
            )
        except (FetchError, ExtractionError) as exc:
            self._item_failed(job, item, state, exc)
            return
        identity = identity_url(
            item.url,
            resp.url,
            analysed.extracted.canonical_url,
            pattern=job.pattern,
            allowed_hosts=job.allowed,
        )
        self._item_store(job, item, state, resp, digest, analysed, identity)

    @staticmethod
    def _extract(body: bytes, url: str, **kwargs: Any) -> Extracted:
        return extract(body, url, **kwargs)  # looked up here at each call: tests watch what is parsed

    def _item_unchanged(self, job: _Job, state: UrlState, resp: Response, digest: str | None) -> None:
        # the row (URL hashing and cleaning) is built by the writer, off the fetch threads
        fetched_at = utcnow()

        def apply(batch: _Batch) -> None:
            batch.fetch_state(state.success_row(job.id, resp, digest, fetched_at))
            counts = batch.count(job.key)
            counts.fetched += 1
            counts.unchanged += 1

        self._enqueue(_Op(apply))

    def _item_store(
        self,
        job: _Job,
        item: Item,
        state: UrlState,
        resp: Response,
        digest: str,
        analysed: Analysed,
        identity: str,
    ) -> None:
        row = state.success_row(job.id, resp, digest)
        # hashed next to the extraction, so that the writer only writes
        page = PageToStore(
            source_id=job.id,
            publisher=job.publisher,
            item=item,
            extracted=analysed.extracted,
            identity=identity,
            content_hash=analysed.content_hash,
            fingerprint=analysed.fingerprint,
        )

        def apply(batch: _Batch) -> None:
            batch.store_page(job.key, page)
            batch.fetch_state(row)

        def failed(exc: BaseException) -> None:
            self._item_failed(job, item, state, RuntimeError(f"storage error: {type(exc).__name__}: {exc}"))

        self._enqueue(_Op(apply, failed=failed))

    def _item_failed(self, job: _Job, item: Item, state: UrlState, error: BaseException) -> None:
        row = state.failure_row(job.id, error)
        message = f"{item.url}: {error}"

        def apply(batch: _Batch) -> None:
            batch.fetch_state(row)
            counts = batch.count(job.key)
            counts.failed_items += 1
            counts.errors.append(message)

        self._enqueue(_Op(apply))

    def _record_fetch(self, job: _Job, row: dict[str, Any]) -> None:
        self._enqueue(_Op(lambda batch: batch.fetch_state(row)))

    # -- the end of a source ------------------------------------------------------------------
    def _finish(self, job: _Job) -> None:
        def apply(batch: _Batch) -> None:
            batch.flush_pages()  # the counts of this source's pages in this batch
            result = job.result
            pending = batch.counts.get(job.key, _Counts())
            failed_items = result.failed_items + pending.failed_items
            if job.kind == "page" and failed_items and result.error is None:
                errors = result.item_errors + pending.errors
                result.error = errors[-1] if errors else "the page could not be fetched"
            ok = result.error is None
            now = utcnow()
            batch.polls.append(
                {
                    "source_id": job.id,
                    "run_id": self.run_id,
                    "started_at": job.started_at,
                    "finished_at": now,
                    "ok": ok,
                    "http_status": job.http_status,
                    "error": result.error,
                    "discovered": result.discovered,
                    "fetched": result.fetched + pending.fetched,
                    "new_statements": result.new_statements + pending.new_statements,
                    "new_versions": result.new_versions + pending.new_versions,
                    "failed_items": failed_items,
                }
            )
            source = batch.ending.get(job.id)
            if source is None:
                return
            if ok:
                batch.source_updates["ok_first" if job.first_pass else "ok"].append(
                    {
                        "sid": job.id,
                        "consecutive_failures": 0,
                        "failing_since": None,
                        "last_success_at": now,
                        "last_error": None,
                        "next_due_at": now + timedelta(seconds=source.poll_interval_s),
                        **({"backfilled_at": now} if job.first_pass else {}),
                    }
                )
            else:
                failures = (source.consecutive_failures or 0) + 1
                # back off: the poll interval, doubled per consecutive failure, at most a day
                backoff = timedelta(seconds=source.poll_interval_s) * (2 ** min(failures - 1, 5))
                batch.source_updates["failed"].append(
                    {
                        "sid": job.id,
                        "consecutive_failures": failures,
                        "failing_since": source.failing_since or now,
                        "last_failure_at": now,
                        "last_error": result.error,
                        "next_due_at": now + min(backoff, timedelta(hours=24)),
                    }
                )

        def done(_: Any) -> None:
            job.result.ok = job.result.error is None
            self._finished += 1
            if self.on_source_done is not None:
                try:
                    self.on_source_done(job.result)
                except Exception:
                    log.exception("on_source_done callback failed")

        def failed(exc: BaseException) -> None:
            job.result.ok = False
            job.result.error = job.result.error or f"could not record the poll: {exc}"
            self._finished += 1

        self._enqueue(_Op(apply, done=done, failed=failed, source_id=job.id))


def scrape(
    factory: sessionmaker[Session],
    client: PoliteClient,
    source_ids: list[int],
    *,
    run_id: int | None = None,
    policy: CrawlPolicy | None = None,
    on_source_done: Callable[[SourceResult], None] | None = None,
) -> ScrapeReport:
    """Scrape the given sources concurrently and report what each did."""
    return ScrapePass(factory, client, policy, run_id=run_id, on_source_done=on_source_done).run(source_ids)


__all__ = ["CrawlPolicy", "ScrapePass", "ScrapeReport", "SourceResult", "due_sources", "scrape"]

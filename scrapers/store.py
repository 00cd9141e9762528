"""Storage of what scraping found: statements, versions (only when the text changed), deltas,
near-duplicate clusters, and the per-URL fetch memory.

Every write is keyed: statements by canonical-URL hash, versions by (statement, seq), deltas
by version, fetch states by URL hash. A retried task or a concurrent run finds the row already
there and moves on.

A statement's cluster is decided when its first version is stored, in the same transaction,
so it is always there before the match step reads the statement: the alert dedup key
(``reference:<cluster>:<commitment>``) then makes the same message on two sites alert once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Delta, FetchState, Source, Statement, Version, utcnow
from models.db import insert_ignore
from scrapers.dedup import NEAR, ClusterIndex, containment, shingle_hashes, shingle_set, simhash_of_hashes
from scrapers.discover import Item
from scrapers.extract import Extracted, content_hash, paragraphs
from scrapers.urls import clean_url, url_hash

CLUSTER_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class Stored:
    statement_id: int
    version_id: int | None  # None: the text had not changed
    is_new_statement: bool
    cluster_id: int | None = None

    @property
    def outcome(self) -> str:
        if self.version_id is None:
            return "unchanged"
        return "new_statement" if self.is_new_statement else "new_version"


# -- identity ------------------------------------------------------------------------------
def identity_url(
    item_url: str,
    final_url: str | None,
    canonical: str | None,
    *,
    pattern: re.Pattern[str] | None = None,
    allowed_hosts: frozenset[str] | None = None,
) -> str:
    """The URL a statement is known by, however it was linked or redirected.

    The page's ``rel=canonical`` wins when it is believable: on the same site, and (if the
    source has a statement pattern) itself a statement URL; CMS templates that point every
    page's canonical at the home page or the listing would otherwise merge all statements.
    Otherwise the URL after redirects, otherwise the URL we were given.
    """
    base = final_url or item_url
    if canonical:
        host = (urlsplit(canonical).hostname or "").lower()
        base_host = (urlsplit(base).hostname or "").lower()
        same_site = host == base_host or (
            allowed_hosts is not None and any(host == h or host.endswith("." + h) for h in allowed_hosts)
        )
        path = urlsplit(canonical).path
        if same_site and path not in {"", "/"} and (pattern is None or pattern.search(canonical)):
            return canonical
    return base


# -- fetch state -----------------------------------------------------------------------------
def fetch_state_row(url: str, source_id: int | None, **values: Any) -> dict[str, Any]:
    row = {
        "url_hash": url_hash(url),
        "url": clean_url(url),
        "source_id": source_id,
        "etag": None,
        "last_modified": None,
        "body_hash": None,
        "last_status": None,
        "last_fetched_at": None,
        "last_success_at": None,
        "consecutive_failures": 0,
        "last_error": None,
        "backoff_until": None,
    }
    row.update(values)
    return row


def upsert_fetch_states(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Write whole fetch-state rows in one statement (executemany), insert or update by URL hash."""
    rows = list(rows)
    if not rows:
        return
    columns = tuple(c for c in rows[0] if c != "url_hash")
    session.execute(_fetch_state_upsert(session.get_bind().dialect.name, columns), rows)


@lru_cache(maxsize=16)
def _fetch_state_upsert(dialect: str, columns: tuple[str, ...]) -> Any:
    """The upsert statement, built once: building ``excluded`` costs more than running it."""
    ins: Any = (postgresql if dialect == "postgresql" else sqlite).insert(FetchState.__table__)
    return ins.on_conflict_do_update(
        index_elements=["url_hash"], set_={c: getattr(ins.excluded, c) for c in columns}
    )


# -- statements and versions ------------------------------------------------------------------
@dataclass
class StoreContext:
    """What storing needs beyond one page: the cluster index of the pass, staged additions."""

    index: ClusterIndex | None = None
    staged: list[tuple[int, int, int]] = field(default_factory=list)
    now: Callable[[], datetime] = utcnow

    def load_index(self, session: Session) -> ClusterIndex:
        if self.index is None:
            since = self.now() - CLUSTER_WINDOW
            rows = session.execute(
                select(Statement.id, Statement.cluster_id, Statement.fingerprint).where(
                    Statement.fingerprint.is_not(None), Statement.first_seen_at >= since
                )
            ).all()
            self.index = ClusterIndex([(sid, cid or sid, fp) for sid, cid, fp in rows])
        return self.index

    def commit(self) -> None:
        """The batch committed: staged fingerprints become part of the index."""
        if self.index is not None:
            for entry in self.staged:
                self.index.add(*entry)
        self.staged.clear()

    def rollback(self) -> None:
        self.staged.clear()


def upsert_statement(
    session: Session,
    source: Source | tuple[int, str | None],
    item: Item,
    extracted: Extracted | None,
    *,
    identity: str | None = None,
) -> tuple[Statement, bool]:
    """The statement row for ``identity`` (default: the item URL), created if new."""
    source_id, publisher = (source.id, source.publisher) if isinstance(source, Source) else source
    ident = identity or item.url
    key = url_hash(ident)
    now = utcnow()
    inserted = insert_ignore(
        session,
        Statement,
        [
            {
                "url_hash": key,
                "url": clean_url(ident),
                "source_id": source_id,
                "publisher": publisher,
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
            statement.published_at = statement.published_at or item.published_at or extracted.published_at
    return statement, bool(inserted)


def store_version(
    session: Session,
    statement: Statement,
    extracted: Extracted,
    fetched_at: datetime | None = None,
    *,
    context: StoreContext | None = None,
) -> Version | None:
    """Append a version if the normalised text differs from the latest one; else None."""
    digest = content_hash(extracted.text)
    latest = session.execute(
        select(Version.id, Version.seq, Version.content_hash)
        .where(Version.statement_id == statement.id)
        .order_by(Version.seq.desc())
        .limit(1)
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
        previous_text = session.scalar(select(Version.text).where(Version.id == latest.id)) or ""
        added, removed = paragraph_delta(previous_text, extracted.text)
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
        assign_cluster(session, statement, extracted.text, context or StoreContext())
    return version


def store_page(
    session: Session,
    source: tuple[int, str | None],
    item: Item,
    extracted: Extracted,
    *,
    identity: str,
    context: StoreContext,
) -> Stored:
    """Statement + version (+ delta, + cluster) for one fetched page."""
    statement, is_new = upsert_statement(session, source, item, extracted, identity=identity)
    version = store_version(session, statement, extracted, context=context)
    return Stored(
        statement_id=statement.id,
        version_id=version.id if version is not None else None,
        is_new_statement=is_new or (version is not None and version.seq == 1),
        cluster_id=statement.cluster_id,
    )


@dataclass(frozen=True)
class PageToStore:
    """One fetched, extracted page for ``store_pages``; the hashes are computed by the caller
    (next to the extraction, off the writer): ``content_hash(extracted.text)``, and the
    SimHash of its shingles when the page is probably new (None: computed here if needed)."""

    source_id: int
    publisher: str | None
    item: Item
    extracted: Extracted
    identity: str
    content_hash: str
    fingerprint: int | None = None


def store_pages(session: Session, pages: list[PageToStore], context: StoreContext) -> list[Stored]:
    """``store_page`` for many pages at once: the same rows by the same rules, in a handful of
    set-wise statements (insert-or-ignore statements, read them and their latest versions
    back, insert versions, their deltas, then the statement updates) instead of six to eight
    round trips per page. Pages with the same identity are stored in order, one per round."""
    results: list[Stored] = []
    start = 0
    while start < len(pages):  # split where an identity repeats: each round sees the one before
        seen: set[str] = set()
        end = start
        while end < len(pages) and url_hash(pages[end].identity) not in seen:
            seen.add(url_hash(pages[end].identity))
            end += 1
        results.extend(_store_round(session, pages[start:end], context))
        start = end
    return results


def _chunks(values: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


@dataclass(frozen=True)
class _StoreSQL:
    insert_statements: Any
    read_statements: Any
    latest_versions: Any
    insert_versions: Any
    version_texts: Any
    insert_deltas: Any
    touch_statements: Any
    cluster_statements: Any


@lru_cache(maxsize=4)
def _store_statements(dialect_name: str) -> _StoreSQL:
    """``store_pages``' statements, built once per dialect (building costs more than running)."""
    dialect: Any = postgresql if dialect_name == "postgresql" else sqlite
    st, vt = Statement.__table__, Version.__table__
    last = (
        select(vt.c.statement_id, func.max(vt.c.seq).label("seq"))
        .where(vt.c.statement_id.in_(bindparam("ids", expanding=True)))
        .group_by(vt.c.statement_id)
        .subquery()
    )
    return _StoreSQL(
        insert_statements=dialect.insert(st)
        .on_conflict_do_nothing(index_elements=["url_hash"])
        .returning(st.c.url_hash),
        read_statements=select(
            st.c.id, st.c.url_hash, st.c.title, st.c.lang, st.c.published_at, st.c.cluster_id
        ).where(st.c.url_hash.in_(bindparam("keys", expanding=True))),
        latest_versions=select(vt.c.id, vt.c.statement_id, vt.c.seq, vt.c.content_hash).join(
            last, (vt.c.statement_id == last.c.statement_id) & (vt.c.seq == last.c.seq)
        ),
        insert_versions=dialect.insert(vt)
        .on_conflict_do_nothing(index_elements=["statement_id", "seq"])
        .returning(vt.c.id, vt.c.statement_id),
        version_texts=select(vt.c.id, vt.c.text).where(vt.c.id.in_(bindparam("ids", expanding=True))),
        insert_deltas=Delta.__table__.insert(),
        touch_statements=update(st)
        .where(st.c.id == bindparam("sid"))
        .values(
            title=bindparam("title"),
            lang=bindparam("lang"),
            published_at=bindparam("published_at"),
            last_seen_at=bindparam("last_seen_at"),
        ),
        cluster_statements=update(st)
        .where(st.c.id == bindparam("sid"))
        .values(fingerprint=bindparam("fingerprint"), cluster_id=bindparam("cluster_id")),
    )


def _store_round(session: Session, pages: list[PageToStore], context: StoreContext) -> list[Stored]:
    now = utcnow()
    sql = _store_statements(session.get_bind().dialect.name)
    keys = [url_hash(p.identity) for p in pages]
    # 1. statements: insert the new ones, read every one back
    rows = [
        {
            "url_hash": key,
            "url": clean_url(p.identity),
            "source_id": p.source_id,
            "publisher": p.publisher,
            "title": p.extracted.title or p.item.title,
            "published_at": p.item.published_at or p.extracted.published_at,
            "lang": p.extracted.lang or p.item.lang,
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for p, key in zip(pages, keys, strict=True)
    ]
    inserted = set(session.execute(sql.insert_statements, rows).scalars())
    known: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(keys):
        for row in session.execute(sql.read_statements, {"keys": chunk}):
            known[row.url_hash] = dict(row._mapping)
    ids = [known[k]["id"] for k in keys]
    latest: dict[int, Any] = {}
    for chunk in _chunks(ids):
        for row in session.execute(sql.latest_versions, {"ids": chunk}):
            latest[row.statement_id] = row
    # 2. what each page changes (upsert_statement and store_version, row by row)
    touched: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    pending: list[tuple[int, PageToStore, Any]] = []  # (page index, page, latest version or None)
    for i, (p, key) in enumerate(zip(pages, keys, strict=True)):
        statement = known[key]
        if key not in inserted:
            statement["title"] = p.extracted.title or statement["title"]
            statement["lang"] = statement["lang"] or p.extracted.lang
            statement["published_at"] = (
                statement["published_at"] or p.item.published_at or p.extracted.published_at
            )
            touched.append(
                {
                    "sid": statement["id"],
                    "title": statement["title"],
                    "lang": statement["lang"],
                    "published_at": statement["published_at"],
                    "last_seen_at": now,
                }
            )
        previous = latest.get(statement["id"])
        if previous is not None and previous.content_hash == p.content_hash:
            continue
        versions.append(
            {
                "statement_id": statement["id"],
                "seq": previous.seq + 1 if previous is not None else 1,
                "content_hash": p.content_hash,
                "title": p.extracted.title,
                "text": p.extracted.text,
                "lang": p.extracted.lang or statement["lang"],
                "published_at": p.extracted.published_at,
                "fetched_at": now,
            }
        )
        pending.append((i, p, previous))
    # 3. versions (one that a concurrent run stored first is skipped, as store_version does)
    version_ids: dict[int, int] = {}
    if versions:
        for row in session.execute(sql.insert_versions, versions):
            version_ids[row.statement_id] = row.id
    # 4. deltas against the previous version; clusters for first versions
    previous_ids = [prev.id for _, _, prev in pending if prev is not None]
    previous_texts: dict[int, str] = {}
    for chunk in _chunks(previous_ids):
        for row in session.execute(sql.version_texts, {"ids": chunk}):
            previous_texts[row.id] = row.text
    deltas: list[dict[str, Any]] = []
    clustered: list[dict[str, Any]] = []
    for i, p, prev in pending:
        statement = known[keys[i]]
        version_id = version_ids.get(statement["id"])
        if version_id is None:
            continue
        if prev is not None:
            added, removed = paragraph_delta(previous_texts.get(prev.id) or "", p.extracted.text)
            deltas.append(
                {
                    "version_id": version_id,
                    "previous_version_id": prev.id,
                    "added": added,
                    "removed": removed,
                    "added_chars": sum(len(x) for x in added),
                    "removed_chars": sum(len(x) for x in removed),
                    "created_at": now,
                }
            )
        else:
            features = None
            fp = p.fingerprint
            if fp is None:
                hashes = shingle_hashes(p.extracted.text)
                fp = simhash_of_hashes(hashes)
                features = set(hashes.tolist())
            cluster = choose_cluster(session, statement["id"], p.extracted.text, fp, context, features)
            statement["cluster_id"] = cluster
            clustered.append({"sid": statement["id"], "fingerprint": fp, "cluster_id": cluster})
    if deltas:
        session.execute(sql.insert_deltas, deltas)
    # 5. statement updates, each kind as one executemany
    if touched:
        session.execute(sql.touch_statements, touched)
    if clustered:
        session.execute(sql.cluster_statements, clustered)
    stored = []
    for key in keys:
        statement = known[key]
        version_id = version_ids.get(statement["id"])
        first = version_id is not None and latest.get(statement["id"]) is None
        stored.append(
            Stored(
                statement_id=statement["id"],
                version_id=version_id,
                is_new_statement=key in inserted or first,
                cluster_id=statement["cluster_id"],
            )
        )
    return stored


def paragraph_delta(old: str, new: str) -> tuple[list[str], list[str]]:
    """Paragraphs added and removed between two normalised texts, in document order."""
    return paragraph_list_delta(paragraphs(old), paragraphs(new))


def paragraph_list_delta(a: Sequence[str], b: Sequence[str]) -> tuple[list[str], list[str]]:
    """Paragraphs added and removed between two lists of paragraphs (a diff, so moves and
    repeats count where they happen), in document order."""
    added: list[str] = []
    removed: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag in {"replace", "delete"}:
            removed.extend(a[i1:i2])
        if tag in {"replace", "insert"}:
            added.extend(b[j1:j2])
    return added, removed


def assign_cluster(session: Session, statement: Statement, text: str, context: StoreContext) -> None:
    """Link a new statement to an earlier near-duplicate (same text, another URL or site)."""
    hashes = shingle_hashes(text)
    fp = simhash_of_hashes(hashes)
    features = set(hashes.tolist())
    statement.fingerprint = fp
    statement.cluster_id = choose_cluster(session, statement.id, text, fp, context, features)


def choose_cluster(
    session: Session,
    statement_id: int,
    text: str,
    fp: int,
    context: StoreContext,
    features: set[int] | None = None,
) -> int:
    """The cluster of a new statement with fingerprint ``fp`` (its own id when it has no
    near-duplicate); staged in ``context`` so that later statements of the pass see it."""
    index = context.load_index(session)
    cluster = statement_id
    # the nearest of the index and of what this pass staged (the best five of each, merged,
    # are the best five of both)
    found = index.candidates(fp)
    if context.staged:
        found = sorted(found + ClusterIndex(list(context.staged)).candidates(fp))[:5]
    for distance, cand_id, cand_cluster in found:
        if cand_id == statement_id:
            continue
        if distance <= NEAR:
            cluster = cand_cluster
            break
        cand_text = session.scalar(
            select(Version.text).where(Version.statement_id == cand_id).order_by(Version.seq).limit(1)
        )
        if features is None:
            features = shingle_set(text)
        if cand_text and containment(features, shingle_set(cand_text)) >= 0.8:
            cluster = cand_cluster
            break
    context.staged.append((statement_id, cluster, fp))
    return cluster


def touch_statements(session: Session, statement_ids: list[int]) -> None:
    if statement_ids:
        session.execute(
            update(Statement).where(Statement.id.in_(statement_ids)).values(last_seen_at=utcnow())
        )

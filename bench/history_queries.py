"""How fast the analysts' three common questions are on a large history, on PostgreSQL.

Creates a throw-away database (dropped at the end, whatever happens) on the server of
``PLEDGEWATCH_BENCH_DATABASE_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/``),
migrates it (views included), bulk-loads a synthetic history with COPY (1,000,000 versions of
100,000 statements, their deltas, 100,000 references skewed across the catalog's commitments,
versions interleaved in time as a real crawl stores them), runs ANALYZE, then times, through the
same ``models.history`` code the commands use:

- ``timeline``: the month timeline of the *most referenced* commitment (the worst case);
- ``references``: that commitment's newest 200 references (``pledgewatch references``);
- ``history``: a 100-version statement's history (``pledgewatch history``: statement, versions
  with deltas, references per version).

Median of repeated runs after warm-up. EXPLAIN ANALYZE of each goes to stderr, and the indexes
each plan uses go into the JSON line. Target: each <= 50 ms.

Prints one JSON line: {"versions", "references", "ms": {"timeline", "references", "history"}, ...}.
Usage: python bench/history_queries.py [--versions N] [--references N] [--runs N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models import create_db_engine, history, make_session_factory, upgrade_database  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/"
TARGET_MS = 50.0
START = datetime(2024, 11, 1, tzinfo=UTC)
SPAN_S = 2 * 365 * 86400  # two years of history
PUBLISHERS = [f"Publisher {i:02d}" for i in range(30)]
WORDS = (
    "human", "rights", "civic", "space", "defenders", "climate", "justice", "gender", "parity",
    "digital", "privacy", "refugees", "accountability", "impunity", "peace", "operations",
    "development", "treaty", "council", "assembly", "review",
)  # fmt: skip


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def catalog_ids() -> list[str]:
    """Commitment ids following CATALOG-IDS.md: families, domains, actions, messages, priorities."""
    ids = ["c2a", "hr75", "ngo"]
    for domain, actions in enumerate((4, 4, 6, 5, 6, 6, 5), start=1):
        ids.append(f"c2a.{domain}")
        ids.extend(f"c2a.{domain}.{n}" for n in range(1, actions + 1))
    ids += ["c2a.3.7", "c2a.7.6"]
    ids += [f"hr75.{n}" for n in range(1, 9)] + [f"ngo.{n}" for n in range(1, 9)]
    return ids


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    name = f"pw_bench_history_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- the synthetic history ----------------------------------------------------------------


def versions_per_statement(total: int) -> np.ndarray:
    """Most statements change a few times; a tenth are watched pages that change often."""
    counts: list[int] = []
    budget = total
    pattern = [5] * 90 + [50] * 9 + [100]  # per 100 statements: 450 + 450 + 100 = 1000 versions
    while budget > 0:
        for n in pattern:
            n = min(n, budget)
            counts.append(n)
            budget -= n
            if budget == 0:
                break
    return np.array(counts, dtype=np.int64)


def build(n_versions: int, n_refs: int, rng: np.random.Generator) -> dict[str, Any]:
    per = versions_per_statement(n_versions)
    n_statements = len(per)
    statement_of = np.repeat(np.arange(1, n_statements + 1), per)
    seq = np.concatenate([np.arange(1, n + 1) for n in per])
    published = rng.uniform(0, SPAN_S * 0.6, n_statements)
    # each later version comes hours to weeks after the one before
    gaps = rng.exponential(86400 * 3, n_versions)
    gaps[seq == 1] = rng.uniform(600, 7200, int((seq == 1).sum()))
    first = np.cumsum(per) - per  # index of each statement's first version
    cumulative = np.cumsum(gaps)
    within = cumulative - np.repeat(cumulative[first] - gaps[first], per)
    fetched = published[statement_of - 1] + within
    # ids in time order: a crawl stores versions of many statements interleaved
    order = np.argsort(fetched, kind="stable")
    version_id = np.empty(n_versions, dtype=np.int64)
    version_id[order] = np.arange(1, n_versions + 1)
    return {
        "per": per,
        "statement_of": statement_of,
        "seq": seq,
        "published": published,
        "fetched": fetched,
        "version_id": version_id,
        "order": order,
        "n_statements": n_statements,
        "n_refs": n_refs,
    }


def ts(seconds: float) -> datetime:
    return START + timedelta(seconds=float(seconds))


def load(url: str, data: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    engine = create_db_engine(url)
    raw = engine.raw_connection()
    conn = raw.driver_connection
    assert conn is not None
    ids = catalog_ids()
    per, statement_of, seq = data["per"], data["statement_of"], data["seq"]
    fetched, version_id, order = data["fetched"], data["version_id"], data["order"]
    n_statements = data["n_statements"]
    lang_of = rng.choice(["en", "fr", "es"], n_statements, p=[0.7, 0.2, 0.1])
    publisher_of = rng.integers(0, len(PUBLISHERS), n_statements)
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        with cur.copy(
            "COPY commitments (id, parent_id, family, level, title, quiet_days, active, synced_at) FROM STDIN"
        ) as cp:
            for cid in ids:
                parts = cid.split(".")
                level = ("family", "top", "action")[len(parts) - 1]
                cp.write_row(
                    (cid, ".".join(parts[:-1]) or None, parts[0], level, f"Commitment {cid}", 90, True, START)
                )
        with cur.copy(
            "COPY sources (id, key, publisher, kind, url, languages, poll_interval_s, enabled, config, "
            "consecutive_failures, created_at, updated_at) FROM STDIN"
        ) as cp:
            for i, publisher in enumerate(PUBLISHERS, start=1):
                cp.write_row(
                    (
                        i,
                        f"source-{i}",
                        publisher,
                        "feed",
                        f"https://p{i}.example.org/feed",
                        '["en"]',
                        1800,
                        True,
                        "{}",
                        0,
                        START,
                        START,
                    )
                )
        with cur.copy(
            "COPY statements (id, url_hash, url, source_id, publisher, title, published_at, lang, cluster_id, "
            "first_seen_at, last_seen_at) FROM STDIN"
        ) as cp:
            last_fetch = {}
            ends = np.cumsum(per) - 1
            for sid in range(1, n_statements + 1):
                last_fetch[sid] = fetched[ends[sid - 1]]
                url = f"https://p{publisher_of[sid - 1] + 1}.example.org/news/{sid}"
                published = ts(data["published"][sid - 1])
                cp.write_row(
                    (
                        sid,
                        hashlib.sha1(url.encode()).hexdigest(),
                        url,
                        int(publisher_of[sid - 1]) + 1,
                        PUBLISHERS[publisher_of[sid - 1]],
                        f"Statement {sid} on " + " ".join(WORDS[(sid + k) % len(WORDS)] for k in range(4)),
                        published,
                        str(lang_of[sid - 1]),
                        sid,
                        published + timedelta(minutes=30),
                        ts(last_fetch[sid]),
                    )
                )
        log(f"  statements: {n_statements} in {time.perf_counter() - t0:.1f}s")
        t0 = time.perf_counter()
        with cur.copy(
            "COPY versions (id, statement_id, seq, content_hash, title, text, lang, published_at, fetched_at, "
            "matched_at, matcher_version) FROM STDIN"
        ) as cp:
            for i in order:  # in id order
                sid, n = int(statement_of[i]), int(seq[i])
                when = ts(fetched[i])
                body = " ".join(WORDS[(sid * 7 + n + k) % len(WORDS)] for k in range(12))
                cp.write_row(
                    (
                        int(version_id[i]),
                        sid,
                        n,
                        f"{sid:032x}{n:032x}",
                        f"Statement {sid}",
                        f"Statement {sid}, version {n}.\n{body}.\nParagraph {n} of the text, edited.",
                        str(lang_of[sid - 1]),
                        None,
                        when,
                        when + timedelta(minutes=5),
                        "bench",
                    )
                )
        log(f"  versions: {len(order)} in {time.perf_counter() - t0:.1f}s")
        t0 = time.perf_counter()
        with cur.copy(
            "COPY deltas (id, version_id, previous_version_id, added, removed, added_chars, removed_chars, created_at) "
            "FROM STDIN"
        ) as cp:
            delta_id = 0
            for i in range(len(seq)):  # statement/seq order: the previous index is the previous version
                if seq[i] == 1:
                    continue
                delta_id += 1
                n = int(seq[i])
                cp.write_row(
                    (
                        delta_id,
                        int(version_id[i]),
                        int(version_id[i - 1]),
                        f'["Paragraph {n} of the text, edited."]',
                        f'["Paragraph {n - 1} of the text, edited."]',
                        32,
                        32,
                        ts(fetched[i]),
                    )
                )
        log(f"  deltas: {delta_id} in {time.perf_counter() - t0:.1f}s")
        t0 = time.perf_counter()
        weights = 1.0 / np.arange(1, len(ids) + 1) ** 0.8
        weights = weights[rng.permutation(len(ids))]
        weights /= weights.sum()
        picks = rng.choice(len(ids), data["n_refs"] * 2, p=weights)
        rows = rng.integers(0, len(seq), data["n_refs"] * 2)
        seen: set[tuple[int, int]] = set()
        per_commitment: dict[str, int] = {}
        with cur.copy(
            'COPY "references" (id, version_id, statement_id, commitment_id, score, cue, evidence, evidence_start, '
            "start_offset, end_offset, lang, method, implied, is_new, created_at) FROM STDIN"
        ) as cp:
            ref_id = 0
            for pick, i in zip(picks, rows, strict=True):
                key = (int(version_id[i]), int(pick))
                if key in seen:
                    continue
                seen.add(key)
                ref_id += 1
                cid = ids[pick]
                per_commitment[cid] = per_commitment.get(cid, 0) + 1
                sid = int(statement_of[i])
                cp.write_row(
                    (
                        ref_id,
                        key[0],
                        sid,
                        cid,
                        0.8,
                        "civic space",
                        f"The statement refers to civic space and to {cid}, in its evidence sentence.",
                        0,
                        27,
                        38,
                        str(lang_of[sid - 1]),
                        "rule",
                        cid.count(".") < 2 and random.random() < 0.5,
                        bool(seq[i] == 1 or random.random() < 0.3),
                        ts(fetched[i] + 300),
                    )
                )
                if ref_id == data["n_refs"]:
                    break
        log(f"  references: {ref_id} in {time.perf_counter() - t0:.1f}s")
        for table in ("sources", "statements", "versions", "deltas", "references"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT MAX(id) FROM \"{table}\"))"
            )
    conn.commit()
    t0 = time.perf_counter()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    log(f"  vacuum analyze in {time.perf_counter() - t0:.1f}s")
    raw.close()
    engine.dispose()
    long_statement = int(statement_of[int(np.argmax(per[statement_of - 1]))])
    hot = max(per_commitment, key=lambda c: per_commitment[c])
    return {
        "references": ref_id,
        "hot": hot,
        "hot_refs": per_commitment[hot],
        "long_statement": long_statement,
    }


# --- the measurements ---------------------------------------------------------------------


def median_ms(run: Callable[[], Any], runs: int) -> float:
    for _ in range(3):
        run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def explain(session: Any, query: Any, label: str) -> list[str]:
    sql = str(query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
    plan = [row[0] for row in session.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}"))]
    log(f"\n== EXPLAIN ANALYZE {label}\n" + "\n".join(plan))
    used = re.findall(
        r"Index (?:Only )?Scan(?: Backward)? using (\S+)|Bitmap Index Scan on (\S+)", "\n".join(plan)
    )
    return sorted({a or b for a, b in used})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--references", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    server = os.environ.get("PLEDGEWATCH_BENCH_DATABASE_URL", DEFAULT_URL)
    rng = np.random.default_rng(args.seed)
    random.seed(args.seed)
    with throwaway_database(server) as url:
        started = time.perf_counter()
        upgrade_database(url)
        log(f"generating {args.versions} versions, {args.references} references")
        data = build(args.versions, args.references, rng)
        loaded = load(url, data, rng)
        load_s = time.perf_counter() - started
        engine = create_db_engine(url)
        factory = make_session_factory(engine)
        hot, sid = loaded["hot"], loaded["long_statement"]
        with factory() as session:
            timeline_q = history.timeline_query(hot, "month")
            references_q = history.references_query(hot, limit=200)
            changes_q = (
                history.v_statement_changes.select()
                .where(history.v_statement_changes.c.statement_id == sid)
                .order_by(history.v_statement_changes.c.seq)
            )

            def show_history() -> None:
                history.find_statement(session, statement_id=sid)
                history.statement_versions(session, sid)

            versions_seen = len(history.statement_versions(session, sid))
            ms = {
                "timeline": median_ms(lambda: session.execute(timeline_q).all(), args.runs),
                "references": median_ms(lambda: session.execute(references_q).all(), args.runs),
                "history": median_ms(show_history, args.runs),
            }
            indexes = {
                "timeline": explain(session, timeline_q, f"timeline of {hot}"),
                "references": explain(session, references_q, f"newest 200 references to {hot}"),
                "history": explain(session, changes_q, f"versions of statement {sid}"),
            }
        engine.dispose()
    print(
        json.dumps(
            {
                "versions": args.versions,
                "references": loaded["references"],
                "ms": ms,
                "target_ms": TARGET_MS,
                "ok": all(v <= TARGET_MS for v in ms.values()),
                "commitment": hot,
                "commitment_references": loaded["hot_refs"],
                "statement_versions": versions_seen,
                "indexes": indexes,
                "load_s": round(load_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()

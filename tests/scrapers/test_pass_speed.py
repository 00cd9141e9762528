"""What makes a pass fast must not change what it finds: extraction in worker processes, the
robots.txt cache kept between passes, and the set-wise writer, each against the plain path."""

from __future__ import annotations

import functools
import pathlib
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from models import Delta, Statement, Version, session_scope, upgrade_database
from scrapers import crawl
from scrapers.analyse import Analyser, _Worker, analyse
from scrapers.client import FetchError, FetchPolicy, PoliteClient, RobotsCache
from scrapers.discover import Item
from scrapers.extract import (
    _WS,
    _WS_CHARS,
    _WS_COLLAPSE,
    ExtractionError,
    collapse_ws,
    content_hash,
    non_ws_length,
    normalise_text,
)
from tests.scrapers import faultsite
from tests.scrapers import passes as P
from tests.support import pages
from tests.support.site import LocalSite

POLICY = FetchPolicy(allow_private_addresses=True, min_delay_s=0.0, delay_jitter_s=0.0, retry_backoff_s=0.01)


def _page(i: int) -> bytes:
    return pages.statement(
        f"Statement number {i} on civic space",
        [f"GENEVA ({i} November 2026) – Paragraph {j} of statement {i} about civic space." for j in range(8)],
    ).encode()


# -- extraction in worker processes ------------------------------------------------------------
def test_worker_processes_analyse_exactly_as_the_threads() -> None:
    analyser = Analyser(processes=2, pool_after=0)
    try:
        url = "https://www.ohchr.org/en/press-releases/2026/11/x"
        first = analyser.analyse(
            _page(0), url, content_type="text/html", charset="utf-8", config={}, fingerprint=True
        )
        assert first == analyse(_page(0), url, "text/html", "utf-8", {}, True)
        assert analyser._up.wait(30), "the worker processes came up"
        for i in range(1, 6):
            got = analyser.analyse(
                _page(i), url, content_type="text/html", charset="utf-8", config={}, fingerprint=i % 2 == 0
            )
            assert got == analyse(_page(i), url, "text/html", "utf-8", {}, i % 2 == 0)
            assert (got.fingerprint is None) == (i % 2 == 1)
        # a page's own failure comes back from the worker as itself, and the workers stay up
        with pytest.raises(ExtractionError):
            analyser.analyse(
                b"<html><body></body></html>",
                url,
                content_type="text/html",
                charset=None,
                config={},
                fingerprint=False,
            )
        assert not analyser._failed
        assert len(analyser._workers) == 2
    finally:
        analyser.close()
    assert all(not w.process.is_alive() for w in analyser._workers) or analyser._workers == []


def test_no_processes_means_the_threads_only() -> None:
    analyser = Analyser(processes=0, pool_after=0)
    url = "https://www.ohchr.org/en/press-releases/2026/11/x"
    for _ in range(3):
        analyser.analyse(
            _page(1), url, content_type="text/html", charset="utf-8", config={}, fingerprint=True
        )
    assert analyser._starter is None and analyser._workers == []
    analyser.close()


def test_a_dead_worker_sends_the_pass_back_to_the_threads() -> None:
    analyser = Analyser(processes=1, pool_after=0)
    url = "https://www.ohchr.org/en/press-releases/2026/11/x"
    try:
        analyser.analyse(
            _page(1), url, content_type="text/html", charset="utf-8", config={}, fingerprint=False
        )
        assert analyser._up.wait(30)
        analyser._workers[0].process.kill()
        analyser._workers[0].process.join(5)
        got = analyser.analyse(
            _page(2), url, content_type="text/html", charset="utf-8", config={}, fingerprint=False
        )
        assert got == analyse(_page(2), url, "text/html", "utf-8", {}, False)  # not lost
        assert analyser._failed
    finally:
        analyser.close()


def test_every_extraction_path_returns_normalised_text_so_its_hash_is_the_content_hash() -> None:
    paras = [f"Paragraph {j}:  civic\u00a0space,\tdefenders   and reprisals in region {j}." for j in range(6)]
    article = pages.statement("Title", paras).encode()
    no_container = (
        "<html><body><div class='x'>" + "".join(f"<p>{p}</p>" for p in paras) + "</div></body></html>"
    ).encode()
    cases = [
        (article, "text/html", {}),  # main
        (article, "text/html", {"content_selector": "article"}),  # selector
        (no_container, "text/html", {}),  # trafilatura or the paragraphs fallback
        (faultsite.pdf(paras), "application/pdf", {}),  # pdf
    ]
    url = "https://www.ohchr.org/en/press-releases/2026/11/x"
    for body, content_type, config in cases:
        got = analyse(body, url, content_type, "utf-8", config, False)
        assert normalise_text(got.extracted.text) == got.extracted.text, got.extracted.method
        assert got.content_hash == content_hash(got.extracted.text)


def test_whitespace_characters_counted_are_those_the_regex_collapses() -> None:
    matched = {chr(c) for c in range(0x10000) if _WS.fullmatch(chr(c))}
    assert matched == set(_WS_CHARS)
    rng = random.Random(5)
    alphabet = [*_WS_CHARS, "a", "b", "\n", "é", "–", "\u200c", "  "]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert _WS_COLLAPSE.sub(" ", text) == _WS.sub(" ", text), repr(text)
        assert collapse_ws(text) == _WS.sub(" ", text), repr(text)  # with its ASCII shortcut
        assert non_ws_length(text) == len(text) - sum(text.count(ch) for ch in _WS_CHARS), repr(text)
    ascii_only = [" ", "\t", "\f", "\v", "a", "b", "\n", "  "]
    for _ in range(2000):
        text = "".join(rng.choice(ascii_only) for _ in range(rng.randint(0, 12)))
        assert collapse_ws(text) == _WS.sub(" ", text), repr(text)


# -- robots.txt kept between passes -------------------------------------------------------------
def test_a_fresh_client_reuses_the_robots_answer_of_an_earlier_pass(
    fsite: LocalSite, tmp_path: pathlib.Path
) -> None:
    fsite.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    fsite.add("/ok", "fine")
    fsite.add("/private/x", "secret")
    policy = replace(POLICY, robots_cache_dir=str(tmp_path / "robots"))
    PoliteClient(policy).get(fsite.url("/ok"))
    later = PoliteClient(policy)  # a new process, as every pass is
    assert later.get(fsite.url("/ok")).status == 200
    with pytest.raises(FetchError) as info:
        later.get(fsite.url("/private/x"))
    assert info.value.kind == "robots"
    assert len(fsite.hits_for("/robots.txt")) == 1
    assert not fsite.hits_for("/private/x")


def test_robots_answers_kept_on_disk_are_read_before_the_first_request(
    fsite: LocalSite, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fsite.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    fsite.add("/ok", "fine")
    policy = replace(POLICY, robots_cache_dir=str(tmp_path / "robots"))
    PoliteClient(policy).get(fsite.url("/ok"))
    later = PoliteClient(policy)
    later.prepare([fsite.url("/ok"), fsite.url("/other")])  # one origin, read once
    reads: list[str] = []
    original = RobotsCache.get
    monkeypatch.setattr(
        RobotsCache, "get", lambda self, origin: reads.append(origin) or original(self, origin)
    )
    assert later.get(fsite.url("/ok")).status == 200
    with pytest.raises(FetchError) as info:
        later.get(fsite.url("/private/x"))
    assert info.value.kind == "robots"
    assert reads == [] and len(fsite.hits_for("/robots.txt")) == 1


def test_an_unreachable_robots_txt_is_not_kept(fsite: LocalSite, tmp_path: pathlib.Path) -> None:
    fsite.add("/robots.txt", "down", status=503)
    fsite.add("/ok", "fine")
    policy = replace(POLICY, robots_cache_dir=str(tmp_path / "robots"), max_retries=0)
    with pytest.raises(FetchError):
        PoliteClient(policy).get(fsite.url("/ok"))
    fsite.add("/robots.txt", "User-agent: *\nDisallow:\n", content_type="text/plain")
    assert PoliteClient(policy).get(fsite.url("/ok")).status == 200  # asked again
    assert PoliteClient(policy).get(fsite.url("/ok")).status == 200  # now kept
    assert len(fsite.hits_for("/robots.txt")) == 3  # the 503 with its retry, then one answer


def test_an_expired_or_foreign_robots_entry_is_a_miss(tmp_path: pathlib.Path) -> None:
    cache = RobotsCache(tmp_path)
    cache.put("https://a.example", "User-agent: *\nDisallow: /x\n", ttl_s=-1)
    assert cache.get("https://a.example") is None
    cache.put("https://b.example", None, ttl_s=60)
    text, left = cache.get("https://b.example")  # type: ignore[misc]
    assert text is None and 0 < left <= 60
    (tmp_path / next(p.name for p in tmp_path.iterdir() if p.suffix == ".json")).write_text("{not json")
    assert cache.get("https://a.example") is None or cache.get("https://b.example") is None


# -- the whole pass, worker processes on and off ------------------------------------------------
def _publish(site: LocalSite, n: int, *, revision: int = 0) -> None:
    items = []
    for i in range(n):
        path = f"/en/press-releases/2026/11/s{i}"
        body = [
            f"GENEVA ({i % 28 + 1} November 2026) – Statement {i}: civic space and defenders, paragraph {j}."
            for j in range(6)
        ]
        if revision and i % 5 == 0:
            body.append(f"Update {revision}: the statement was corrected.")
        site.add(path, pages.statement(f"Statement {i}", body), delay_s=0.02)
        items.append((path, f"Statement {i}", f"2026-11-{i % 28 + 1:02d}T09:00:00Z"))
    site.add("/en/press-releases", pages.listing(items))


def _stored(ctx: P.Context) -> list[tuple[str, str | None, int, str, int]]:
    with session_scope(ctx.factory) as session:
        rows = session.execute(
            select(Statement.url, Statement.title, Version.seq, Version.content_hash, Statement.fingerprint)
            .join(Version, Version.statement_id == Statement.id)
            .order_by(Statement.url, Version.seq)
        ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_pass_stores_the_same_with_and_without_worker_processes(
    make_ctx: P.MakeCtx, fsite: LocalSite, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 60
    # workers from the first page on (not past 32), and pages slow enough (20 ms) for them to be
    # up before most pages are read: this pass must really go through them
    monkeypatch.setattr(crawl, "Analyser", functools.partial(Analyser, pool_after=0))
    worker_calls = []
    real_call = _Worker.call
    monkeypatch.setattr(
        _Worker, "call", lambda self, request: worker_calls.append(1) or real_call(self, request)
    )
    entry = {
        "key": "speed-test",
        "publisher": "Speed",
        "kind": "listing",
        "url": fsite.url("/en/press-releases"),
        "languages": ["en"],
        "pattern": r"/en/press-releases/\d{4}/\d{2}/",
    }
    stored = {}
    for processes in (0, 2):
        home = tmp_path / f"processes-{processes}"
        home.mkdir()
        url = f"sqlite:///{home / 'pw.db'}"
        upgrade_database(url)
        ctx = P.context(
            make_ctx,
            home,
            [entry],
            database_url=url,
            extract_processes=processes,
            recheck_hours=0.0,
        )
        _publish(fsite, n)
        first = P.scrape(ctx)
        assert first.new_statements == n and first.counts()["failed_items"] == 0
        _publish(fsite, n, revision=1)
        second = P.scrape(ctx)
        assert second.new_versions == n // 5 and second.new_statements == 0
        stored[processes] = _stored(ctx)
        assert len(stored[processes]) == n + n // 5
        assert all(fp is not None for *_, fp in stored[processes])
        with session_scope(ctx.factory) as session:
            deltas = session.scalars(select(Delta)).all()
            assert len(deltas) == n // 5
            assert all(
                d.added == ["Update 1: the statement was corrected."] and d.removed == [] for d in deltas
            )
    assert stored[0] == stored[2]
    assert len(worker_calls) > n // 2, "most pages of the processes=2 passes went through the workers"


# -- starting a pass ------------------------------------------------------------------------------
_PRESTART = """
import sys, threading
from scrapers.analyse import Analyser, analyse
analyser = Analyser(processes=2)
assert threading.active_count() == 1
analyser.prestart()
assert analyser._up.is_set() and len(analyser._workers) == 2, "forked at once"
body = b"<html><body><article><h1>T</h1><p>" + b"Civic space and human rights defenders. " * 20 + b"</p></article></body></html>"
got = analyser.analyse(body, "https://x.org/en/a", content_type="text/html", charset=None, config={}, fingerprint=True)
assert got == analyse(body, "https://x.org/en/a", "text/html", None, {}, True)
analyser.close()
assert all(not w.process.is_alive() for w in analyser._workers) or analyser._workers == []
print("ok")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
def test_a_single_threaded_process_forks_its_workers_before_the_first_page() -> None:
    """A first pass in a CLI process: the workers are forked at once (a fork of a process with
    one thread), and analyse exactly as the threads do."""
    done = subprocess.run(
        [sys.executable, "-c", _PRESTART],
        cwd=pathlib.Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_with_other_threads_about_the_workers_come_from_the_forkserver_later() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    analyser = Analyser(processes=2)
    try:
        analyser.prestart()  # never a fork of a process with other threads
        assert not analyser._up.is_set() and analyser._workers == []
    finally:
        stop.set()
        analyser.close()


def test_the_first_tasks_go_out_longest_chain_first(tmp_path: pathlib.Path) -> None:
    """Slots that will run the most requests one after another start first; within a host its
    discovery starts first; every task is handed out once."""
    submitted: list[tuple[str, str]] = []

    class Scheduler:
        def submit(self, host: str, task: Callable[[], None]) -> None:
            submitted.append((host, task()))  # type: ignore[func-returns-value]

    pass_ = crawl.ScrapePass.__new__(crawl.ScrapePass)
    pass_.client = PoliteClient(replace(POLICY, per_host_concurrency=2))
    pass_._discover_task = lambda job: f"discover {job.key}"  # type: ignore[method-assign]
    pass_._item_task = lambda job, item, state: item.url  # type: ignore[method-assign]

    def job(key: str, host: str, known: int) -> Any:
        items = [
            (Item(url=f"https://{host}/s/{i}"), crawl.UrlState(url=f"https://{host}/s/{i}"))
            for i in range(known)
        ]
        return SimpleNamespace(key=key, host=host, known=items, urls=[f"https://{host}/news"])

    jobs = [job("small", "a.org", 1), job("big", "b.org", 7), job("mid", "c.org", 6)]
    tasks, first = pass_._plan(jobs)  # type: ignore[arg-type]
    assert {host: queue_[0][0] for host, queue_ in tasks.items()} == {
        "a.org": "https://a.org/news",
        "b.org": "https://b.org/news",
        "c.org": "https://c.org/news",
    }  # the URL each host is prepared with: its first request's
    pass_._start(Scheduler(), tasks, first)  # type: ignore[arg-type]
    # b.org: 8 tasks, both slots 4 deep; c.org: 7 tasks, one slot 4 deep; a.org: 2 tasks
    assert submitted[:5] == [
        ("b.org", "discover big"),
        ("b.org", "https://b.org/s/0"),
        ("c.org", "discover mid"),
        ("c.org", "https://c.org/s/0"),
        ("a.org", "discover small"),
    ]
    assert sorted(submitted) == sorted(
        [(j.host, f"discover {j.key}") for j in jobs] + [(j.host, i.url) for j in jobs for i, _ in j.known]
    )


def test_threads_run_every_task_and_shut_down() -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def task(i: int) -> None:
        with lock:
            seen.append(i)

    for idle in (0, 3, 8):  # started as work comes, or some ahead of it (at most ``count``)
        seen.clear()
        pool = crawl.Threads(4, idle=idle)
        for i in range(50):
            pool.submit(task, i)
        pool.shutdown(wait=True)
        assert sorted(seen) == list(range(50))
        assert pool._running == 0 and pool._started <= 4

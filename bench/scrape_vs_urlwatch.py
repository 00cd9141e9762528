"""Our scrape pass against urlwatch 2.29, on the same pages, in the same run.

A local site (a separate process: ``http.server.ThreadingHTTPServer``, HTTP/1.1 keep-alive,
listen backlog 1024, no Nagle delay, ETag + Last-Modified, gzip when asked) serves N=200
statement pages of about 20 KB each, shaped like a UN/NGO newsroom: header with navigation and
language switcher, breadcrumb, the article (title, dateline, share bar, 15-20 paragraphs of
real statement prose remixed by sentence, topic tags), related-items aside, footer, JSON-LD
and scripts. The statements are listed, newest first, on a paged news listing (50 teasers a
page) that links to them, plus robots.txt.

What each side does, per run:

- **ours** (``pipeline.scrape.run_scrape``, what ``pledgewatch scrape`` runs): sync the source
  registry (one ``listing`` source: the listing URL and the URL pattern of a statement), read
  robots.txt (kept on disk between passes), read the listing (its 4 pages on the first pass,
  ``backfill_pages=4``; the first page after), fetch each statement with a conditional GET,
  extract title / date / language / main text with lxml, and store to SQLite: statement rows,
  a version when the normalised text changed, a paragraph delta for each new version, the
  near-duplicate fingerprint and cluster, per-URL fetch state, the source poll and the run
  record. ``recheck_hours=0``: every known statement is re-validated on every pass, as urlwatch
  re-checks every job (by default we re-check a known statement every 6 hours, and an
  unchanged pass fetches the listing alone).
- **urlwatch**: its 200 jobs are the statement URLs themselves (it has no discovery), plain
  ``url:`` jobs without filters (its cheapest honest setting: it keeps the raw page, no
  extraction), its own temp config, urls file, hooks file and minidb cache. It sends
  If-None-Match / If-Modified-Since from its cache, fetches with ``requests`` in its fixed
  pool of ``MAX_WORKERS = 10`` threads (``urlwatch/worker.py``; no option changes it), saves
  each new or changed page to its cache, and its default text reporter builds the unified
  diffs of changed pages (printed to /dev/null).

Each run of either side is a fresh Python process; the time measured is that of the pass
itself inside it (imports excluded on both sides, with SQLAlchemy's deferred mapper set-up on
ours; urlwatch: storage set-up, jobs, report, cache close; ours: ``run_scrape`` from registry
sync to the run record). pages/s = 200 / that time. Each round is run ``--repeat`` times (3),
the two sides alternately; the line reports each side's median run, and every time in
``*_s_all``. CPU seconds count our extraction worker processes too.

Rounds:

1. **new**: empty database / empty cache (a fresh one for every run).
2. **unchanged**: nothing changed (every statement answers 304).
3. **changed**: 20 statements changed since the run before (a paragraph rewritten and an update
   note appended). Ours stores 20 new versions with their deltas; urlwatch diffs 20 pages.

In rounds 1-3 the site is one host (127.0.0.1) that answers at once, so they measure the
work of a pass, not politeness: both sides get the same concurrency on that host, urlwatch's
fixed 10 (our per-host cap set to 10, pacing off). Our defaults (2 per host, 0.15 s between
starts per slot) would cap us at 13 pages/s on one host, by design.

4. **latency**: the same 200 statements (new URLs: a fresh database and cache) spread
   round-robin over 32 hosts (127.0.0.2-33, one server bound per address), each a newsroom
   with its own robots.txt and listing; every answer (robots.txt, listings, pages, 304s)
   delayed 200 ms. Ours runs with its politeness defaults (``per_host_concurrency=2``,
   ``min_delay_s=0.15``, jitter 0.05). Both sides first see the pages once (an untimed
   priming pass each), then the timed runs re-validate all 200: the steady state of a
   monitor (ours also re-reads the 32 listings). The bound is politeness itself: at most
   hosts x cap / latency pages per second (320/s). With 6.25 pages per host, the hosts with
   7 pages need 4 round trips one after the other, so no client within the cap can do these
   200 pages in less than 0.8 s (``layout_bound_pps`` 250/s, 0.78 of the 320/s bound); the
   line gives both efficiencies. In the same run, a bare asyncio HTTP/1.1 client (2 kept-alive
   connections per host, no robots.txt, pacing, parsing or database) fetches the same listings
   and pages: ``bare_client_pps`` is what this server and these cores allow any client within
   the cap, and ``ours_vs_bare_client`` how close the full pass comes to it. The server measures the largest number of requests one host
   was serving at once, from the request line read to the start of the answer's write (the
   200 ms wait inside), so it can only under-count the client's in-flight count, never
   over-count it.

Prints ONE JSON line:
{"pages": 200, "rounds": {"new": {"ours_pps", "urlwatch_pps", "ratio"}, "unchanged": {...},
"changed": {...}, "latency": {"ours_pps", "urlwatch_pps", "ratio", "politeness_bound_pps",
"efficiency", "max_concurrent_per_host", "per_host_cap"}}, ...details}
(ratio = ours / urlwatch; efficiency = ours / bound). Details per round: each side's median
and all seconds, CPU seconds (ours: ``ours_cpu_split_s``, the pass's process and its
extraction workers apart), where the time went (before the first request reached the
site, after the last answer), the requests the site served to each side by kind and status,
and what ours stored; in ``setup``, the load average before and after.
Targets: ours >= urlwatch on "new"; >= 2x on "unchanged"; latency >= 5x urlwatch and >= 0.75
of the bound, never above the per-host cap.

Usage: python bench/scrape_vs_urlwatch.py [--pages 200] [--hosts 32] [--latency-ms 200]
       [--changed 20] [--repeat 3] [--rounds new,unchanged,changed,latency]
       [--ours-set SETTING=VALUE ...]   (e.g. extract_processes=0, to compare)
Development: PW_BENCH_PYSPY=<dir> records every child run with py-spy (if installed; sampling
rate PW_BENCH_PYSPY_RATE, default 400 a second).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from email.utils import formatdate, parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PER_LISTING_PAGE = 50
THROUGHPUT_CAP = 10  # urlwatch's fixed pool (urlwatch/worker.py MAX_WORKERS)
STATEMENT_PATTERN = r"^https?://[^/]+/en/press-releases/\d{4}/\d{2}/[a-z0-9-]+$"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- pages ------------------------------------------------------------------------------------
def corpus_sentences() -> list[str]:
    """English sentences of real statements (the eval set and seeds, else the held-out set)."""
    texts: list[str] = []
    for path in (SHARED / "eval" / "dev.jsonl", ROOT / "tests" / "matching" / "heldout.jsonl"):
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                if (row.get("lang") or "en") == "en":
                    texts.append(row["text"])
    seeds = SHARED / "seeds"
    if seeds.is_dir():
        texts += [p.read_text(encoding="utf-8") for p in sorted(seeds.glob("0*.txt"))]
    sentences: list[str] = []
    for text in texts:
        for part in re.split(r"(?<=[.!?])\s+", text.replace("\n", " ")):
            part = part.strip()
            if 40 <= len(part) <= 400:
                sentences.append(part)
    if len(sentences) < 200:
        raise SystemExit("no corpus: neither ../shared/eval/dev.jsonl nor tests/matching/heldout.jsonl found")
    return sentences


NAV = [
    ("What we do", ["Human rights bodies", "Treaty bodies", "Special procedures", "Universal Periodic Review"]),
    ("Countries", ["Africa", "Americas", "Asia and the Pacific", "Europe and Central Asia", "Middle East"]),
    ("Topics", ["Civic space", "Climate change", "Gender equality", "Migration", "Digital space", "Poverty"]),
    ("News and events", ["Press releases", "Statements", "Speeches", "Media advisories", "Stories"]),
    ("Publications", ["Reports", "Fact sheets", "Training materials", "Databases"]),
    ("About us", ["High Commissioner", "Funding", "Careers", "Contact us"]),
]  # fmt: skip
FOOTER = [
    "Accessibility", "Copyright", "Privacy notice", "Terms of use", "Fraud alert", "FAQ", "Contact",
    "Careers", "Library", "Photo gallery", "Videos", "Podcasts", "Subscribe", "Donate", "Sitemap",
]  # fmt: skip
TOPICS = ["Civic space", "Human rights defenders", "Accountability", "Climate justice", "Migration", "Peace"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")


def _chrome_head(title: str, url: str, description: str, published: str) -> str:
    styles = "".join(
        f'<link rel="stylesheet" href="/themes/custom/newsroom/css/{n}.css?t{i}">'
        for i, n in enumerate(("base", "layout", "components", "print"))
    )
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": title,
            "datePublished": published,
            "publisher": {"@type": "Organization", "name": "Office of the High Commissioner"},
            "mainEntityOfPage": url,
        }
    )
    return (
        '<!DOCTYPE html><html lang="en" dir="ltr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">'
        f"<title>{escape(title)} | Office of the High Commissioner</title>"
        f'<link rel="canonical" href="{escape(url)}"><meta name="description" content="{escape(description)}">'
        f'<meta property="og:title" content="{escape(title)}"><meta property="og:type" content="article">'
        f'<meta property="og:url" content="{escape(url)}"><meta property="article:published_time" content="{published}">'
        f'{styles}<script type="application/ld+json">{ld}</script>'
        '<script src="/core/assets/vendor/once/once.min.js?v=1.0.1" defer></script></head>'
    )


def _chrome_header() -> str:
    langs = "".join(
        f'<li><a href="/{c}" hreflang="{c}" class="language-link">{n}</a></li>'
        for c, n in (("ar", "العربية"), ("zh", "中文"), ("en", "English"), ("fr", "Français"), ("ru", "Русский"), ("es", "Español"))
    )  # fmt: skip
    menus = "".join(
        f'<li class="menu-item menu-item--expanded"><a href="/en/{_slug(top)}">{escape(top)}</a><ul class="menu">'
        + "".join(
            f'<li class="menu-item"><a href="/en/{_slug(top)}/{_slug(s)}">{escape(s)}</a></li>' for s in subs
        )
        + "</ul></li>"
        for top, subs in NAV
    )
    return (
        '<body class="path-node page-node-type-press-release"><a href="#main-content" class="skip-link">'
        'Skip to main content</a><header role="banner" class="site-header"><div class="region-top">'
        f'<ul class="language-switcher">{langs}</ul><form class="search-block-form" action="/en/search">'
        '<input type="search" name="keys" placeholder="Search"><button type="submit">Search</button></form></div>'
        '<a href="/en" class="site-logo"><img src="/themes/custom/newsroom/logo.svg" alt="Home"></a>'
        f'<nav role="navigation" aria-label="Main navigation" class="main-nav"><ul class="menu">{menus}</ul></nav></header>'
    )


def _chrome_footer() -> str:
    links = "".join(f'<li><a href="/en/{_slug(x)}">{escape(x)}</a></li>' for x in FOOTER)
    social = "".join(
        f'<a href="https://{s}.example.org/unhumanrights" class="social-{s}">{s.title()}</a>'
        for s in ("twitter", "facebook", "instagram", "youtube", "linkedin")
    )
    return (
        f'<footer role="contentinfo" class="site-footer"><ul class="footer-menu">{links}</ul>'
        f'<div class="social">{social}</div><p>Palais des Nations, CH-1211 Geneva 10, Switzerland</p>'
        "<p>&copy; United Nations. All rights reserved.</p></footer>"
        "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
        "gtag('js',new Date());gtag('config','G-XXXXXXX',{anonymize_ip:true});</script></body></html>"
    )


class PageFactory:
    """Deterministic statement pages of about ``size`` bytes, and the listing that links them."""

    def __init__(self, seed: int = 7, size: int = 20_000) -> None:
        self.sentences = corpus_sentences()
        self.seed = seed
        self.size = size
        self.header = _chrome_header()
        self.footer = _chrome_footer()

    def paragraph(self, rng: random.Random) -> str:
        return " ".join(rng.choice(self.sentences) for _ in range(rng.randint(2, 4)))

    def statement(self, index: int) -> dict[str, Any]:
        rng = random.Random(self.seed * 100_003 + index)
        first = rng.choice(self.sentences)
        title = first.split(",")[0].split(".")[0][:90].strip()
        title = (
            f"{title} ({index + 1})" if len(title) > 20 else f"Statement {index + 1} on {rng.choice(TOPICS)}"
        )
        day = 1 + index % 28
        month = 11 - (index // 28) % 6
        return {
            "title": title,
            "slug": f"{_slug(title)}-{index + 1}",
            "date": f"2026-{month:02d}-{day:02d}T09:00:00Z",
            "paragraphs": [],
            "rng_state": rng.getstate(),
        }

    def body(self, meta: dict[str, Any], url: str, *, revision: int = 0) -> str:
        rng = random.Random()
        rng.setstate(meta["rng_state"])
        title, date = meta["title"], meta["date"]
        place = rng.choice(("GENEVA", "NEW YORK", "NAIROBI", "BANGKOK"))
        human_date = time.strftime("%d %B %Y", time.strptime(date[:10], "%Y-%m-%d"))
        paragraphs = [f"{place} ({human_date}) – {self.paragraph(rng)}"]
        head = _chrome_head(title, url, paragraphs[0][:150], date)
        tags = "".join(f'<a href="/en/topic/{_slug(t)}" rel="tag">{t}</a>' for t in rng.sample(TOPICS, 3))
        related = "".join(
            f'<div class="views-row"><a href="/en/press-releases/2026/10/related-{rng.randint(1, 999)}">'
            f"{escape(rng.choice(self.sentences)[:80])}</a><time>{human_date}</time></div>"
            for _ in range(5)
        )
        share = "".join(
            f'<a href="https://{s}.example.org/share?u={escape(url)}" class="share-{s}">Share on {s}</a>'
            for s in ("twitter", "facebook", "linkedin", "email")
        )
        skeleton = (
            len(head) + len(self.header) + len(self.footer) + len(tags) + len(related) + len(share) + 900
        )
        while skeleton + sum(len(p) + 8 for p in paragraphs) < self.size:
            paragraphs.append(self.paragraph(rng))
        if revision:
            edit = random.Random(zlib.crc32(f"{meta['slug']}/{revision}".encode()))
            paragraphs[len(paragraphs) // 2] = self.paragraph(edit)
            paragraphs.append(
                f"Update ({revision}): this statement was revised after publication. " + self.paragraph(edit)
            )
        text = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        return (
            head
            + self.header
            + '<div class="breadcrumb"><nav aria-label="Breadcrumb"><ol><li><a href="/en">Home</a></li>'
            '<li><a href="/en/news-and-events">News and events</a></li><li><a href="/en/press-releases">'
            "Press releases</a></li></ol></nav></div>"
            '<main id="main-content" role="main"><article class="node node--type-press-release">'
            f'<h1 class="page-title">{escape(title)}</h1><div class="node-meta"><time datetime="{date}">'
            f'{human_date}</time> <span class="content-type">Press releases</span></div>'
            f'<div class="share-bar">{share}</div>'
            f'<div class="field field--name-body field--type-text-long">{text}</div>'
            f'<div class="field--name-tags">Topics: {tags}</div></article>'
            f'<aside class="related-content"><h2>Related</h2>{related}</aside></main>' + self.footer
        )

    def listing(self, base: str, items: list[tuple[str, dict[str, Any]]], page: int, pages: int) -> str:
        rows = "".join(
            f'<div class="views-row"><article class="news-teaser"><h3><a href="{escape(path)}">'
            f'{escape(meta["title"])}</a></h3><time datetime="{meta["date"]}">{meta["date"][:10]}</time>'
            f'<p class="summary">{escape(self.sentences[i % len(self.sentences)][:160])}</p></article></div>'
            for i, (path, meta) in enumerate(items)
        )
        pager = (
            f'<nav class="pager" role="navigation"><a rel="next" href="/en/press-releases?page={page + 1}">'
            "Next page</a></nav>"
            if page + 1 < pages
            else ""
        )
        return (
            _chrome_head("Press releases", base + "/en/press-releases", "Latest press releases", "2026-11-20")
            + self.header
            + f'<main id="main-content" role="main"><h1>Press releases</h1>{rows}{pager}</main>'
            + self.footer
        )


# -- the server (its own process) ---------------------------------------------------------------
ROBOTS = b"User-agent: *\nDisallow: /private/\nDisallow: /en/search\n"


class _Doc:
    __slots__ = ("body", "content_type", "etag", "gz", "kind", "last_modified", "mtime")

    def __init__(self, body: bytes, kind: str, content_type: str = "text/html; charset=utf-8") -> None:
        self.body = body
        self.gz = gzip.compress(body, 6, mtime=0)
        self.etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        self.mtime = int(time.time())
        self.last_modified = formatdate(self.mtime, usegmt=True)
        self.content_type = content_type
        self.kind = kind


class _Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}
        self.requests: dict[str, int] = {}
        self.first_request = 0.0  # time.monotonic(): the same clock in every process
        self.last_answer = 0.0
        self.host_first: dict[str, float] = {}
        self.host_last: dict[str, float] = {}
        self.log: list[tuple[str, str, float, float]] = []  # host, path, request read, answer started

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "max_concurrent_per_host": max(self.max_in_flight.values(), default=0),
                "requests": dict(sorted(self.requests.items())),
                "first_request": self.first_request,
                "last_answer": self.last_answer,
                # the busiest host, from its first request read to its last answer
                "max_host_span_s": max(
                    (self.host_last[h] - self.host_first[h] for h in self.host_last), default=0.0
                ),
            }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a large listen backlog: no connection is refused under load
    allow_reuse_address = True


def _serve(conn: Any, hosts: dict[str, dict[str, _Doc]], ports: dict[str, int]) -> None:
    """Server process main: one ThreadingHTTPServer per address; commands over ``conn``."""
    stats = _Stats()
    state = {"delay": 0.0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # as production servers do: no Nagle delay between an answer's head and its body (on a
        # kept-alive connection, Nagle plus the client's delayed ACK costs 40 ms per answer)
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            host = self.server.server_address[0]  # type: ignore[index]
            started = time.monotonic()
            with stats.lock:
                stats.first_request = stats.first_request or time.monotonic()
                stats.host_first.setdefault(host, time.monotonic())
                n = stats.in_flight.get(host, 0) + 1
                stats.in_flight[host] = n
                if n > stats.max_in_flight.get(host, 0):
                    stats.max_in_flight[host] = n
            counted = True
            try:
                if state["delay"]:
                    time.sleep(state["delay"])
                doc = hosts[host].get(self.path)
                status = 200 if doc is not None else 404
                if doc is not None:
                    inm = self.headers.get("If-None-Match")
                    ims = self.headers.get("If-Modified-Since")
                    if inm is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
                        fresh = inm.strip() == doc.etag
                    elif ims:
                        try:
                            fresh = doc.mtime <= parsedate_to_datetime(ims).timestamp()
                        except (TypeError, ValueError):
                            fresh = False
                    else:
                        fresh = False
                    status = 304 if fresh else 200
                kind = doc.kind if doc is not None else "missing"
                with stats.lock:
                    key = f"{kind}_{status}"
                    stats.requests[key] = stats.requests.get(key, 0) + 1
                    stats.in_flight[host] -= 1  # before the answer's first byte: never over-counts
                    stats.last_answer = stats.host_last[host] = time.monotonic()
                    stats.log.append((host, self.path, started, stats.last_answer))
                counted = False
                if doc is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("ETag", doc.etag)
                self.send_header("Last-Modified", doc.last_modified)
                if status == 304:
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = doc.body
                if "gzip" in (self.headers.get("Accept-Encoding") or ""):
                    body = doc.gz
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Type", doc.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "max-age=0, must-revalidate")
                self.end_headers()
                self.wfile.write(body)
            finally:
                if counted:
                    with stats.lock:
                        stats.in_flight[host] -= 1

    servers = []
    for address, port in ports.items():
        server = _Server((address, port), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send({a: s.server_address[1] for a, s in zip(ports, servers, strict=True)})
    while True:
        command, arg = conn.recv()
        if command == "stop":
            break
        if command == "delay":
            state["delay"] = float(arg)
            conn.send(True)
        elif command == "reset":
            with stats.lock:
                stats.reset()
            conn.send(True)
        elif command == "stats":
            conn.send(stats.snapshot())
        elif command == "log":
            with stats.lock:
                conn.send(list(stats.log))
        elif command == "put":  # {host: {path: (body bytes, kind)}}
            for host, docs in arg.items():
                for path, (body, kind) in docs.items():
                    hosts[host][path] = _Doc(body, kind)
            conn.send(True)
    for server in servers:
        server.shutdown()
        server.server_close()


class Site:
    """The local newsroom(s): pages built here, served by a child process."""

    def __init__(self, factory: PageFactory, pages: int, hosts: list[str]) -> None:
        self.factory = factory
        self.hosts = hosts
        self.metas = [factory.statement(i) for i in range(pages)]
        self.placement = [hosts[i % len(hosts)] for i in range(pages)]  # round-robin
        self.revisions = [0] * pages
        self.docs: dict[str, dict[str, _Doc]] = {
            h: {"/robots.txt": _Doc(ROBOTS, "robots", "text/plain")} for h in hosts
        }
        self.port = 0
        self._conn: Any = None
        self._proc: multiprocessing.Process | None = None

    def path(self, i: int) -> str:
        return f"/en/press-releases/{self.metas[i]['date'][:4]}/{self.metas[i]['date'][5:7]}/{self.metas[i]['slug']}"

    def url(self, i: int) -> str:
        return f"http://{self.placement[i]}:{self.port}{self.path(i)}"

    def base(self, host: str) -> str:
        return f"http://{host}:{self.port}"

    def listing_url(self, host: str) -> str:
        return self.base(host) + "/en/press-releases"

    def start(self) -> None:
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        # bind every address on one free port (the port of the first bind)
        import socket

        probe = socket.socket()
        probe.bind((self.hosts[0], 0))
        port = probe.getsockname()[1]
        probe.close()
        self._proc = ctx.Process(
            target=_serve, args=(child, self.docs, dict.fromkeys(self.hosts, port)), daemon=True
        )
        self._proc.start()
        self._conn = parent
        self.port = parent.recv()[self.hosts[0]]
        self._publish(range(len(self.metas)), listings=True)

    def _publish(self, indices: Any, *, listings: bool = False) -> None:
        docs: dict[str, dict[str, tuple[bytes, str]]] = {h: {} for h in self.hosts}
        for i in indices:
            body = self.factory.body(self.metas[i], self.url(i), revision=self.revisions[i])
            docs[self.placement[i]][self.path(i)] = (body.encode("utf-8"), "page")
        if listings:
            for host in self.hosts:
                mine = [
                    (self.path(i), self.metas[i]) for i in range(len(self.metas)) if self.placement[i] == host
                ]
                mine.sort(key=lambda pm: pm[1]["date"], reverse=True)
                chunks = [mine[k : k + PER_LISTING_PAGE] for k in range(0, len(mine), PER_LISTING_PAGE)] or [
                    []
                ]
                for n, chunk in enumerate(chunks):
                    html = self.factory.listing(self.base(host), chunk, n, len(chunks))
                    path = "/en/press-releases" + (f"?page={n}" if n else "")
                    docs[host][path] = (html.encode("utf-8"), "listing")
        self._call("put", docs)

    @property
    def listing_pages(self) -> int:
        per_host = -(-len(self.metas) // len(self.hosts))
        return -(-per_host // PER_LISTING_PAGE)

    def change(self, indices: list[int]) -> None:
        for i in indices:
            self.revisions[i] += 1
        self._publish(indices)

    def _call(self, command: str, arg: Any = None) -> Any:
        self._conn.send((command, arg))
        return self._conn.recv()

    def delay(self, seconds: float) -> None:
        self._call("delay", seconds)

    def reset_stats(self) -> None:
        self._call("reset")

    def stats(self) -> dict[str, Any]:
        return self._call("stats")

    def log(self) -> list[tuple[str, str, float, float]]:
        """Every request since the last reset: host, path, when read, when answered."""
        return self._call("log")

    def stop(self) -> None:
        if self._proc is not None:
            self._conn.send(("stop", None))
            self._proc.join(5)
            if self._proc.is_alive():
                self._proc.terminate()


# -- the two sides ------------------------------------------------------------------------------
def _child(args: list[str]) -> dict[str, Any]:
    """Run this script in a fresh interpreter in one of its child roles; parse its JSON line."""
    command = [sys.executable, str(Path(__file__).resolve()), *args]
    profile_dir = os.environ.get("PW_BENCH_PYSPY")  # development: profile each child with py-spy
    if profile_dir:
        _child.runs = getattr(_child, "runs", 0) + 1  # type: ignore[attr-defined]
        out = Path(profile_dir) / f"{_child.runs:02d}-{args[0].strip('-')}.txt"  # type: ignore[attr-defined]
        rate = os.environ.get("PW_BENCH_PYSPY_RATE", "400")
        command = ["py-spy", "record", "-r", rate, "-s", "--format", "raw", "-o", str(out), "--", *command]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child {args[0]} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1])


class Ours:
    def __init__(self, workdir: Path, site: Site, settings: dict[str, Any]) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.db = self.dir / "pledgewatch.db"
        entries = [
            {
                "key": f"bench-{n:02d}",
                "publisher": f"Bench newsroom {n:02d}",
                "kind": "listing",
                "url": site.listing_url(host),
                "languages": ["en"],
                "pattern": STATEMENT_PATTERN,
            }
            for n, host in enumerate(site.hosts)
        ]
        import yaml

        (self.dir / "sources.yaml").write_text(yaml.safe_dump({"sources": entries}, sort_keys=False))
        self.settings = {
            "data_dir": str(self.dir),
            "database_url": f"sqlite:///{self.db}",
            "sources_file": str(self.dir / "sources.yaml"),
            "builtin_sources": False,
            "allow_private_addresses": True,  # loopback
            "recheck_hours": 0.0,  # re-validate every known statement every pass, as urlwatch does
            "backfill_pages": max(1, site.listing_pages),
            **settings,
        }
        sys.path.insert(0, str(ROOT))
        from models import upgrade_database

        upgrade_database(self.settings["database_url"])

    def run(self) -> dict[str, Any]:
        return _child(["--child-ours", json.dumps(self.settings)])


def child_ours(raw: str) -> None:
    from typing import get_type_hints

    sys.path.insert(0, str(ROOT))
    from sqlalchemy.orm import configure_mappers

    from pipeline.context import Context
    from pipeline.scrape import run_scrape
    from pipeline.settings import Settings, _coerce

    values = json.loads(raw)
    for key in ("data_dir", "sources_file"):
        values[key] = Path(values[key])
    hints = get_type_hints(Settings)
    for key, value in values.items():
        if isinstance(value, str) and hints.get(key) in (int, float, bool):
            values[key] = _coerce(key, value, hints[key])
    ctx = Context(settings=Settings(**values), trigger="bench")
    ctx.engine.connect().close()
    configure_mappers()  # SQLAlchemy's deferred part of importing the models
    cpu0, t0, started = time.process_time(), time.perf_counter(), time.monotonic()
    report = run_scrape(ctx, force=True)
    seconds = time.perf_counter() - t0
    cpu, ended = time.process_time() - cpu0, time.monotonic()
    ctx.close()
    errors = [f"{r.key}: {r.error}" for r in report.failed_sources] + [
        e for r in report.sources for e in r.item_errors
    ]
    # CPU of this process plus that of its extraction worker processes, if it started any
    workers_cpu = getattr(report, "extraction_cpu_s", 0.0)
    out = {
        "seconds": seconds,
        "cpu_s": cpu + workers_cpu,
        "cpu_split_s": [cpu, workers_cpu],  # the pass's process, its extraction workers
        "started": started,
        "ended": ended,
    }
    print(json.dumps({**out, "counts": report.counts(), "errors": errors[:5]}))


class Urlwatch:
    def __init__(self, workdir: Path, urls: list[str]) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "urls.yaml").write_text(
            "\n---\n".join(f"name: page {i}\nurl: {u}\n" for i, u in enumerate(urls))
        )
        (self.dir / "hooks.py").write_text("")
        self.config = self.dir / "urlwatch.yaml"

    def run(self) -> dict[str, Any]:
        return _child(["--child-urlwatch", str(self.dir)])


def child_urlwatch(workdir: str) -> None:
    import contextlib

    from urlwatch import __version__
    from urlwatch.command import UrlwatchCommand
    from urlwatch.config import CommandConfig
    from urlwatch.main import Urlwatch as UrlwatchMain
    from urlwatch.storage import CacheMiniDBStorage, UrlsYaml, YamlConfigStorage

    d = Path(workdir)
    config, urls, hooks, cache = (str(d / n) for n in ("urlwatch.yaml", "urls.yaml", "hooks.py", "cache.db"))
    if not os.path.exists(config):
        YamlConfigStorage.write_default_config(config)
        storage = YamlConfigStorage(config)
        storage.config["report"]["stdout"]["color"] = False
        storage.save()
    argv = ["--urls", urls, "--config", config, "--hooks", hooks, "--cache", cache]
    prefix = os.path.dirname(os.path.dirname(sys.executable))
    command_config = CommandConfig(argv, "urlwatch", str(d), prefix, config, urls, hooks, cache, False)
    sink = open(os.devnull, "w")  # noqa: SIM115  # the report goes nowhere; building it is work urlwatch does
    cpu0, t0, started = time.process_time(), time.perf_counter(), time.monotonic()
    with contextlib.redirect_stdout(sink):
        watcher = UrlwatchMain(
            command_config, YamlConfigStorage(config), CacheMiniDBStorage(cache), UrlsYaml(urls)
        )
        UrlwatchCommand(watcher).run()
    seconds = time.perf_counter() - t0
    cpu, ended = time.process_time() - cpu0, time.monotonic()
    out = {"seconds": seconds, "cpu_s": cpu, "started": started, "ended": ended}
    print(json.dumps({**out, "version": __version__, "jobs": len(watcher.jobs)}))


def bare_client_seconds(site: Site, cap: int) -> float:
    """The wire's own floor on this machine: a bare asyncio HTTP/1.1 client, ``cap`` kept-alive
    connections per host, each fetching its share of the host's listing and pages one after the
    other (no robots.txt, no pacing, no database, no parsing). It measures what the local server
    and two cores allow any client within the cap, which the politeness bound does not count."""
    import asyncio

    async def connection(host: str, paths: list[str]) -> None:
        reader, writer = await asyncio.open_connection(host, site.port)
        try:
            for path in paths:
                writer.write(
                    f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n\r\n".encode()
                )
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
        finally:
            writer.close()

    async def everything() -> float:
        per_host: dict[str, list[str]] = {h: ["/en/press-releases"] for h in site.hosts}
        for i in range(len(site.metas)):
            per_host[site.placement[i]].append(site.path(i))
        started = time.perf_counter()
        await asyncio.gather(
            *(connection(h, paths[k::cap]) for h, paths in per_host.items() for k in range(cap))
        )
        return time.perf_counter() - started

    return asyncio.run(everything())


# -- rounds ---------------------------------------------------------------------------------------
def _side(site: Site, runner: Any) -> dict[str, Any]:
    site.reset_stats()
    out = runner.run()
    out["server"] = server = site.stats()
    # where the time went: before the first request reached the site, after the last answer
    out["lead_s"] = max(0.0, server["first_request"] - out["started"]) if server["first_request"] else None
    out["tail_s"] = max(0.0, out["ended"] - server["last_answer"]) if server["last_answer"] else None
    return out


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def _round(
    name: str, pages: int, ours_runs: list[dict[str, Any]], theirs_runs: list[dict[str, Any]]
) -> dict[str, Any]:
    """One round's line: each side's median run (of ``--repeat``, run alternately) and all times."""
    ours, theirs = _median_run(ours_runs), _median_run(theirs_runs)
    ours_pps = pages / ours["seconds"]
    theirs_pps = pages / theirs["seconds"]
    progress(
        f"  {name}: ours {ours['seconds']:.2f}s ({ours_pps:.0f}/s, cpu {ours['cpu_s']:.2f}s)  "
        f"urlwatch {theirs['seconds']:.2f}s ({theirs_pps:.0f}/s, cpu {theirs['cpu_s']:.2f}s)  "
        f"x{ours_pps / theirs_pps:.2f}  (all: ours {[round(r['seconds'], 2) for r in ours_runs]}, "
        f"urlwatch {[round(r['seconds'], 2) for r in theirs_runs]})"
    )
    errors = [e for r in ours_runs for e in r.get("errors") or []]
    if errors:
        progress(f"  ours reported errors: {errors[:5]}")
    return {
        "ours_pps": round(ours_pps, 1),
        "urlwatch_pps": round(theirs_pps, 1),
        "ratio": round(ours_pps / theirs_pps, 2),
        "ours_s": round(ours["seconds"], 3),
        "urlwatch_s": round(theirs["seconds"], 3),
        "ours_s_all": [round(r["seconds"], 3) for r in ours_runs],
        "urlwatch_s_all": [round(r["seconds"], 3) for r in theirs_runs],
        "ours_cpu_s": round(ours["cpu_s"], 3),  # the pass's process and its extraction workers
        "ours_cpu_split_s": [round(x, 3) for x in ours.get("cpu_split_s", [ours["cpu_s"], 0.0])],
        "urlwatch_cpu_s": round(theirs["cpu_s"], 3),
        "ours_lead_tail_s": [round(ours["lead_s"] or 0, 3), round(ours["tail_s"] or 0, 3)],
        "urlwatch_lead_tail_s": [round(theirs["lead_s"] or 0, 3), round(theirs["tail_s"] or 0, 3)],
        "ours_max_host_span_s": round(ours["server"]["max_host_span_s"], 3),
        "ours_requests": ours["server"]["requests"],
        "urlwatch_requests": theirs["server"]["requests"],
        "ours_counts": {
            k: v
            for k, v in ours["counts"].items()
            if k in {"fetched", "new_statements", "new_versions", "failed_items", "sources_failed"}
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--hosts", type=int, default=32, help="hosts of the latency round (127.0.0.2...)")
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--changed", type=int, default=20)
    parser.add_argument("--rounds", default="new,unchanged,changed,latency")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs per round and side (the median counts)"
    )
    parser.add_argument(
        "--ours-set",
        action="append",
        default=[],
        metavar="SETTING=VALUE",
        help="override one of our settings in every round (e.g. extract_processes=0), for experiments",
    )
    parser.add_argument("--child-ours", help=argparse.SUPPRESS)
    parser.add_argument("--child-urlwatch", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_ours:
        return child_ours(args.child_ours)
    if args.child_urlwatch:
        return child_urlwatch(args.child_urlwatch)

    wanted = [r.strip() for r in args.rounds.split(",") if r.strip()]
    overrides = dict(item.split("=", 1) for item in args.ours_set)
    factory = PageFactory()
    tmp = Path(tempfile.mkdtemp(prefix="pw-bench-scrape-"))
    result: dict[str, Any] = {"pages": args.pages, "rounds": {}}
    load_before = os.getloadavg()
    sites: list[Site] = []
    try:
        sys.path.insert(0, str(ROOT))
        from pipeline.settings import Settings

        defaults = Settings()
        if {"new", "unchanged", "changed"} & set(wanted):
            site = Site(factory, args.pages, ["127.0.0.1"])
            sites.append(site)
            site.start()
            progress(f"site: {args.pages} pages on {site.base('127.0.0.1')}, {args.repeat} runs a round")
            settings = {
                "per_host_concurrency": THROUGHPUT_CAP,
                "min_delay_s": 0.0,
                "delay_jitter_s": 0.0,
                **overrides,
            }
            urls = [site.url(i) for i in range(args.pages)]
            # new: every run from an empty database / cache; the later rounds go on from the last
            runs: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
            for k in range(args.repeat if "new" in wanted else 1):
                ours = Ours(tmp / f"ours-{k}", site, settings)
                theirs = Urlwatch(tmp / f"urlwatch-{k}", urls)
                runs.setdefault("new", ([], []))
                runs["new"][0].append(_side(site, ours))
                runs["new"][1].append(_side(site, theirs))
            for name in ("unchanged", "changed"):
                if name not in wanted:
                    continue
                for _ in range(args.repeat):
                    if name == "changed":  # each run finds another 20 pages changed
                        step = max(1, args.pages // max(1, args.changed))
                        site.change(list(range(0, args.pages, step))[: args.changed])
                    runs.setdefault(name, ([], []))
                    runs[name][0].append(_side(site, ours))
                    runs[name][1].append(_side(site, theirs))
            for name in ("new", "unchanged", "changed"):
                if name in wanted:
                    result["rounds"][name] = _round(name, args.pages, *runs[name])
        if "latency" in wanted:
            hosts = [f"127.0.0.{2 + i}" for i in range(args.hosts)]
            site = Site(factory, args.pages, hosts)
            sites.append(site)
            site.start()
            site.delay(args.latency_ms / 1000)
            progress(
                f"latency site: {args.pages} pages over {len(hosts)} hosts, {args.latency_ms:.0f} ms per answer"
            )
            ours = Ours(tmp / "ours-latency", site, overrides)
            theirs = Urlwatch(tmp / "urlwatch-latency", [site.url(i) for i in range(args.pages)])
            prime_ours, prime_theirs = _side(site, ours), _side(site, theirs)
            progress(f"  priming: ours {prime_ours['seconds']:.2f}s, urlwatch {prime_theirs['seconds']:.2f}s")
            mine: list[dict[str, Any]] = []
            other: list[dict[str, Any]] = []
            for _ in range(args.repeat):
                mine.append(_side(site, ours))
                other.append(_side(site, theirs))
            row = _round("latency", args.pages, mine, other)
            cap = defaults.per_host_concurrency
            bare = sorted(bare_client_seconds(site, cap) for _ in range(args.repeat))[args.repeat // 2]
            progress(f"  bare asyncio client within the cap: {bare:.2f}s ({args.pages / bare:.0f}/s)")
            latency = args.latency_ms / 1000
            bound = len(hosts) * cap / latency
            # the best any client within the cap can do for this layout: the host with the most
            # pages needs ceil(pages / cap) round trips one after the other
            per_host = -(-args.pages // len(hosts))
            floor_s = -(-per_host // cap) * latency
            median = _median_run(mine)
            requests = sum(median["server"]["requests"].values())
            row.update(
                politeness_bound_pps=round(bound, 1),
                efficiency=round(row["ours_pps"] / bound, 3),
                max_concurrent_per_host=max(
                    [r["server"]["max_concurrent_per_host"] for r in [prime_ours, *mine]]
                ),
                per_host_cap=cap,
                layout_floor_s=round(floor_s, 3),
                layout_bound_pps=round(args.pages / floor_s, 1),
                layout_efficiency=round(row["ours_pps"] / (args.pages / floor_s), 3),
                ours_requests_per_s=round(requests / median["seconds"], 1),  # pages + listings
                urlwatch_max_concurrent_per_host=max(r["server"]["max_concurrent_per_host"] for r in other),
                bare_client_pps=round(args.pages / bare, 1),
                bare_client_efficiency=round(args.pages / bare / bound, 3),
                ours_vs_bare_client=round(row["ours_pps"] / (args.pages / bare), 3),
                priming_ours_s=round(prime_ours["seconds"], 3),
                priming_urlwatch_s=round(prime_theirs["seconds"], 3),
            )
            result["rounds"]["latency"] = row
    finally:
        for site in sites:
            site.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    result["setup"] = {
        "ours": "discover (listing) + conditional GET + extract + store versions/deltas/clusters to SQLite",
        "urlwatch": "conditional GET + diff + minidb cache, plain url jobs, its fixed 10-thread pool",
        "throughput_rounds_per_host_cap": THROUGHPUT_CAP,
        "latency_round": "politeness defaults, after one untimed priming pass per side",
        "repeat": args.repeat,
        "loadavg_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Versions, deltas, canonical URLs, clusters, conditional GET and backfill, through real passes.

Each test publishes pages on a local site, runs the real scrape pass, changes the site, runs
it again, and reads back what was stored.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from models import Delta, FetchState, Statement, Version, session_scope, utcnow
from scrapers import crawl
from scrapers.registry import load_registry
from scrapers.store import paragraph_delta
from tests.scrapers import pages
from tests.scrapers import passes as P
from tests.support.site import LocalSite

DATE = "Wed, 18 Nov 2026 10:00:00 GMT"
SHIPPED_UN_NEWS_PATTERN = next(
    s.config["pattern"] for s in load_registry() if s.key == "un-news-human-rights-en"
)
FIRST = [
    "The High Commissioner warned that restrictions on civic space are spreading in every region.",
    "Human rights defenders who cooperate with the United Nations face reprisals, she said.",
    "She urged States to repeal laws that criminalise peaceful protest.",
]


def _shipped(key: str) -> dict[str, Any]:
    """The extraction settings of a built-in source, as scrapers/sources.yaml ships them."""
    spec = {s.key: s for s in load_registry()}[key]
    keys = ("content_selector", "title_selector", "date_selector", "drop_selector", "link_selector")
    return {k: spec.config[k] for k in keys if k in spec.config}


def _feed(site: LocalSite, key: str, links: list[str], **extra: Any) -> dict[str, Any]:
    site.add(
        f"/{key}.xml",
        pages.rss([(link, f"Item {i}", DATE) for i, link in enumerate(links)]),
        content_type="application/rss+xml",
    )
    return {
        "key": key,
        "publisher": f"Publisher {key}",
        "kind": "feed",
        "url": site.url(f"/{key}.xml"),
        "languages": ["en"],
        "pattern": r"/(news|sg|en)/",
        **extra,
    }


class Spy:
    """Counts calls to a real function and passes them through (nothing is faked)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.calls: list[str] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(str(args[1] if len(args) > 1 else kwargs.get("url", args[0])))
        return self.fn(*args, **kwargs)


@pytest.fixture
def parsing(monkeypatch: pytest.MonkeyPatch) -> dict[str, Spy]:
    """Spies on the pass's extraction and discovery parsing: what was parsed, not just fetched."""
    extract_spy = Spy(crawl.extract)
    monkeypatch.setattr(crawl, "extract", extract_spy)
    parse_calls: list[str] = []
    real_discoverer_for = crawl.discoverer_for

    def discoverer_for(kind: str, config: dict[str, Any]) -> Any:
        discoverer = real_discoverer_for(kind, config)
        real_parse = discoverer.parse

        def parse(body: bytes, base_url: str) -> Any:
            parse_calls.append(base_url)
            return real_parse(body, base_url)

        discoverer.parse = parse  # type: ignore[method-assign]
        return discoverer

    monkeypatch.setattr(crawl, "discoverer_for", discoverer_for)
    discover_spy = Spy(lambda *a: None)
    discover_spy.calls = parse_calls
    return {"extract": extract_spy, "discover": discover_spy}


# -- versions and deltas ----------------------------------------------------------------------
def test_changed_page_gets_a_version_and_a_paragraph_delta(
    make_ctx: P.MakeCtx, fsite: LocalSite, tmp_path: pathlib.Path
) -> None:
    fsite.add("/news/civic", pages.un_news_story("Civic space", FIRST))
    ctx = P.context(
        make_ctx,
        tmp_path,
        [_feed(fsite, "news", [fsite.url("/news/civic")], **_shipped("un-news-human-rights-en"))],
    )
    assert P.scrape(ctx).new_statements == 1

    changed = [FIRST[0], "She also called for the release of all detained defenders.", FIRST[1]]
    fsite.add("/news/civic", pages.un_news_story("Civic space", changed))
    P.make_all_due(ctx)
    report = P.scrape(ctx)
    assert report.new_versions == 1 and report.new_statements == 0
    (row,) = P.statements(ctx)
    assert row.texts[1] == "\n\n".join(changed)
    assert P.deltas(ctx) == [(["She also called for the release of all detained defenders."], [FIRST[2]])]
    with session_scope(ctx.factory) as session:
        delta = session.scalars(select(Delta)).one()
        v1, v2 = session.scalars(select(Version).order_by(Version.seq)).all()
        assert (delta.version_id, delta.previous_version_id) == (v2.id, v1.id)
        assert delta.added_chars == len(changed[1]) and delta.removed_chars == len(FIRST[2])
        assert (v1.seq, v2.seq) == (1, 2)


def test_unchanged_and_whitespace_only_changes_store_nothing(
    make_ctx: P.MakeCtx, fsite: LocalSite, tmp_path: pathlib.Path, parsing: dict[str, Spy]
) -> None:
    fsite.add("/news/same", pages.un_news_story("Same", FIRST), etag=False)  # a 200 every time
    fsite.add("/news/spaces", pages.un_news_story("Spaces", FIRST))
    ctx = P.context(
        make_ctx,
        tmp_path,
        [
            _feed(
                fsite,
                "news",
                [fsite.url("/news/same"), fsite.url("/news/spaces")],
                **_shipped("un-news-human-rights-en"),
            )
        ],
    )
    P.scrape(ctx)
    assert len(parsing["extract"].calls) == 2

    # the same bytes again (no ETag, so a full 200): recognised by the body hash, not parsed
    # whitespace and markup noise only: parsed, the normalised text is the same, no version
    noisy = pages.un_news_story("Spaces", ["  " + p.replace(" ", "  \n ") + "\u00a0" for p in FIRST])
    noisy = noisy.replace("<p>", "<p>\n\t").replace("</div>", "<p> </p></div>", 1)
    fsite.add("/news/spaces", noisy)
    P.make_all_due(ctx)
    report = P.scrape(ctx)
    assert report.new_versions == 0
    assert parsing["extract"].calls[2:] == [fsite.url("/news/spaces")]
    assert P.count(ctx, Version) == 2 and P.count(ctx, Delta) == 0
    (result,) = report.sources
    assert result.unchanged == 2 and result.fetched == 2


# -- canonical URLs -----------------------------------------------------------------------------
def test_url_variants_are_one_statement(
    make_ctx: P.MakeCtx, fsite: LocalSite, tmp_path: pathlib.Path
) -> None:
    """utm_ parameters, a fragment, a trailing slash, http vs https (the page's rel=canonical
    says https): two sources, four spellings, one statement with one version."""
    story = pages.un_news_story("One statement", FIRST).replace(
        'href="https://news.un.org/en/story/2026/11/1160001"',
        f'href="{fsite.url("/news/one")}"'.replace("http:", "https:"),
    )
    fsite.add("/news/one", story)
    fsite.add("/news/one/", story)
    feed = _feed(
        fsite,
        "feed-a",
        [fsite.url("/news/one?utm_source=rss&utm_medium=feed"), fsite.url("/news/one#comments")],
    )
    listing_links = [(fsite.url("/news/one/"), "One statement", "2026-11-18T10:00:00Z")]
    fsite.add("/listing", pages.drupal_listing(listing_links))
    listing = {
        "key": "listing-b",
        "publisher": "Publisher B",
        "kind": "listing",
        "url": fsite.url("/listing"),
        "languages": ["en"],
        "pattern": r"/news/",
    }
    ctx = P.context(make_ctx, tmp_path, [feed, listing])
    report = P.scrape(ctx)
    assert report.counts()["sources_failed"] == 0
    (row,) = P.statements(ctx)
    assert len(row.texts) == 1
    assert row.url == fsite.url("/news/one").replace("http:", "https:"), "known by its canonical URL"
    assert "utm_" not in row.url and "#" not in row.url
    assert P.scrape(ctx).new_statements == 0 and P.count(ctx, Statement) == 1


def test_feed_view_redirect_and_direct_link_are_one_statement(
    make_ctx: P.MakeCtx, fsite: LocalSite, tmp_path: pathlib.Path
) -> None:
    """UN News feed items link through /feed/view/, which redirects to the story; a listing
    links the story itself. Both reach one statement, known by the story's own URL."""
    story_path = "/en/story/2026/11/1160001"
    page = pages.un_news_story("Civic space", FIRST).replace(
        "https://news.un.org/en/story/2026/11/1160001", fsite.url(story_path)
    )
    fsite.add(story_path, page)
    fsite.add("/feed/view" + story_path, status=301, headers={"Location": story_path})
    feed = _feed(
        fsite, "news-feed", [fsite.url("/feed/view" + story_path)], **_shipped("un-news-human-rights-en")
    )
    feed["pattern"] = SHIPPED_UN_NEWS_PATTERN.replace(r"news\.un\.org", r"127\.0\.0\.1:\d+")
    fsite.add("/en/news", pages.drupal_listing([(story_path, "Civic space", "2026-11-18T10:00:00Z")]))
    listing = {
        "key": "news-listing",
        "publisher": "UN News",
        "kind": "listing",
        "url": fsite.url("/en/news"),
        "languages": ["en"],
        "pattern": feed["pattern"],
        **_shipped("un-news-human-rights-en"),  # one page, read alike by both (the registry insists)
    }
    ctx = P.context(make_ctx, tmp_path, [feed, listing])
    report = P.scrape(ctx)
    assert report.counts()["sources_failed"] == 0
    (row,) = P.statements(ctx)
    assert row.url == fsite.url(story_path) and len(row.texts) == 1
    P.make_all_due(ctx)
    assert P.scrape(ctx).new_versions == 0 and P.count(ctx, Statement) == 1


def test_chrome_only_change_is_not_a_new_version(
    make_ctx: P.MakeCtx, fsite: LocalSite, tmp_path: pathlib.Path
) -> None:
    """un.org/sg has no selectors: a new menu entry, share bar or footer must not version the text."""
    html = pages.sg_statement("Message", FIRST)
    fsite.add("/sg/message", html)
    ctx = P.context(make_ctx, tmp_path, [_feed(fsite, "sg", [fsite.url("/sg/message")])])
    P.scrape(ctx)
    redesigned = (
        html.replace('<li><a href="/en/media">Media</a></li>', '<li><a href="/en/events">Events</a></li>')
        .replace("Fraud alert.", "Fraud alert. Accessibility.")
        .replace(">Email</a>", '>Email</a> <a href="https://www.linkedin.com/share">LinkedIn</a>')
    )
    assert redesigned != html
    fsite.add("/sg/message", redesigned)
    P.make_all_due(ctx)
    report = P.scrape(ctx)
    assert report.new_versions == 0 and P.count(ctx, Version) == 1
    (result,) = report.sources
    assert result.fetched == 1 and result.unchanged == 1


# -- clusters -----------------------------------------------------------------------------------
def test_the_same_message_on_two_sites_is_one_cluster(
    make_ctx: P.MakeCtx, fsite: LocalSite, fsite2: LocalSite, tmp_path: pathlib.Path
) -> None:
    """The SG's message on un.org/sg and as a press.un.org release (another chrome, an
    introductory line, the document symbol) are two statements in one cluster; an unrelated
    statement found in the same pass is not in it."""
    fsite.add("/sg/message", pages.sg_statement("Secretary-General's message on reprisals", pages.SG_MESSAGE))
    fsite.add(
        "/sg/other",
        pages.sg_statement(
            "Secretary-General's remarks to the Security Council on Haiti",
            [
                "The situation in Haiti remains dire, with armed gangs controlling much of the capital and "
                "displacing hundreds of thousands of people.",
                "I urge the Council to support the multinational security mission with predictable funding "
                "and to strengthen the arms embargo.",
            ],
        ),
    )
    sg = _feed(fsite, "sg", [fsite.url("/sg/message"), fsite.url("/sg/other")])
    ctx = P.context(make_ctx, tmp_path, [sg])
    P.scrape(ctx)

    copy = [
        "The following statement was issued today by the Spokesperson for Secretary-General António Guterres:",
        *pages.SG_MESSAGE,
    ]
    fsite2.add(
        "/en/2026/sgsm22345.doc.htm", pages.press_release("Secretary-General condemns reprisals", copy)
    )
    press = _feed(
        fsite2, "press", [fsite2.url("/en/2026/sgsm22345.doc.htm")], **_shipped("un-press-releases")
    )
    P.write_registry(tmp_path / "sources.yaml", [sg, press])
    assert P.scrape(ctx).new_statements == 1

    rows = {row.url.rsplit("/", 1)[-1]: row for row in P.statements(ctx)}
    assert set(rows) == {"message", "other", "sgsm22345.doc.htm"}
    assert rows["sgsm22345.doc.htm"].source_key == "press"
    assert rows["sgsm22345.doc.htm"].texts[0].startswith("The following statement was issued today")
    assert "SG/SM/22345" not in rows["sgsm22345.doc.htm"].texts[0], "the symbol is chrome"
    assert rows["message"].cluster_id == rows["message"].id
    assert rows["sgsm22345.doc.htm"].cluster_id == rows["message"].cluster_id
    assert rows["other"].cluster_id == rows["other"].id != rows["message"].cluster_id


def test_copies_stored_in_the_same_pass_find_each_other(
    make_ctx: P.MakeCtx, fsite: LocalSite, fsite2: LocalSite, tmp_path: pathlib.Path
) -> None:
    fsite.add("/sg/message", pages.sg_statement("Message", pages.SG_MESSAGE))
    fsite2.add("/en/2026/sgsm1.doc.htm", pages.press_release("Message", pages.SG_MESSAGE))
    ctx = P.context(
        make_ctx,
        tmp_path,
        [
            _feed(fsite, "sg", [fsite.url("/sg/message")]),
            _feed(fsite2, "press", [fsite2.url("/en/2026/sgsm1.doc.htm")], **_shipped("un-press-releases")),
        ],
    )
    assert P.scrape(ctx).new_statements == 2
    a, b = P.statements(ctx)
    assert a.cluster_id == b.cluster_id == min(a.id, b.id)


# -- conditional GET ----------------------------------------------------------------------------
def _last_modified_route(site: LocalSite, path: str, body: str, stamp: str) -> list[str]:
    """A page that knows Last-Modified only (no ETag) and answers If-Modified-Since with 304."""
    seen: list[str] = []
    data = body.encode("utf-8")

    def handle(req: Any) -> None:
        since = req.headers.get("If-Modified-Since")
        seen.append(since or "")
        if since == stamp:
            req.send_response(304)
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        req.send_response(200)
        req.send_header("Content-Type", "text/html; charset=utf-8")
        req.send_header("Last-Modified", stamp)
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)

    site.add(path, handler=handle)
    return seen


def test_conditional_get_validators_are_stored_and_a_304_is_not_parsed(
    make_ctx: P.MakeCtx, fsite: LocalSite, tmp_path: pathlib.Path, parsing: dict[str, Spy]
) -> None:
    fsite.add("/news/etag", pages.un_news_story("ETag page", FIRST))
    stamp = "Wed, 18 Nov 2026 09:00:00 GMT"
    since = _last_modified_route(
        fsite, "/news/lastmod", pages.un_news_story("Last-Modified page", FIRST[:2]), stamp
    )
    ctx = P.context(
        make_ctx, tmp_path, [_feed(fsite, "news", [fsite.url("/news/etag"), fsite.url("/news/lastmod")])]
    )
    P.scrape(ctx)
    etag_state = P.fetch_state(ctx, fsite.url("/news/etag"))
    lastmod_state = P.fetch_state(ctx, fsite.url("/news/lastmod"))
    feed_state = P.fetch_state(ctx, fsite.url("/news.xml"))
    assert etag_state is not None and etag_state.etag and etag_state.etag.startswith('"')
    assert lastmod_state is not None and lastmod_state.last_modified == stamp and lastmod_state.etag is None
    assert feed_state is not None and feed_state.etag
    parsed_before = (len(parsing["extract"].calls), len(parsing["discover"].calls))
    assert parsed_before == (2, 1)

    P.make_all_due(ctx)
    report = P.scrape(ctx)
    (result,) = report.sources
    assert result.not_modified, "the feed answered 304"
    assert result.unchanged == 2 and report.new_versions == 0
    assert (len(parsing["extract"].calls), len(parsing["discover"].calls)) == parsed_before, (
        "304s are not parsed"
    )
    assert fsite.hits_for("/news/etag")[-1].headers.get("if-none-match") == etag_state.etag
    assert since[-1] == stamp
    after = P.fetch_state(ctx, fsite.url("/news/etag"))
    assert after is not None and after.etag == etag_state.etag and after.last_status == 304
    assert P.fetch_state(ctx, fsite.url("/news/lastmod")).last_modified == stamp  # type: ignore[union-attr]


# -- backfill -----------------------------------------------------------------------------------
def _listing_pages(
    site: LocalSite, pages_count: int, *, extra_first: list[tuple[str, str, str]] | None = None
) -> None:
    for page in range(pages_count):
        items = [
            (
                f"/en/press-releases/2026/11/item-{page}-{i}",
                f"Release {page}.{i}",
                f"2026-11-{18 - page:02d}T09:00:00Z",
            )
            for i in range(2)
        ]
        if page == 0 and extra_first:
            items = extra_first + items
        path = "/en/latest" if page == 0 else f"/en/latest?page={page}"
        site.add(path, pages.drupal_listing(items, page=page, last=pages_count - 1))
        for href, title, _ in items:
            site.add(href, pages.ohchr_press_release(title, [f"{title}: " + p for p in FIRST]))


def test_first_run_backfills_pagination_up_to_the_bound_later_runs_read_page_one(
    make_ctx: P.MakeCtx, fsite: LocalSite, tmp_path: pathlib.Path
) -> None:
    _listing_pages(fsite, 6)
    source = {
        "key": "ohchr-like",
        "publisher": "OHCHR",
        "kind": "listing",
        "url": fsite.url("/en/latest"),
        "languages": ["en"],
        "pattern": r"/en/press-releases/\d{4}/\d{2}/[^/?#]+",
        **_shipped("ohchr-press-releases"),
    }
    ctx = P.context(make_ctx, tmp_path, [source], backfill_pages=3)
    first = P.scrape(ctx)
    assert first.new_statements == 6, "three pages of two releases"
    assert [h.path for h in fsite.hits if h.path.startswith("/en/latest")] == [
        "/en/latest",
        "/en/latest?page=1",
        "/en/latest?page=2",
    ]
    assert P.source(ctx, "ohchr-like").backfilled_at is not None

    new = [("/en/press-releases/2026/11/brand-new", "Brand new release", "2026-11-19T09:00:00Z")]
    _listing_pages(fsite, 6, extra_first=new)
    hits_before = len(fsite.hits)
    second = P.scrape(ctx)
    assert second.new_statements == 1
    listing_hits = [h.path for h in fsite.hits[hits_before:] if h.path.startswith("/en/latest")]
    assert listing_hits == ["/en/latest"], "after the backfill only the first page is read"
    titles = {row.title for row in P.statements(ctx)}
    assert "Brand new release" in titles and "Release 3.0" not in titles


def test_sitemap_index_backfills_newest_children_then_only_changed_ones(
    make_ctx: P.MakeCtx, fsite: LocalSite, tmp_path: pathlib.Path
) -> None:
    now = utcnow().replace(microsecond=0)
    day = timedelta(days=1)

    def publish(child_lastmods: list[Any]) -> None:
        children = []
        for n, lastmod in enumerate(child_lastmods):
            path = f"/sitemap-{n}.xml"
            urls = [
                (fsite.url(f"/en/statements/2026/11/s{n}-{i}"), (now - n * day).isoformat()) for i in range(2)
            ]
            urls.append((fsite.url(f"/en/about/page-{n}"), now.isoformat()))  # not a statement
            old = (now - 60 * day).isoformat()  # older than max_age_days: not fetched
            urls.append((fsite.url(f"/en/statements/2025/09/old-{n}"), old))
            fsite.add(path, pages.sitemap(urls), content_type="application/xml")
            children.append((fsite.url(path), lastmod.isoformat()))
        fsite.add("/sitemap.xml", pages.sitemap_index(children), content_type="application/xml")

    for n in range(4):
        for i in range(2):
            fsite.add(
                f"/en/statements/2026/11/s{n}-{i}",
                pages.ohchr_press_release(f"Statement {n}.{i}", [f"Statement {n}.{i}. " + p for p in FIRST]),
            )
    publish([now - n * day for n in range(4)])
    source = {
        "key": "sitemap",
        "publisher": "OHCHR",
        "kind": "sitemap",
        "url": fsite.url("/sitemap.xml"),
        "languages": ["en"],
        "pattern": r"/en/statements/\d{4}/\d{2}/",
        "max_age_days": 30,
    }
    ctx = P.context(make_ctx, tmp_path, [source], backfill_pages=2)
    first = P.scrape(ctx)
    assert first.new_statements == 4, "the two newest children, two statements each"
    assert not [h for h in fsite.hits if "/old-" in h.path or "/about/" in h.path]
    assert {h.path for h in fsite.hits if h.path.startswith("/sitemap-")} == {
        "/sitemap-0.xml",
        "/sitemap-1.xml",
    }

    # the index changes (child 0 is updated): a later pass reads that child alone; children
    # 2 and 3, beyond the backfill bound and unchanged since, are not read now either
    publish([now + timedelta(minutes=1), now - day, now - 2 * day, now - 3 * day])
    hits_before = len(fsite.hits)
    second = P.scrape(ctx)
    read = [h.path for h in fsite.hits[hits_before:] if h.path.startswith("/sitemap-")]
    assert read == ["/sitemap-0.xml"]
    assert second.new_statements == 0

    # child 3 (never read) is updated after the backfill: now it is new content, and read
    publish([now - 5 * day, now - 5 * day, now - 5 * day, now + timedelta(minutes=2)])
    hits_before = len(fsite.hits)
    third = P.scrape(ctx)
    read = [h.path for h in fsite.hits[hits_before:] if h.path.startswith("/sitemap-")]
    assert read == ["/sitemap-3.xml"]
    assert third.new_statements == 2


# -- the delta function itself -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "added", "removed"),
    [
        ("a\n\nb\n\nc", "a\n\nb\n\nc", [], []),
        ("a\n\nb", "a\n\nb\n\nc", ["c"], []),
        ("a\n\nb\n\nc", "a\n\nc", [], ["b"]),
        ("a\n\nb\n\nc", "a\n\nB\n\nc", ["B"], ["b"]),
        ("", "a\n\nb", ["a", "b"], []),
        ("a\n\nb", "b\n\na", ["b"], ["b"]),  # moved: removed where it was, added where it is
    ],
)
def test_paragraph_delta(old: str, new: str, added: list[str], removed: list[str]) -> None:
    assert paragraph_delta(old, new) == (added, removed)


def test_failed_fetch_never_erases_stored_validators(
    make_ctx: P.MakeCtx, fsite: LocalSite, tmp_path: pathlib.Path
) -> None:
    """A page that fails after it was stored keeps its ETag (the next 304 still works)."""
    fsite.add("/news/flaky", pages.un_news_story("Flaky", FIRST))
    ctx = P.context(make_ctx, tmp_path, [_feed(fsite, "news", [fsite.url("/news/flaky")])], max_retries=0)
    P.scrape(ctx)
    etag = P.fetch_state(ctx, fsite.url("/news/flaky")).etag  # type: ignore[union-attr]
    fsite.add("/news/flaky", "down", status=503)
    P.make_all_due(ctx)
    P.scrape(ctx)
    state = P.fetch_state(ctx, fsite.url("/news/flaky"))
    assert state is not None and state.consecutive_failures == 1 and state.etag == etag
    assert state.last_success_at is not None, "the last success stays on record"
    with session_scope(ctx.factory) as session:
        assert session.scalar(select(FetchState.last_error).where(FetchState.url.like("%flaky"))).startswith(
            "http: HTTP 503"
        )

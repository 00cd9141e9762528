"""Discovery on documents written after the real sites: RSS and Atom feeds, sitemaps and
sitemap indexes (with ``lastmod``, gzipped, Google News), HTML listings with pagination.

Discoverers only parse bytes, so each test hands them a document and reads the items back.
Where a built-in source exists, its shipped settings (pattern, selectors) are used.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from typing import Any

import pytest

from scrapers.discover import DiscoveryError, discoverer_for
from scrapers.registry import load_registry
from tests.scrapers import pages

SPECS = {s.key: s for s in load_registry()}


def config(key: str) -> dict[str, Any]:
    spec = SPECS[key]
    cfg = dict(spec.config)
    if len(spec.languages) == 1:
        cfg.setdefault("lang", spec.languages[0])
    return cfg


def parse(kind: str, cfg: dict[str, Any], body: str | bytes, base: str) -> Any:
    return discoverer_for(kind, cfg).parse(body.encode("utf-8") if isinstance(body, str) else body, base)


# -- feeds ---------------------------------------------------------------------------------------
def test_un_news_feed_keeps_stories_by_pattern() -> None:
    """UN News items link through feed/view; videos and audio in the same feed are not statements."""
    feed = pages.rss(
        [
            (
                "https://news.un.org/feed/view/en/story/2026/11/1160001",
                "Civic space",
                "Wed, 18 Nov 2026 10:00:00 GMT",
            ),
            (
                "https://news.un.org/feed/view/en/audio/2026/11/1160005",
                "Podcast",
                "Wed, 18 Nov 2026 11:00:00 GMT",
            ),
            ("https://news.un.org/en/video/2026/11/1160006", "Video", "Wed, 18 Nov 2026 12:00:00 GMT"),
            (
                "https://news.un.org/feed/view/en/story/2026/11/1160002",
                "Haiti",
                "Tue, 17 Nov 2026 09:30:00 +0100",
            ),
        ]
    )
    found = parse("feed", config("un-news-human-rights-en"), feed, SPECS["un-news-human-rights-en"].url)
    assert [i.url for i in found.items] == [
        "https://news.un.org/feed/view/en/story/2026/11/1160001",
        "https://news.un.org/feed/view/en/story/2026/11/1160002",
    ]
    assert found.items[1].published_at == datetime(2026, 11, 17, 8, 30, tzinfo=UTC)
    assert {i.lang for i in found.items} == {"en"}


def test_site_relative_feed_links_resolve_against_the_feed() -> None:
    """un.org/sg's spokesperson RSS gives site-relative item links (sources.yaml notes)."""
    feed = pages.rss(
        [
            (
                "/sg/en/content/sg/statement/2026-11-18/secretary-generals-message-reprisals",
                "Message",
                "Wed, 18 Nov 2026 10:00:00 GMT",
            ),
            (
                "/sg/en/content/sg/note-correspondents/2026-11-18/note",
                "Note",
                "Wed, 18 Nov 2026 10:00:00 GMT",
            ),
        ]
    )
    found = parse("feed", config("un-sg-statements"), feed, SPECS["un-sg-statements"].url)
    assert [i.url for i in found.items] == [
        "https://www.un.org/sg/en/content/sg/statement/2026-11-18/secretary-generals-message-reprisals"
    ], "notes to correspondents are dropped by the pattern"


def test_atom_feed_with_xml_base_and_html_titles() -> None:
    feed = pages.atom(
        [
            ("en/statements/2026/11/reprisals", "Reprisals &amp; civic space", "2026-11-18T10:00:00Z"),
            (
                "https://www.ohchr.org/en/statements/2026/11/haiti",
                "<b>Haiti</b>: update",
                "2026-11-17T10:00:00+01:00",
            ),
            ("en/about-us", "About us", "2026-11-17T10:00:00Z"),
        ],
        lang="fr",
        base="https://www.ohchr.org/",
    )
    found = parse(
        "feed", {"pattern": SPECS["ohchr-sitemap"].config["pattern"]}, feed, "https://www.ohchr.org/en/feed"
    )
    assert [(i.url, i.title) for i in found.items] == [
        ("https://www.ohchr.org/en/statements/2026/11/reprisals", "Reprisals & civic space"),
        ("https://www.ohchr.org/en/statements/2026/11/haiti", "Haiti: update"),
    ], "links resolved against xml:base, titles as plain text"
    assert found.items[1].published_at == datetime(2026, 11, 17, 9, tzinfo=UTC)
    assert {i.lang for i in found.items} == {"fr"}, "xml:lang of the feed"


def test_feed_lists_a_statement_once_however_it_is_spelled() -> None:
    feed = pages.rss(
        [
            (
                "https://www.hrw.org/news/2026/07/16/libya?utm_source=rss",
                "Libya",
                "Thu, 16 Jul 2026 18:01:00 -0400",
            ),
            (
                "http://www.hrw.org/news/2026/07/16/libya/#top",
                "Libya (again)",
                "Thu, 16 Jul 2026 18:01:00 -0400",
            ),
        ]
    )
    found = parse("feed", config("hrw-news"), feed, SPECS["hrw-news"].url)
    assert len(found.items) == 1 and found.items[0].title == "Libya"


def test_salvageable_feed_is_read_with_a_warning() -> None:
    """An unescaped ampersand makes the XML invalid; feedparser reads it anyway, and says so."""
    feed = pages.rss(
        [("https://www.hrw.org/news/2026/07/16/a", "A", "Thu, 16 Jul 2026 18:01:00 -0400")]
    ).replace("<title>A</title>", "<title>Sudan & Chad</title>")
    found = parse("feed", config("hrw-news"), feed, SPECS["hrw-news"].url)
    assert [i.title for i in found.items] == ["Sudan & Chad"]
    assert found.warnings and "not well-formed" in found.warnings[0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<rss><channel><item><title>Unclosed & broken</item></channel", "malformed feed"),
        ("<!DOCTYPE html><html><body><p>We moved our feed.</p></body></html>", "not a feed"),
        ("", "not a feed"),
    ],
)
def test_unreadable_feeds_are_errors(body: str, message: str) -> None:
    with pytest.raises(DiscoveryError, match=message):
        parse("feed", config("hrw-news"), body, SPECS["hrw-news"].url)


def test_empty_but_valid_feed_is_not_an_error() -> None:
    assert parse("feed", config("hrw-news"), pages.rss([]), SPECS["hrw-news"].url).items == []


# -- sitemaps ------------------------------------------------------------------------------------
def _ohchr(n: int, kind: str = "press-releases") -> str:
    return f"https://www.ohchr.org/en/{kind}/2026/11/statement-{n}"


def test_sitemap_keeps_statements_newest_first() -> None:
    body = pages.sitemap(
        [
            (_ohchr(1), "2026-11-10"),
            ("https://www.ohchr.org/en/countries/sudan", "2026-11-19"),
            (_ohchr(2, "statements"), "2026-11-18T09:30:00+01:00"),
            (_ohchr(3), None),
            (_ohchr(4, "statements-and-speeches"), "2026-11-12T00:00:00Z"),
        ]
    )
    found = parse("sitemap", config("ohchr-sitemap"), body, SPECS["ohchr-sitemap"].url)
    assert [i.url for i in found.items] == [
        _ohchr(2, "statements"),
        _ohchr(4, "statements-and-speeches"),
        _ohchr(1),
        _ohchr(3),
    ]
    assert found.items[0].lastmod == datetime(2026, 11, 18, 8, 30, tzinfo=UTC)
    assert found.items[-1].lastmod is None
    assert found.next_pages == []


def test_sitemap_index_children_newest_first() -> None:
    body = pages.sitemap_index(
        [
            ("https://www.ohchr.org/sitemap.xml?page=1", "2026-10-01"),
            ("https://www.ohchr.org/sitemap.xml?page=2", "2026-11-18T10:00:00Z"),
            ("https://www.ohchr.org/sitemap.xml?page=3", None),
        ]
    )
    found = parse("sitemap", config("ohchr-sitemap"), body, SPECS["ohchr-sitemap"].url)
    assert found.items == []
    assert [(p.url.rsplit("=", 1)[-1], p.lastmod) for p in found.next_pages] == [
        ("2", datetime(2026, 11, 18, 10, tzinfo=UTC)),
        ("1", datetime(2026, 10, 1, tzinfo=UTC)),
        ("3", None),
    ]


def test_gzipped_sitemap_and_google_news_extension() -> None:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url>'
        f"<loc>{_ohchr(7)}</loc><news:news><news:publication><news:name>OHCHR</news:name>"
        "<news:language>en</news:language></news:publication>"
        "<news:publication_date>2026-11-18T09:00:00Z</news:publication_date>"
        "<news:title>Civic space must be protected</news:title></news:news></url></urlset>"
    )
    found = parse(
        "sitemap", config("ohchr-sitemap"), gzip.compress(body.encode()), "https://www.ohchr.org/news.xml.gz"
    )
    (item,) = found.items
    assert item.url == _ohchr(7) and item.title == "Civic space must be protected"
    assert item.published_at == datetime(2026, 11, 18, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<urlset><url><loc>https://x", "malformed sitemap XML"),
        (pages.rss([]).encode(), "not a sitemap"),
        (b"\x1f\x8b\x08\x00garbage", "corrupt gzip sitemap"),
        (gzip.compress(pages.sitemap([(_ohchr(1), None)]).encode())[:-12], "ends early"),  # cut off
        (
            b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><urlset><url><loc>&e;</loc></url></urlset>',
            "",
        ),
    ],
)
def test_bad_sitemaps_are_errors(body: bytes, message: str) -> None:
    """Malformed, the wrong document, corrupt gzip; an external entity is never resolved."""
    try:
        found = parse("sitemap", config("ohchr-sitemap"), body, SPECS["ohchr-sitemap"].url)
    except DiscoveryError as exc:
        assert message in str(exc)
        return
    assert not message, "expected an error"
    assert all("root:" not in i.url for i in found.items), "no file content in any URL"


# -- listings ------------------------------------------------------------------------------------
def test_drupal_listing_with_pager() -> None:
    """OHCHR / press.un.org style: teasers with <time>, a Drupal pager (rel=next, ?page=N)."""
    items = [
        ("/en/press-releases/2026/11/civic-space", "Civic space", "2026-11-18T09:00:00Z"),
        ("/en/press-releases/2026/11/haiti?utm_campaign=x", "Haiti", "2026-11-17T09:00:00Z"),
        ("/en/statements/2026/11/global-update", "Global update", "2026-11-16T09:00:00Z"),
        ("/en/topic/civic-space", "A topic page", "2026-11-15T09:00:00Z"),
    ]
    body = pages.drupal_listing(items, page=0, last=3)
    found = parse("listing", config("ohchr-press-releases"), body, "https://www.ohchr.org/en/latest")
    assert [(i.url.rsplit("/", 1)[-1], i.title) for i in found.items] == [
        ("civic-space", "Civic space"),
        ("haiti?utm_campaign=x", "Haiti"),
        ("global-update", "Global update"),
    ]
    assert [i.published_at for i in found.items] == [
        datetime(2026, 11, d, 9, tzinfo=UTC) for d in (18, 17, 16)
    ], "each teaser's own date"
    assert [p.url for p in found.next_pages] == ["https://www.ohchr.org/en/latest?page=1"]
    last = parse(
        "listing",
        config("ohchr-press-releases"),
        pages.drupal_listing(items, page=3, last=3),
        "https://www.ohchr.org/en/latest?page=3",
    )
    assert last.next_pages == [], "the last page has no next"


def test_wordpress_block_listing_amnesty_2025() -> None:
    items = [
        (
            "https://www.amnesty.org/en/latest/news/2026/07/african-court-support/",
            "African Court",
            "2026-07-17T02:02:14Z",
        ),
        (
            "https://www.amnesty.org/en/documents/mde12/0001/2026/en/",
            "Egypt: Mohamed Adel",
            "2026-07-13T10:00:00Z",
        ),
    ]
    body = pages.wordpress_listing(items, next_href="https://www.amnesty.org/en/latest/news/page/2/")
    found = parse("listing", config("amnesty-news"), body, "https://www.amnesty.org/en/latest/news/")
    assert [(i.url, i.title) for i in found.items] == [(h, t) for h, t, _ in items]
    assert found.items[0].published_at == datetime(2026, 7, 17, 2, 2, 14, tzinfo=UTC)
    assert [p.url for p in found.next_pages] == ["https://www.amnesty.org/en/latest/news/page/2/"]


def test_link_selector_refines_and_falls_back_to_the_pattern_when_it_stops_matching() -> None:
    """CIVICUS: the selector narrows to the news wall; after a redesign the pattern alone still
    finds the articles (and a warning says the selector matched nothing)."""
    base = "https://www.civicus.org/index.php/media-resources/news"
    article = "https://www.civicus.org/index.php/media-resources/news/7030-un-human-rights-council-must-act"
    sidebar = "https://www.civicus.org/index.php/media-resources/news/7001-older-item-in-a-sidebar"
    wall = (
        f'<html><body><main><div class="mnwall-item"><h3 class="mnwall-title"><a href="{article}">UNHRC must act</a>'
        f'</h3></div></main><aside><a href="{sidebar}">Older item</a></aside></body></html>'
    )
    found = parse("listing", config("civicus-news"), wall, base)
    assert [i.url for i in found.items] == [article], "the selector leaves the sidebar out"
    assert found.warnings == []
    redesigned = (
        wall.replace("mnwall-title", "card-heading").replace("<h3", "<div").replace("</h3>", "</div>")
    )
    found = parse("listing", config("civicus-news"), redesigned, base)
    assert [i.url for i in found.items] == [article, sidebar]
    assert found.warnings and "matched nothing" in found.warnings[0]


def test_listing_ignores_other_hosts_and_non_http_links() -> None:
    body = (
        "<html><body><main>"
        '<a href="https://www.ohchr.org/en/press-releases/2026/11/good">Good</a>'
        '<a href="https://evil.example/en/press-releases/2026/11/phish">Elsewhere</a>'
        '<a href="javascript:void(0)">JS</a><a href="mailto:press@ohchr.org">Mail</a><a href="#top">Top</a>'
        "</main></body></html>"
    )
    found = parse("listing", config("ohchr-press-releases"), body, "https://www.ohchr.org/en/latest")
    assert [i.url for i in found.items] == ["https://www.ohchr.org/en/press-releases/2026/11/good"]


def test_page_kind_is_its_own_statement() -> None:
    found = parse("page", {"lang": "en"}, b"<html></html>", "https://www.un.org/en/about-us/udhr")
    assert [(i.url, i.lang) for i in found.items] == [("https://www.un.org/en/about-us/udhr", "en")]


def test_unknown_kind() -> None:
    with pytest.raises(DiscoveryError, match="unknown source kind"):
        discoverer_for("telegram", {})

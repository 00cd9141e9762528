"""Parser tests on saved real pages (``/work/shared/real-pages``, read at test time).

HRW articles and feed, the Amnesty feed and two Amnesty listing pages, each read with the
settings ``scrapers/sources.yaml`` ships for HRW and Amnesty, so these check the shipped
config as much as the code. Expected values are read from the files independently of our
parsers (plain regular expressions over the raw bytes) wherever that is practical.
"""

from __future__ import annotations

import html
import json
import pathlib
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from scrapers.dates import parse_date
from scrapers.discover import discoverer_for
from scrapers.extract import extract
from scrapers.lang import detect_language
from scrapers.registry import load_registry

SPECS = {s.key: s for s in load_registry()}
ARTICLES = {
    # file: (URL it was published at, flag printed in the header)
    "article_libya.html": (
        "https://www.hrw.org/news/2026/07/16/libya-icc-greenlights-first-case-to-move-to-trial",
        "News Release",
    ),
    "article_statement.html": (
        "https://www.hrw.org/news/2026/07/15/joint-statement-sudan-detention",
        "Statement",
    ),
    "article_report.html": (
        "https://www.hrw.org/news/2026/07/16/ukraine-russian-run-schools-report",
        "Report",
    ),
    "article_dispatch.html": ("https://www.hrw.org/news/2026/07/14/georgia-journalist-raids", "Dispatches"),
}


def config(key: str) -> dict[str, Any]:
    spec = SPECS[key]
    cfg = dict(spec.config)
    if len(spec.languages) == 1:
        cfg.setdefault("lang", spec.languages[0])
    return cfg


def _plain(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


# -- HRW articles -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ARTICLES))
def test_hrw_article(real_pages: pathlib.Path, name: str) -> None:
    raw = (real_pages / "hrw" / name).read_text(encoding="utf-8")
    url, flag = ARTICLES[name]
    got = extract(raw.encode(), url, content_type="text/html", config=config("hrw-news"))

    title = _plain(re.search(r'<h1 class="news-header__title[^"]*"[^>]*>(.*?)</h1>', raw, re.S).group(1))  # type: ignore[union-attr]
    stamp = re.search(r'<time class="news-header__dateline-date[^"]*" datetime="([^"]+)"', raw).group(1)  # type: ignore[union-attr]
    body = re.search(r'<div class="content-body">(.*?)</div>', raw, re.S).group(1)  # type: ignore[union-attr]
    paragraphs = [_plain(p) for p in re.findall(r"<p>(.*?)</p>", body, re.S)]  # the share <p> has a class

    assert got.title == title
    assert got.published_at == datetime.fromisoformat(stamp[:-2] + ":" + stamp[-2:])
    assert got.published_at is not None and got.published_at.utcoffset() is not None
    assert got.text == "\n\n".join(paragraphs), "exactly the content-body paragraphs"
    assert len(paragraphs) >= 2
    for chrome in ("Share this via Facebook", "Region / Country", "Topic", flag, "EDT"):
        assert chrome not in got.text, f"{chrome!r} leaked into the text"
    assert got.lang == "en" and got.method == "selector"
    assert SPECS["hrw-news"].config["pattern"] and re.search(SPECS["hrw-news"].config["pattern"], url)


def test_hrw_article_generic_path_keeps_tag_blocks_out(real_pages: pathlib.Path) -> None:
    """Without HRW's selectors the tag blocks and share link still stay out, and the dateline."""
    raw = (real_pages / "hrw" / "article_libya.html").read_bytes()
    got = extract(raw, ARTICLES["article_libya.html"][0])
    assert got.method == "main"
    assert "Libya" in got.text and "El Hishri" in got.text
    for chrome in ("Region / Country", "International Criminal Court\n", "Share this via", "6:01PM EDT"):
        assert chrome not in got.text + "\n"
    assert got.published_at == datetime(2026, 7, 16, 22, 1, tzinfo=UTC)


# -- HRW feed ------------------------------------------------------------------------------------
def test_hrw_feed(real_pages: pathlib.Path) -> None:
    raw = (real_pages / "hrw" / "feed_sample.xml").read_bytes()
    found = discoverer_for("feed", config("hrw-news")).parse(raw, SPECS["hrw-news"].url)
    links = re.findall(rb"<link>(https://www\.hrw\.org/news/[^<]+)</link>", raw)
    assert [i.url for i in found.items] == [link.decode() for link in links]
    assert len(found.items) == 5 and found.warnings == []
    by_slug = {i.url.rsplit("/", 1)[-1]: i for i in found.items}
    libya = by_slug["libya-icc-greenlights-first-case-to-move-to-trial"]
    assert libya.title == "Libya: ICC Greenlights First Case to Move to Trial"
    assert libya.published_at == datetime(2026, 7, 16, 22, 1, tzinfo=UTC), "-0400 read as UTC"
    assert libya.lang == "en"
    assert (
        by_slug["georgia-journalist-raids"].title
        == "Dispatches: Police Raid on Journalists' Homes in Georgia"
    )
    # the deliberately bad date: the item is kept, undated, and nothing else is disturbed
    bad = by_slug["fixture-bad-date"]
    assert (
        bad.published_at is None
        and bad.title
        and bad.title.startswith("Fixture: item with malformed pubDate")
    )
    assert all(i.published_at is not None for i in found.items if i is not bad)


def test_hrw_feed_items_are_its_articles(real_pages: pathlib.Path) -> None:
    """The feed's first item and the saved article agree on title and moment."""
    feed = discoverer_for("feed", config("hrw-news")).parse(
        (real_pages / "hrw" / "feed_sample.xml").read_bytes(), SPECS["hrw-news"].url
    )
    item = feed.items[0]
    page = extract(
        (real_pages / "hrw" / "article_libya.html").read_bytes(), item.url, config=config("hrw-news")
    )
    assert page.title == item.title and page.published_at == item.published_at


def test_hrw_saved_json_articles(real_pages: pathlib.Path) -> None:
    """Two 2019 articles as a scraper saved them: their URLs fit the shipped pattern, their
    text reads as English, their dates parse."""
    pattern = re.compile(SPECS["hrw-news"].config["pattern"])
    for path in sorted((real_pages / "hrw").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert pattern.search(data["url"]), data["url"]
        assert detect_language(None, data["url"], data["content"]) == "en"
        when = parse_date(data["date"])
        assert when is not None and when.year == 2019 and when.tzinfo is not None


# -- Amnesty feed --------------------------------------------------------------------------------
def test_amnesty_feed(real_pages: pathlib.Path) -> None:
    raw = (real_pages / "amnesty" / "feed_sample.xml").read_bytes()
    found = discoverer_for("feed", config("amnesty-news")).parse(raw, SPECS["amnesty-news"].url)
    item_links = re.findall(rb"<item>\s*<title>[^<]*</title>\s*<link>([^<]+)</link>", raw)
    assert [i.url for i in found.items] == [link.decode() for link in item_links]
    assert len(found.items) == 7
    assert all(i.lang == "en" for i in found.items), "<language>en-GB</language>"
    first = found.items[0]
    assert first.title and first.title.startswith("Africa: As it turns 20, the African Court")
    assert first.published_at == datetime(2026, 7, 17, 2, 2, 14, tzinfo=UTC)
    bad = found.items[-1]
    assert bad.url.endswith("/fixture-bad-date/") and bad.published_at is None
    documents = [i for i in found.items if "/en/documents/" in i.url]
    assert [d.url for d in documents] == ["https://www.amnesty.org/en/documents/mde12/0001/2026/en/"]


def test_amnesty_feed_content_encoded(real_pages: pathlib.Path) -> None:
    """content:encoded is the full text: kept as plain paragraphs, WordPress's footer removed;
    entries with only a description have none."""
    raw = (real_pages / "amnesty" / "feed_sample.xml").read_bytes()
    found = discoverer_for("feed", config("amnesty-news")).parse(raw, SPECS["amnesty-news"].url)
    with_content = [i for i in found.items if i.content]
    assert len(with_content) == raw.count(b"<content:encoded>") == 4
    rohingya = next(i for i in found.items if "rohingya" in i.url)
    assert rohingya.content == (
        "Responding to reports that more than 500 people are feared dead after two boats carrying mostly "
        "Rohingya refugees capsized off the coast of Myanmar, Amnesty International’s Myanmar Researcher "
        "Joe Freeman said:\n\n"
        "“These reports are a heartbreaking reminder of the increasingly desperate choices facing many "
        "Rohingya today. People do not risk their lives at sea unless the alternatives are even more "
        "unbearable."
    )
    for item in with_content:
        assert "appeared first on" not in (item.content or "") and "<p>" not in (item.content or "")
    minimal = next(i for i in found.items if i.url.endswith("/fixture-minimal-item/"))
    assert minimal.content is None and minimal.summary and "Minimal description" in minimal.summary


# -- Amnesty listing pages -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "base", "next_page"),
    [
        (
            "Amnesty_source_Iran_2019.txt",
            "https://www.amnesty.org/en/search/Iran/?year=2019&language=en",
            "https://www.amnesty.org/en/search/Iran/page/2/?year=2019&language=en",
        ),
        (
            "Amnesty_source_Sudan_2019.txt",
            "https://www.amnesty.org/en/search/Sudan/?year=2019&language=en",
            "https://www.amnesty.org/en/search/Sudan/page/2/?year=2019&language=en",
        ),
    ],
)
def test_amnesty_listing(real_pages: pathlib.Path, name: str, base: str, next_page: str) -> None:
    """Statement links chosen by the shipped URL pattern alone (no selector): the result
    headlines, not the menus, section pages, country profiles or topic links around them."""
    raw = (real_pages / "amnesty" / name).read_bytes()
    cfg = {**config("amnesty-news"), "kind": "listing"}
    found = discoverer_for("listing", cfg).parse(raw, base)

    text = raw.decode("utf-8")
    headlines = re.findall(r'<h1 class="post-title"><a href="([^"]+)"[^>]*>(.*?)</a></h1>', text)
    expected = [(h, _plain(t)) for h, t in headlines if "/location/" not in h]
    assert [(i.url, i.title) for i in found.items] == expected, (
        "every result, in order, titled by its headline"
    )
    assert len(expected) >= 12
    for item in found.items:
        assert not item.url.rstrip("/").endswith(("/latest", "/news", "/research", "/campaigns"))
    assert [p.url for p in found.next_pages] == [next_page]

    # each result's date is its own byline (not a neighbour's), where it has one
    cards = re.findall(r'<article class="post post--result".*?</article>', text, re.S)
    dated = 0
    for card in cards:
        href = re.search(r'<h1 class="post-title"><a href="([^"]+)"', card).group(1)  # type: ignore[union-attr]
        byline = re.search(r'<span class="post-byline"[^>]*>([^<]+)</span>', card)
        item = next((i for i in found.items if i.url == href), None)
        if item is None:
            continue
        if byline:
            dated += 1
            assert item.published_at == datetime.strptime(byline.group(1), "%B %d, %Y").replace(tzinfo=UTC), (
                href
            )
        else:
            assert item.published_at is None, href
    assert dated >= 10


def test_amnesty_listing_with_the_old_loose_pattern_would_take_section_pages(
    real_pages: pathlib.Path,
) -> None:
    """Why the shipped pattern is anchored: '/en/(latest|documents)/' also matches the site's
    own section links, which a listing would then fetch as statements."""
    raw = (real_pages / "amnesty" / "Amnesty_source_Iran_2019.txt").read_bytes()
    loose = discoverer_for("listing", {"pattern": r"^https?://www\.amnesty\.org/en/(latest|documents)/"})
    urls = {i.url for i in loose.parse(raw, "https://www.amnesty.org/en/search/Iran/").items}
    assert "https://www.amnesty.org/en/latest/news/" in urls
    shipped = discoverer_for("listing", config("amnesty-news"))
    assert "https://www.amnesty.org/en/latest/news/" not in {
        i.url for i in shipped.parse(raw, "https://www.amnesty.org/en/search/Iran/").items
    }


# -- the real HRW feed and articles through a whole pass -------------------------------------------
def test_hrw_feed_and_articles_through_a_pass(
    real_pages: pathlib.Path, make_ctx: Any, fsite: Any, tmp_path: pathlib.Path
) -> None:
    """The saved feed and articles served from a local site (links re-pointed at it), read by a
    real pass with hrw-news's shipped selectors: four statements, each its content-body only,
    dated by the feed; the feed's fifth item has no page and is recorded as such."""
    from tests.scrapers import passes as P

    local = fsite.url("")
    feed = (
        (real_pages / "hrw" / "feed_sample.xml")
        .read_text(encoding="utf-8")
        .replace("https://www.hrw.org", local)
    )
    fsite.add("/rss/news", feed, content_type="application/rss+xml; charset=utf-8")
    for name, (url, _) in ARTICLES.items():
        fsite.add(url.replace("https://www.hrw.org", ""), (real_pages / "hrw" / name).read_bytes())
    spec = SPECS["hrw-news"]
    entry = {
        key: spec.config[key]
        for key in ("title_selector", "date_selector", "content_selector", "drop_selector")
    } | {
        "key": "hrw-news",
        "publisher": spec.publisher,
        "kind": spec.kind,
        "url": fsite.url("/rss/news"),
        "languages": spec.languages,
        "pattern": spec.config["pattern"].replace(r"www\.hrw\.org", re.escape(local.split("://", 1)[1])),
    }
    ctx = P.context(make_ctx, tmp_path, [entry])
    report = P.scrape(ctx)
    (result,) = report.sources
    assert result.ok and result.discovered == 5 and result.new_statements == 4 and result.failed_items == 1
    rows = {row.url.replace(local, "https://www.hrw.org"): row for row in P.statements(ctx)}
    assert set(rows) == {url for url, _ in ARTICLES.values()}
    libya = rows[ARTICLES["article_libya.html"][0]]
    assert libya.title == "Libya: ICC Greenlights First Case to Move to Trial" and libya.lang == "en"
    assert libya.published_at == datetime(2026, 7, 16, 22, 1, tzinfo=UTC), "the feed's moment, in UTC"
    assert libya.texts[0].startswith("(The Hague) – The International Criminal Court (ICC)’s confirmation")
    assert all(
        "Share this via" not in r.texts[0] and "Region / Country" not in r.texts[0] for r in rows.values()
    )
    assert len({r.cluster_id for r in rows.values()}) == 4, "four different articles, four clusters"
    missing = P.fetch_state(ctx, local + "/news/2026/07/16/fixture-bad-date")
    assert missing is not None and (missing.last_error or "").startswith("http: HTTP 404")
    assert P.scrape(ctx).new_versions == 0

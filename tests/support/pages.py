"""Pages written for tests, shaped like the real sites' listings, feeds and statements."""

from __future__ import annotations

from html import escape


def listing(items: list[tuple[str, str, str]], *, next_href: str | None = None, lang: str = "en") -> str:
    """An OHCHR-style listing: (href, title, iso date) per item."""
    rows = "\n".join(
        f'<div class="views-row"><article class="news-teaser"><h3><a href="{escape(h)}">{escape(t)}</a></h3>'
        f'<time datetime="{d}">{d[:10]}</time></article></div>'
        for h, t, d in items
    )
    pager = f'<nav class="pager"><a rel="next" href="{escape(next_href)}">Next</a></nav>' if next_href else ""
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>Press releases</title></head><body>'
        f'<header><nav><a href="/">Home</a><a href="/en/about">About</a></nav></header>'
        f"<main><h1>Press releases</h1>{rows}{pager}</main><footer><a href='/en/contact'>Contact</a></footer></body></html>"
    )


def statement(
    title: str, paragraphs: list[str], *, date: str = "2026-11-18T09:00:00Z", lang: str = "en"
) -> str:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)} | Office</title>'
        f'<meta property="article:published_time" content="{date}"></head><body>'
        f'<header><nav><a href="/">Home</a> <a href="/en/press-releases">Press releases</a></nav></header>'
        f'<main><article><h1>{escape(title)}</h1><div class="field--type-text-long">{body}</div></article></main>'
        f"<footer>Office footer – all rights reserved.</footer></body></html>"
    )


def rss(items: list[tuple[str, str, str]], *, lang: str = "en") -> str:
    """An RSS 2.0 feed like UN News: (link, title, RFC 822 date) per item."""
    entries = "\n".join(
        f"<item><title>{escape(t)}</title><link>{escape(h)}</link><pubDate>{d}</pubDate></item>"
        for h, t, d in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News</title>'
        f"<link>/news</link><description>Test feed</description><language>{lang}</language>{entries}</channel></rss>"
    )


def registry(entries: list[dict[str, object]]) -> str:
    import yaml

    return yaml.safe_dump({"sources": entries}, sort_keys=False)


def press_source(site_url: str) -> dict[str, object]:
    """The registry entry of the test site's OHCHR-style press-release listing."""
    return {
        "key": "test-press",
        "publisher": "Test Office",
        "kind": "listing",
        "url": f"{site_url}/en/press-releases",
        "languages": ["en"],
        "pattern": r"/en/press-releases/\d{4}/\d{2}/",
    }


def news_source(site_url: str, lang: str) -> dict[str, object]:
    """The registry entry of the test site's UN News-style feed in ``lang``."""
    return {
        "key": "test-news",
        "publisher": "Test News",
        "kind": "feed",
        "url": f"{site_url}/news/rss.xml",
        "languages": [lang],
        "pattern": f"/news/{lang}/story/",
    }

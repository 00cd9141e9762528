"""Discovery: from a source's entry document, the statements it lists.

One class per source kind, registered by its ``kind`` (urlwatch's pattern): adding a kind
is one subclass. Discoverers only *parse*; fetching is the polite client's job and storing
is ``scrapers.store``'s, so each is testable on saved bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from scrapers.urls import canonical_url


@dataclass(frozen=True)
class Item:
    """One statement link found on a source, with whatever metadata the source gave."""

    url: str
    title: str | None = None
    published_at: datetime | None = None
    lang: str | None = None
    summary: str | None = None


@dataclass(frozen=True)
class Discovery:
    items: list[Item]
    next_pages: list[str]  # further listing pages (pagination, sitemap index children)


class DiscoveryError(ValueError):
    """The entry document could not be parsed as its kind; the message says how."""


class Discoverer:
    """Base class: subclasses set ``kind`` and implement ``parse``."""

    kind: ClassVar[str] = ""
    registry: ClassVar[dict[str, type[Discoverer]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Discoverer.registry[cls.kind] = cls

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        pattern = config.get("pattern")
        self.pattern = re.compile(pattern) if pattern else None

    def accepts(self, url: str) -> bool:
        """Does ``url`` mark a statement of this source (its URL pattern)?"""
        return self.pattern is None or bool(self.pattern.search(url))

    def parse(self, body: bytes, base_url: str) -> Discovery:
        raise NotImplementedError


def discoverer_for(kind: str, config: dict[str, Any]) -> Discoverer:
    try:
        return Discoverer.registry[kind](config)
    except KeyError:
        raise DiscoveryError(f"unknown source kind {kind!r}; known: {sorted(Discoverer.registry)}") from None


def _parse_date(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if hasattr(value, "tm_year"):  # feedparser's struct_time, already UTC
        try:
            return datetime(*value[:6], tzinfo=UTC)
        except (TypeError, ValueError):
            return None
    text = str(value).strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class FeedDiscoverer(Discoverer):
    """RSS 2.0, RSS 1.0 and Atom, through feedparser (which tolerates real-world feeds)."""

    kind = "feed"

    def parse(self, body: bytes, base_url: str) -> Discovery:
        import feedparser

        parsed = feedparser.parse(body)
        if parsed.bozo and not parsed.entries:
            raise DiscoveryError(f"malformed feed: {parsed.get('bozo_exception')}")
        if not parsed.entries and not parsed.get("feed"):
            raise DiscoveryError("no feed found in document")
        lang = (parsed.feed.get("language") or "")[:2].lower() or None
        items: list[Item] = []
        for entry in parsed.entries:
            link = entry.get("link")
            if not link:
                continue
            url = urljoin(base_url, link)
            if not self.accepts(url):
                continue
            items.append(
                Item(
                    url=url,
                    title=(entry.get("title") or None),
                    published_at=_parse_date(entry.get("published_parsed") or entry.get("updated_parsed")),
                    lang=lang,
                    summary=entry.get("summary") or None,
                )
            )
        return Discovery(items=items, next_pages=[])


class SitemapDiscoverer(Discoverer):
    """XML sitemaps and sitemap indexes; ``lastmod`` becomes the item's date."""

    kind = "sitemap"

    def parse(self, body: bytes, base_url: str) -> Discovery:
        from lxml import etree

        try:
            root = etree.fromstring(
                body, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
            )
        except etree.XMLSyntaxError as exc:
            raise DiscoveryError(f"malformed sitemap XML: {exc}") from exc
        tag = etree.QName(root).localname
        items: list[Item] = []
        children: list[str] = []
        for node in root:
            if not isinstance(node.tag, str):
                continue
            loc = lastmod = None
            for child in node:
                if not isinstance(child.tag, str):
                    continue
                name = etree.QName(child).localname
                if name == "loc":
                    loc = (child.text or "").strip()
                elif name == "lastmod":
                    lastmod = (child.text or "").strip()
            if not loc:
                continue
            if tag == "sitemapindex":
                children.append(urljoin(base_url, loc))
            elif self.accepts(loc):
                items.append(Item(url=urljoin(base_url, loc), published_at=_parse_date(lastmod)))
        if tag not in {"urlset", "sitemapindex"}:
            raise DiscoveryError(f"not a sitemap: root element <{tag}>")
        items.sort(key=lambda i: i.published_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        return Discovery(items=items, next_pages=children)


class ListingDiscoverer(Discoverer):
    """An HTML listing page: links chosen by URL pattern first, CSS selector as refinement.

    Markup changes often, URL schemes rarely do, so the pattern is the contract and the
    selector (``link_selector``) only narrows the candidates. ``next_selector`` finds the
    next listing page for backfill.
    """

    kind = "listing"

    def parse(self, body: bytes, base_url: str) -> Discovery:
        soup = BeautifulSoup(body, "lxml")
        scope = soup
        selector = self.config.get("link_selector")
        anchors = scope.select(selector) if selector else scope.find_all("a", href=True)
        if selector and not anchors:
            anchors = scope.find_all("a", href=True)  # the selector broke: fall back to the pattern
        base_host = urlsplit(base_url).hostname
        seen: set[str] = set()
        items: list[Item] = []
        for anchor in anchors:
            href = anchor.get("href")
            if not href or href.startswith(("#", "mailto:", "javascript:")):
                continue
            url = urljoin(base_url, str(href))
            if urlsplit(url).hostname != base_host and not self.config.get("follow_offsite"):
                continue
            if not self.accepts(url):
                continue
            key = canonical_url(url)
            if key in seen or key == canonical_url(base_url):
                continue
            seen.add(key)
            title = anchor.get_text(" ", strip=True) or None
            published = None
            container = anchor.find_parent(["article", "li", "div"])
            if container is not None:
                time_tag = container.find("time")
                if time_tag is not None:
                    published = _parse_date(time_tag.get("datetime") or time_tag.get_text(strip=True))
            items.append(Item(url=url, title=title, published_at=published))
        next_pages: list[str] = []
        next_selector = self.config.get("next_selector")
        nxt = soup.select_one(next_selector) if next_selector else soup.find("a", rel="next")
        if nxt is None:
            link = soup.find("link", rel="next")
            nxt = link if link is not None and link.get("href") else None
        if nxt is not None and nxt.get("href"):
            next_pages.append(urljoin(base_url, str(nxt["href"])))
        return Discovery(items=items, next_pages=next_pages)


class PageDiscoverer(Discoverer):
    """A single watched page: the source URL is itself the statement (urlwatch's job)."""

    kind = "page"

    def parse(self, body: bytes, base_url: str) -> Discovery:
        return Discovery(items=[Item(url=base_url)], next_pages=[])

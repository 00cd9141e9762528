"""Discovery: from a source's entry document, the statements it lists.

One class per source kind, registered by its ``kind`` (urlwatch's pattern): adding a kind
is one subclass. Discoverers only *parse*; fetching is the polite client's job and storing
is ``scrapers.store``'s, so each is testable on saved bytes.

Every kind applies the source's URL ``pattern`` (the contract with the site: markup changes
often, URL schemes rarely do), so a feed that also carries videos or a listing full of
navigation yields statements only.
"""

from __future__ import annotations

import contextlib
import io
import re
import zlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

from scrapers.dates import parse_date
from scrapers.urls import canonical_url

SITEMAP_MAX_BYTES = 50 * 1024 * 1024  # the sitemaps protocol's own limit, uncompressed


@dataclass(frozen=True)
class Item:
    """One statement link found on a source, with whatever metadata the source gave."""

    url: str
    title: str | None = None
    published_at: datetime | None = None
    lang: str | None = None
    summary: str | None = None
    content: str | None = None  # feeds: the full text some carry (content:encoded), as plain text
    lastmod: datetime | None = None  # sitemaps: when the page last changed


@dataclass(frozen=True)
class Page:
    """A further document to read: a listing's next page or a sitemap index's child."""

    url: str
    lastmod: datetime | None = None


@dataclass(frozen=True)
class Discovery:
    items: list[Item]
    next_pages: list[Page] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class DiscoveryError(ValueError):
    """The entry document could not be parsed as its kind; the message says how."""

    kind = "discovery"


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
        self.lang = config.get("lang")

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


class FeedDiscoverer(Discoverer):
    """RSS 2.0, RSS 1.0 and Atom, through feedparser (which tolerates real-world feeds)."""

    kind = "feed"

    def parse(self, body: bytes, base_url: str) -> Discovery:
        import feedparser

        # A file object, never bytes or str: feedparser opens a str that looks like a URL
        # or a path, and bytes like a path, so a hostile body could make it read local files.
        parsed = feedparser.parse(
            io.BytesIO(body),
            response_headers={"content-location": base_url, "content-type": "application/xml"},
        )
        if not parsed.entries:
            if parsed.bozo:
                raise DiscoveryError(f"malformed feed: {parsed.get('bozo_exception')}")
            if not parsed.get("version"):
                raise DiscoveryError("not a feed: no RSS or Atom root element")
        warnings = (
            [f"feed is not well-formed, read anyway: {parsed.get('bozo_exception')}"] if parsed.bozo else []
        )
        lang = (parsed.feed.get("language") or "")[:2].lower() or self.lang
        items: list[Item] = []
        seen: set[str] = set()
        linked = 0
        for entry in parsed.entries:
            link = entry.get("link") or (
                entry.get("id") if str(entry.get("id", "")).startswith("http") else None
            )
            if not link:
                continue
            linked += 1
            url = urljoin(base_url, str(link).strip())
            key = canonical_url(url) if url.startswith(("http://", "https://")) else url
            if key in seen or not self.accepts(url):
                continue
            seen.add(key)
            items.append(
                Item(
                    url=url,
                    title=_entry_title(entry),
                    # dict.get: feedparser's own get maps a missing updated_parsed to
                    # published_parsed with a DeprecationWarning (feedparser issue 310)
                    published_at=parse_date(
                        dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
                    ),
                    lang=lang,
                    summary=entry.get("summary") or None,
                    content=_feed_content(entry),
                )
            )
        if parsed.bozo and not linked:
            # feedparser's loose parser salvages fragments of broken XML; if not one of them is
            # a linked entry, the feed is broken, and saying "0 statements, fine" would hide it
            raise DiscoveryError(f"malformed feed: {parsed.get('bozo_exception')}; no linked entries")
        return Discovery(items=items, warnings=warnings)


def _entry_title(entry: Any) -> str | None:
    """The entry's title as plain text: feedparser keeps markup and entities in titles it
    judges HTML ("Sudan &amp; Chad", "<b>Update</b>"), which must not reach a statement's
    title (nor, escaped once more, a Slack message)."""
    title = str(entry.get("title") or "").strip()
    if not title:
        return None
    detail = entry.get("title_detail") or {}
    if "html" in str(detail.get("type") or ""):
        from lxml import html as lxml_html

        with contextlib.suppress(ValueError, TypeError):  # not parseable: keep it as it came
            title = lxml_html.fragment_fromstring(title, create_parent="span").text_content()
    return " ".join(title.split()) or None


# WordPress appends "The post <title> appeared first on <site>." to every feed body.
_WP_FOOTER = re.compile(r"^The post .+ appeared first on .+\.$")


def _feed_content(entry: Any) -> str | None:
    """The full text a feed entry carries (RSS ``content:encoded``, Atom ``content``), as plain
    normalised text without WordPress's footer; None when the entry has only a summary.

    Kept on the item so that a check or a fallback can use the publisher's own full text."""
    from lxml import html as lxml_html

    from scrapers.extract import normalise_text, text_with_breaks

    for part in entry.get("content") or []:
        value = str(part.get("value") or "").strip()
        if not value:
            continue
        if "html" in str(part.get("type") or "html"):
            try:
                value = text_with_breaks(lxml_html.fragment_fromstring(value, create_parent="div"))
            except (ValueError, TypeError):
                continue
        paragraphs = [p for p in normalise_text(value).split("\n\n") if not _WP_FOOTER.match(p)]
        return "\n\n".join(paragraphs) or None
    return None


def _maybe_gunzip(body: bytes) -> bytes:
    """Sitemaps are often served as ``.xml.gz`` files (not Content-Encoding): inflate, bounded."""
    if body[:2] != b"\x1f\x8b":
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, SITEMAP_MAX_BYTES + 1)
    except zlib.error as exc:
        raise DiscoveryError(f"corrupt gzip sitemap: {exc}") from exc
    if len(out) > SITEMAP_MAX_BYTES:
        raise DiscoveryError(f"gzip sitemap inflates past {SITEMAP_MAX_BYTES} bytes; refused")
    if not inflater.eof:
        # zlib waits for more input rather than failing: a cut-off or garbled stream would
        # otherwise pass as an empty (or partial) sitemap
        raise DiscoveryError("corrupt gzip sitemap: the compressed stream ends early")
    return out


class SitemapDiscoverer(Discoverer):
    """XML sitemaps and sitemap indexes; ``lastmod`` dates items and ranks index children."""

    kind = "sitemap"

    def parse(self, body: bytes, base_url: str) -> Discovery:
        from lxml import etree

        body = _maybe_gunzip(body)
        try:
            root = etree.fromstring(
                body,
                parser=etree.XMLParser(
                    resolve_entities=False, no_network=True, huge_tree=False, recover=False
                ),
            )
        except etree.XMLSyntaxError as exc:
            raise DiscoveryError(f"malformed sitemap XML: {exc}") from exc
        tag = etree.QName(root).localname
        if tag not in {"urlset", "sitemapindex"}:
            raise DiscoveryError(f"not a sitemap: root element <{tag}>")
        items: list[Item] = []
        children: list[Page] = []
        for node in root:
            if not isinstance(node.tag, str):
                continue
            loc = lastmod = published = title = None
            for child in node.iter():
                if not isinstance(child.tag, str):
                    continue
                name = etree.QName(child).localname
                if name == "loc" and loc is None:
                    loc = (child.text or "").strip()
                elif name == "lastmod":
                    lastmod = parse_date((child.text or "").strip())
                elif name == "publication_date":  # Google News sitemap extension
                    published = parse_date((child.text or "").strip())
                elif name == "title" and title is None:
                    title = (child.text or "").strip() or None
            if not loc:
                continue
            url = urljoin(base_url, loc)
            if tag == "sitemapindex":
                children.append(Page(url, lastmod))
            elif self.accepts(url):
                items.append(
                    Item(url=url, title=title, published_at=published, lang=self.lang, lastmod=lastmod)
                )
        oldest = datetime.min.replace(tzinfo=UTC)
        items.sort(key=lambda i: i.lastmod or i.published_at or oldest, reverse=True)
        children.sort(key=lambda p: p.lastmod or oldest, reverse=True)
        return Discovery(items=items, next_pages=children)


# Where sites put the "next page" link when they do not say rel=next (Drupal, WordPress).
NEXT_SELECTORS = (
    "a[rel~=next]",
    "link[rel~=next]",
    "li.pager__item--next a",
    "li.pager-next a",
    "a.next.page-numbers",
    "a.wp-block-query-pagination-next",
    ".post-paginationNext a",
)


class ListingDiscoverer(Discoverer):
    """An HTML listing page: links chosen by URL pattern first, CSS selector as refinement.

    Markup changes often, URL schemes rarely do, so the pattern is the contract and the
    selector (``link_selector``) only narrows the candidates; when the selector stops
    matching (a redesign), the pattern alone still finds the statements and a warning says
    so. ``next_selector`` (or rel=next, or a common pager) finds the next page for backfill.
    """

    kind = "listing"

    def parse(self, body: bytes, base_url: str) -> Discovery:
        from scrapers.extract import css, parse_html

        root = parse_html(body)
        warnings: list[str] = []
        selector = self.config.get("link_selector")
        anchors: list[Any] = []
        if selector:
            anchors = [a for a in css(selector)(root) if a.tag == "a" or a.find(".//a") is not None]
            anchors = [a if a.tag == "a" else a.find(".//a") for a in anchors]
            if not anchors:
                warnings.append(f"link_selector {selector!r} matched nothing; fell back to the URL pattern")
        if not anchors:
            anchors = list(root.iter("a"))
        base_host = urlsplit(base_url).hostname
        allowed = {h.lower() for h in self.config.get("allowed_hosts") or []}
        base_key = canonical_url(base_url)
        links = _Links(self, base_url)
        found: dict[str, Item] = {}  # canonical URL -> item, in document order
        for anchor in anchors:
            href = (anchor.get("href") or "").strip()
            if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
                continue
            url = links.join(href)
            host = urlsplit(url).hostname
            if not url.startswith(("http://", "https://")) or (host != base_host and host not in allowed):
                continue
            if not self.accepts(url):
                continue
            key = links.canonical(url)
            if key == base_key:
                continue
            title = " ".join(anchor.text_content().split()) or anchor.get("title") or None
            known = found.get(key)
            if known is not None:
                # teasers often link twice: an empty image or overlay link first (Amnesty's
                # a.floating-anchor), then the headline; the headline names the statement
                if known.title is None and title:
                    found[key] = replace(known, title=title)
                continue
            found[key] = Item(
                url=url, title=title, published_at=self._date_near(anchor, key, links), lang=self.lang
            )
        items = list(found.values())
        return Discovery(items=items, next_pages=self._next_pages(root, base_url), warnings=warnings)

    def _date_near(self, anchor: Any, key: str, links: _Links) -> datetime | None:
        """The date printed in the teaser that holds the link (``<time>``, or a date-classed
        element such as WordPress's ``post-byline``), never a neighbouring teaser's."""
        from scrapers.extract import DATE_CLASS

        node = anchor
        for _ in range(4):  # the teaser that holds the link: a few levels up at most
            node = node.getparent()
            if node is None:
                return None
            if self._holds_other_statements(node, key, links):
                return None  # climbed past the teaser into the list of teasers
            time = next(node.iterdescendants("time"), None)
            if time is not None:
                return parse_date(time.get("datetime") or time.text_content())
            for el in node.iter():
                if isinstance(el.tag, str) and DATE_CLASS.search(el.get("class") or ""):
                    when = parse_date(el.get("datetime") or el.get("content") or el.text_content())
                    if when is not None:
                        return when
        return None

    def _holds_other_statements(self, node: Any, key: str, links: _Links) -> bool:
        if self.pattern is None:
            return False  # without a pattern every link looks like a statement: cannot tell
        for a in node.iter("a"):
            other = links.statement_key(a.get("href"))
            if other is not None and other != key:
                return True
        return False

    def _next_pages(self, root: Any, base_url: str) -> list[Page]:
        from scrapers.extract import css

        selectors = [self.config["next_selector"]] if self.config.get("next_selector") else []
        for selector in [*selectors, *NEXT_SELECTORS]:
            for node in css(selector)(root):
                href = node.get("href")
                if href and not href.startswith("#"):
                    url = urljoin(base_url, href.strip())
                    if canonical_url(url) != canonical_url(base_url):
                        return [Page(url)]
        return []


class _Links:
    """One listing page's links, each resolved once: a teaser's date is looked for a few
    levels up from its link, and each level asks whether it holds other statements' links
    (a page of 50 teasers asked that of its links some 2,500 times)."""

    def __init__(self, discoverer: Discoverer, base_url: str) -> None:
        self.discoverer = discoverer
        self.base_url = base_url
        self._joined: dict[str, str] = {}
        self._canonical: dict[str, str] = {}
        self._statement: dict[str | None, str | None] = {}

    def join(self, href: str) -> str:
        url = self._joined.get(href)
        if url is None:
            url = self._joined[href] = urljoin(self.base_url, href)
        return url

    def canonical(self, url: str) -> str:
        key = self._canonical.get(url)
        if key is None:
            key = self._canonical[url] = canonical_url(url)  # a ValueError goes to the caller
        return key

    def statement_key(self, raw: str | None) -> str | None:
        """The canonical URL of a link's href if it is a statement of the source, else None."""
        if raw in self._statement:
            return self._statement[raw]
        key = None
        href = (raw or "").strip()
        if href and not href.startswith(("#", "mailto:", "javascript:", "tel:")):
            url = self.join(href)
            if url.startswith(("http://", "https://")) and self.discoverer.accepts(url):
                with contextlib.suppress(ValueError):
                    key = self.canonical(url)
        self._statement[raw] = key
        return key


class PageDiscoverer(Discoverer):
    """A single watched page: the source URL is itself the statement (urlwatch's job)."""

    kind = "page"

    def parse(self, body: bytes, base_url: str) -> Discovery:
        return Discovery(items=[Item(url=base_url, lang=self.lang)])

"""Extraction: from a fetched statement page (HTML or PDF), its title, date, language and text.

One lxml parse per page (BeautifulSoup costs 25 times as much on a 20 KB page). The main
text comes from, in order:

1. the source's ``content_selector`` (CSS), where the generic extractor is known to be wrong;
2. the page's own semantic container (the one ``<article>``, ``<main>``, ``role=main``), with
   page chrome (navigation, share bars, related links, link-dense blocks) removed;
3. trafilatura, for pages without such a container;
4. the paragraphs of the body, so that a page never silently becomes empty text.

Bytes are decoded once, here: byte-order mark, then the declared charset (unless it is the
commonest lie, latin-1 or cp1252 on UTF-8 bytes), then the document's own ``<meta charset>``,
then UTF-8 if valid, then detection.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
import threading
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html

from scrapers.dates import date_in_text, parse_date
from scrapers.lang import detect_language, normalise_code

_WS = re.compile(r"[ \t\f\v\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]+")
# the characters _WS collapses, for counting them without the regex (a test keeps them equal)
_WS_CHARS = " \t\f\v\u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200C))) + "\u202f\u205f\u3000"
# _WS.sub(" ", text), faster: a lone space is left alone instead of replaced by itself (most
# matches of _WS in running text are the single spaces between words). Written to begin with a
# character class, so that the regex engine skips ahead to the next whitespace character in C
# (an alternation in front of it tried both branches at every position: twice as slow)
_WS_OTHER = r"[\t\f\v\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]"  # the space aside
_WS_COLLAPSE = re.compile(rf"{_WS.pattern[:-1]}(?:{_WS.pattern}|(?<={_WS_OTHER}))")
# the whitespace characters that are not ASCII (none of them in most paragraphs)
_WS_NOT_ASCII = re.compile(r"[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]")


def collapse_ws(text: str) -> str:
    """``_WS.sub(" ", text)``: each run of whitespace other than line breaks becomes one space.

    Most paragraphs have nothing to collapse; an ASCII one (``isascii`` is free) is checked
    for it with four substring searches instead of a regex pass."""
    if text.isascii() and "  " not in text and "\t" not in text and "\f" not in text and "\v" not in text:
        return text
    return _WS_COLLAPSE.sub(" ", text)


def non_ws_length(text: str) -> int:
    """How many characters of ``text`` are not whitespace as ``_WS`` sees it (line breaks count)."""
    ascii_ws = text.count(" ") + text.count("\t") + text.count("\f") + text.count("\v")
    if text.isascii() or not _WS_NOT_ASCII.search(text):
        return len(text) - ascii_ws
    return len(text) - ascii_ws - len(_WS_NOT_ASCII.findall(text))


_SOURCE_BREAKS = re.compile(r"[\r\n]+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_SINGLE_BYTE_LIES = {"iso8859-1", "cp1252", "ascii"}  # codecs.lookup() names

# Never part of the main text.
DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "iframe",
    "form",
    "button",
    "select",
    "nav",
    "aside",
    "footer",
    "header",
    "menu",
    "dialog",
    "object",
    "embed",
)
# Page chrome recognised by class or id (generic path only: a configured selector is trusted).
CHROME = re.compile(
    r"(^|[\s_-])(share|sharing|social|related|breadcrumbs?|cookie|newsletter|subscribe|sidebar|"
    r"comments?|promo|pager|pagination|skip-link|visually-hidden|sr-only|print-only|tags?|"
    r"tag-block|toolbar|language-switcher|menu|navigation)($|[\s_-])",
    re.IGNORECASE,
)
# Elements that hold a page's date (and are metadata, not text): matched on the class.
DATE_CLASS = re.compile(
    r"(^|[\s_-])(date|dated|dateline|date-display-single|pubdate|published|post-date|byline|post-byline)"
    r"($|[\s_-])",
    re.IGNORECASE,
)
BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "table",
        "tr",
        "td",
        "th",
        "dd",
        "dt",
        "dl",
        "section",
        "article",
        "main",
        "figure",
        "figcaption",
        "address",
        "hr",
        "br",
    ]
)
_PARA_TAGS = frozenset(
    ["p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "td", "dd", "dt", "figcaption", "address"]
)
DATE_META = (
    ("property", "article:published_time"),
    ("property", "og:published_time"),
    ("name", "article:published_time"),
    ("itemprop", "datePublished"),
    ("name", "dcterms.date"),
    ("name", "dcterms.issued"),
    ("name", "DC.date.issued"),
    ("name", "dc.date"),
    ("name", "date"),
    ("name", "citation_publication_date"),
    ("name", "parsely-pub-date"),
    ("name", "sailthru.date"),
)


@dataclass(frozen=True)
class Extracted:
    title: str | None
    text: str
    published_at: datetime | None
    lang: str | None
    canonical_url: str | None = None
    method: str = "main"  # selector | main | trafilatura | fallback | pdf


class ExtractionError(ValueError):
    """The page has no main text we can use; the message says what was found instead."""

    kind = "no_text"


def normalise_text(text: str) -> str:
    """The canonical form a version is compared in: NFC, one space, paragraphs by blank lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for block in text.split("\n"):
        block = collapse_ws(block).strip()
        if block and any(ch.isalnum() for ch in block):  # a lone "|" or "•" is layout, not text
            out.append(block)
    return "\n\n".join(out)


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p]


# -- decoding ----------------------------------------------------------------------------
def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None


def _decodes(body: bytes, codec: str) -> bool:
    try:
        body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def choose_encoding(body: bytes, declared: str | None = None) -> str:
    """The codec to read ``body`` with; survives missing and wrong charset labels."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return codec
    is_utf8 = _decodes(body, "utf-8")
    has_multibyte = is_utf8 and not body.isascii()
    for label in (declared, _meta_charset(body)):
        codec = _codec(label)
        if codec is None:
            continue
        if codec in _SINGLE_BYTE_LIES and has_multibyte:
            return "utf-8"  # a latin-1/cp1252 label on UTF-8 bytes: the commonest lie
        if codec == "iso8859-1":
            codec = "cp1252"  # what browsers do: cp1252 is a superset with curly quotes
        if codec == "utf-8" and not is_utf8:
            continue  # labelled UTF-8 but is not: look further
        if _decodes(body, codec):
            return codec
    if is_utf8:
        return "utf-8"
    if _reads_as_western(body):
        return "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    return best.encoding if best is not None else "cp1252"


# What cp1252 bytes of English, French or Spanish decode to beyond ASCII: accented letters,
# typographic quotes and dashes, the euro sign, ordinals, inverted marks, the no-break space.
_WESTERN = frozenset(
    "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿŒœŸ«»‘’‚“”„–—…•€°·ªº¡¿§©®™\u00a0"
)


def _reads_as_western(body: bytes) -> bool:
    """Do these non-UTF-8 bytes read as Western European text in cp1252?

    Bytes that are not UTF-8 and carry no usable label are, on the sites we watch (English,
    French, Spanish), almost always cp1252, the WHATWG fallback for those locales. A
    statistical detector guesses wrong on a page of French: cp1250 turns "à" into "ŕ". So
    cp1252 is chosen whenever every non-ASCII character it yields is one those languages use;
    anything else (Latin-2, Cyrillic, Arabic code pages) still goes to detection.
    """
    try:
        text = body.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return all(ch in _WESTERN for ch in text if ord(ch) > 127)


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


def decode_html(body: bytes, declared_charset: str | None = None) -> str:
    return body.decode(choose_encoding(body, declared_charset), "replace")


_parsers = threading.local()
# Every element an lxml.html element class, chosen in C: lxml.html's own parser asks a Python
# method which class each element gets (form, input, label... have their own), once per element
# the code touches. Nothing here uses those special classes, only HtmlElement's methods.
_LOOKUP = etree.ElementDefaultClassLookup(
    element=lxml_html.HtmlElement,
    comment=lxml_html.HtmlComment,
    pi=lxml_html.HtmlProcessingInstruction,
    entity=lxml_html.HtmlEntity,
)


def _html_parser(encoding: str) -> etree.HTMLParser:
    parser = etree.HTMLParser(encoding=encoding, remove_comments=True, remove_pis=True, no_network=True)
    parser.set_element_class_lookup(_LOOKUP)
    return parser


def parse_html(body: bytes, declared_charset: str | None = None) -> Any:
    """One lxml document from bytes, decoded by ``choose_encoding``."""
    codec = choose_encoding(body, declared_charset)
    cache: dict[str, etree.HTMLParser] = getattr(_parsers, "cache", None) or {}
    _parsers.cache = cache
    parser = cache.get(codec)
    if parser is None:
        parser = cache[codec] = _html_parser(codec)
    try:
        root = lxml_html.document_fromstring(body, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        try:
            root = lxml_html.document_fromstring(
                body.decode(codec, "replace").encode("utf-8"), parser=_html_parser("utf-8")
            )
        except (etree.ParserError, ValueError):
            raise ExtractionError(f"not an HTML document: {exc}") from exc
    return root


@lru_cache(maxsize=256)
def css(selector: str) -> Any:
    """A compiled CSS selector (compiling one to XPath costs more than running it); raises
    cssselect's errors for an invalid one."""
    from lxml.cssselect import CSSSelector

    return CSSSelector(selector, translator="html")


# -- helpers on the tree -----------------------------------------------------------------
def _text(el: Any) -> str:
    return collapse_ws(el.text_content()).strip()


def _select(root: Any, selector: str) -> list[Any]:
    try:
        return list(css(selector)(root))
    except Exception as exc:  # cssselect.SelectorError and friends: a registry mistake
        raise ExtractionError(f"invalid CSS selector {selector!r}: {exc}") from exc


def _drop(el: Any) -> None:
    """Remove ``el`` but keep its tail text in the document."""
    el.drop_tree()


def text_with_breaks(el: Any) -> str:
    """The text of ``el`` with paragraph breaks at block elements and line breaks at ``<br>``.

    Line breaks *in the source* are whitespace, as a browser renders them: a CMS that wraps a
    paragraph's HTML at 80 columns must not turn one paragraph into five (every version would
    differ from the next by its wrapping, and deltas would list half-sentences). Only
    ``<pre>`` keeps its lines.
    """
    parts: list[str] = []

    def walk(node: Any, pre: bool) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        block = tag in BLOCK_TAGS
        pre = pre or tag == "pre"
        if block:
            parts.append("\n")
        if node.text and tag != "br":
            parts.append(node.text if pre else _unbroken(node.text))
        for child in node:
            walk(child, pre)
            if child.tail:
                parts.append(child.tail if pre else _unbroken(child.tail))
        if block:
            parts.append("\n")

    walk(el, False)
    return "".join(parts)


def _unbroken(text: str) -> str:
    """Source line breaks as spaces (most text nodes have none: no regex pass for them)."""
    if "\n" in text or "\r" in text:
        return _SOURCE_BREAKS.sub(" ", text)
    return text


def _link_density(el: Any, total: int) -> float:
    if total == 0:
        return 1.0
    linked = sum(len(_text(a)) for a in el.iter("a"))
    return linked / total


_MARKED = etree.XPath("descendant-or-self::*[@class or @id or @role]")
_CLASSED = etree.XPath("descendant-or-self::*[@class]")


def _strip_chrome(container: Any) -> None:
    """Generic path: remove share bars, tag lists, related links, the title heading."""
    # (the elements are chosen by XPath, in C: only those with the attributes looked at)
    for el in _MARKED(container):
        if el.getparent() is None:
            continue
        marker = f"{el.get('class', '')} {el.get('id', '')} {el.get('role', '')}"
        if marker.strip() and CHROME.search(marker):
            _drop(el)
    for h1 in list(container.iter("h1")):
        _drop(h1)  # the title, stored apart from the text
    for el in _CLASSED(container):
        # a dateline or byline block that is only a date (and a type label): metadata, kept
        # apart from the text; a date *inside* a paragraph ("GENEVA (18 November 2026) –") stays
        if el.getparent() is None or el.tag == "p":
            continue
        if DATE_CLASS.search(el.get("class") or ""):
            text = _text(el)
            if len(text) <= 120 and (parse_date(text) or date_in_text(text)):
                _drop(el)
    # link-dense short blocks: "Read more", lists of related stories, tag clouds
    for el in list(container.iter(*_PARA_TAGS, "ul", "ol", "div")):
        if el.getparent() is None or next(el.iter("a"), None) is None:
            continue  # no link in it: its link density is 0, it stays
        raw = el.text_content()
        if len(raw) >= 400 and non_ws_length(raw) >= 400:
            continue  # at least 400 characters stay whatever the spacing: not short (no regex pass)
        text = collapse_ws(raw).strip()
        if text and len(text) < 400 and _link_density(el, len(text)) > 0.5:
            _drop(el)


def _semantic_container(root: Any) -> Any | None:
    articles = [a for a in root.iter("article")]
    if len(articles) == 1:
        return articles[0]
    mains = root.xpath("//main|//*[@role='main']")
    if mains:
        inner = [a for a in articles if any(m in a.iterancestors() for m in mains[:1])]
        if len(inner) == 1:
            return inner[0]
        return mains[0]
    if articles:
        return max(articles, key=lambda a: len(_text(a)))
    return None


# -- metadata ----------------------------------------------------------------------------
def _meta(root: Any, attr: str, value: str) -> str | None:
    for el in root.iter("meta"):
        if (el.get(attr) or "").lower() == value.lower() and el.get("content"):
            return str(el.get("content")).strip()
    return None


def _json_ld_dates(root: Any) -> datetime | None:
    for script in root.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except (ValueError, TypeError):
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                found = parse_date(node.get("datePublished"))
                if found:
                    return found
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return None


def _title(root: Any, config: dict[str, Any]) -> str | None:
    if config.get("title_selector"):
        nodes = _select(root, config["title_selector"])
        if nodes and _text(nodes[0]):
            return _text(nodes[0])
    og = _meta(root, "property", "og:title")
    if og:
        return og
    h1 = root.find(".//h1")
    if h1 is not None and _text(h1):
        return _text(h1)
    title = root.find(".//title")
    if title is not None and _text(title):
        return re.split(r"\s+[|–—-]\s+[^|–—-]+$", _text(title))[0] or _text(title)
    return None


def _published(root: Any, config: dict[str, Any]) -> datetime | None:
    if config.get("date_selector"):
        for node in _select(root, config["date_selector"])[:1]:
            found = parse_date(node.get("datetime") or node.get("content") or _text(node))
            if found:
                return found
    for attr, name in DATE_META:
        value = _meta(root, attr, name)
        found = parse_date(value) if value else None
        if found:
            return found
    found = _json_ld_dates(root)
    if found:
        return found
    for node in root.xpath("//time[@datetime]")[:3]:
        found = parse_date(node.get("datetime"))
        if found:
            return found
    for node in _date_elements(root)[:3]:
        found = parse_date(node.get("content") or node.get("datetime") or _text(node))
        if found:
            return found
    return None


def _date_elements(root: Any) -> list[Any]:
    """Short elements classed as a date (Drupal's ``date-display-single``, WordPress's
    ``post-date``, bylines), outside page chrome: many statement pages print their date only
    there, with no meta tag and no ``<time>``."""
    found = []
    for el in root.iter():
        if not isinstance(el.tag, str) or not DATE_CLASS.search(el.get("class") or ""):
            continue
        if len(_text(el)) > 120 or any(
            a.tag in {"nav", "aside", "footer"} or CHROME.search(a.get("class") or "")
            for a in el.iterancestors()
        ):
            continue
        found.append(el)
    return found


def _canonical(root: Any, url: str) -> str | None:
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            href = urljoin(url, str(link.get("href")).strip())
            return href if href.startswith(("http://", "https://")) else None
    return None


def _declared_lang(root: Any) -> str | None:
    return (
        normalise_code(root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang"))
        or normalise_code(_meta(root, "http-equiv", "content-language"))
        or normalise_code(_meta(root, "property", "og:locale"))
    )


# -- the extractors ----------------------------------------------------------------------
def extract_html(
    body: bytes, url: str, *, charset: str | None = None, config: dict[str, Any] | None = None
) -> Extracted:
    config = config or {}
    root = parse_html(body, charset)
    title = _title(root, config)
    published = _published(root, config)
    canonical = _canonical(root, url)
    declared_lang = _declared_lang(root)
    for el in list(root.iter(*DROP_TAGS)):
        if el.getparent() is not None:
            _drop(el)
    if config.get("drop_selector"):
        for el in _select(root, config["drop_selector"]):
            if el.getparent() is not None:
                _drop(el)

    text, method = "", "selector"
    if config.get("content_selector"):
        nodes = _select(root, config["content_selector"])
        text = normalise_text("\n\n".join(text_with_breaks(n) for n in nodes))
    min_chars = int(config.get("min_text_chars", 40))
    if len(text) < min_chars:
        container = _semantic_container(root)
        if container is not None:
            _strip_chrome(container)
            text, method = normalise_text(text_with_breaks(container)), "main"
    if len(text) < min_chars:
        text, method = normalise_text(_trafilatura_text(body, charset, url)), "trafilatura"
    if len(text) < min_chars:
        text, method = normalise_text(_paragraph_fallback(root)), "fallback"
    if len(text) < min_chars:
        raise ExtractionError(
            f"no main text found (only {len(text)} characters after removing page chrome; need {min_chars})"
        )
    if published is None:
        published = date_in_text(text[:600])
    lang = detect_language(declared_lang, url, text, config.get("lang"))
    return Extracted(
        title=title, text=text, published_at=published, lang=lang, canonical_url=canonical, method=method
    )


def _trafilatura_text(body: bytes, charset: str | None, url: str) -> str:
    import trafilatura

    try:
        result = trafilatura.extract(
            decode_html(body, charset),
            url=url,
            include_comments=False,
            include_tables=True,
            favor_precision=True,
            deduplicate=False,
        )
    except Exception:
        return ""
    return result or ""


def _paragraph_fallback(root: Any) -> str:
    body = root.find(".//body")
    scope = body if body is not None else root
    return "\n\n".join(_text(p) for p in scope.iter("p") if _text(p))


def extract_pdf(body: bytes, url: str, *, lang: str | None = None) -> Extracted:
    """Text of a PDF statement (many UN documents are PDFs)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(body))
        pages = [page.extract_text() or "" for page in reader.pages[:200]]
        meta = reader.metadata
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ExtractionError(f"unreadable PDF: {exc}") from exc
    raw = "\n\n".join(pages)
    # PDF text breaks lines mid-sentence and hyphenates words; rejoin both.
    raw = re.sub(r"(\w)-\n(\w)", r"\1\2", raw)
    raw = re.sub(r"(?<![.!?:;])\n(?!\n)", " ", raw)
    text = normalise_text(raw)
    if len(text) < 40:
        raise ExtractionError("PDF has no extractable text (a scanned image?)")
    title = str(meta.title).strip() if meta is not None and meta.title else None
    published = None
    if meta is not None:
        try:
            created = meta.creation_date
        except Exception:
            created = None
        if created is not None:
            published = created.astimezone(UTC) if created.tzinfo else created.replace(tzinfo=UTC)
    return Extracted(
        title=title or text.split("\n\n", 1)[0][:200],
        text=text,
        published_at=published or date_in_text(text[:600]),
        lang=detect_language(None, url, text, lang),
        method="pdf",
    )


def extract(
    body: bytes,
    url: str,
    *,
    content_type: str = "",
    charset: str | None = None,
    config: dict[str, Any] | None = None,
) -> Extracted:
    """Dispatch on content type (or magic bytes) to the HTML or PDF extractor."""
    if content_type == "application/pdf" or body[:5] == b"%PDF-":
        return extract_pdf(body, url, lang=(config or {}).get("lang"))
    if content_type and not _readable_as_html(content_type):
        # a Word file, an image, a video linked as a statement: say what it was, instead of
        # "no main text" after parsing binary bytes as HTML
        raise ExtractionError(f"unsupported content type {content_type} (only HTML and PDF are read)")
    if not body.strip():
        raise ExtractionError("empty response body")
    return extract_html(body, url, charset=charset, config=config)


def _readable_as_html(content_type: str) -> bool:
    """Text and markup types, and the type-less octet-stream that misconfigured servers send."""
    return (
        content_type.startswith("text/")
        or content_type in {"application/octet-stream", "application/xml", "application/x-httpd-php"}
        or content_type.endswith(("+xml", "/xhtml"))
    )


def with_lang(extracted: Extracted, lang: str | None) -> Extracted:
    return replace(extracted, lang=extracted.lang or lang)

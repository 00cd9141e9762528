"""Extraction: from a fetched statement page (HTML or PDF), its title, date, language and text.

Per-source CSS selectors win where they are configured (the generic extractor is wrong on
some sites); otherwise trafilatura finds the main text, with a paragraph fallback so that a
page never silently becomes empty text. Bytes are decoded by this module, once: declared
charset, then the document's own declaration, then detection.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from scrapers.discover import _parse_date

LANG_IN_PATH = re.compile(r"/(en|fr|es)(?:/|$|-)")
_WS = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


@dataclass(frozen=True)
class Extracted:
    title: str | None
    text: str
    published_at: datetime | None
    lang: str | None


class ExtractionError(ValueError):
    """The page has no main text we can use; the message says what was found instead."""


def normalise_text(text: str) -> str:
    """The canonical form a version is compared in: NFC, one space, paragraphs by blank lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = []
    for block in re.split(r"\n\s*\n|\n", text):
        block = _WS.sub(" ", block).strip()
        if block:
            paragraphs.append(block)
    return "\n\n".join(paragraphs)


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p]


def decode_html(body: bytes, declared_charset: str | None = None) -> str:
    """Decode HTML bytes; survives missing and wrong charset labels."""
    from bs4.dammit import UnicodeDammit

    candidates = [c for c in (declared_charset,) if c]
    if declared_charset:
        try:
            text = body.decode(declared_charset)
            # A label of latin-1/cp1252 on UTF-8 bytes is the commonest lie: prefer UTF-8
            # when the bytes are valid UTF-8 and contain multi-byte sequences.
            if declared_charset.lower().replace("_", "-") in {
                "iso-8859-1",
                "latin-1",
                "windows-1252",
                "cp1252",
            }:
                try:
                    utf8 = body.decode("utf-8")
                    if utf8 != text:
                        return utf8
                except UnicodeDecodeError:
                    pass
            return text
        except (UnicodeDecodeError, LookupError):
            candidates = []
    dammit = UnicodeDammit(body, known_definite_encodings=candidates, is_html=True)
    if dammit.unicode_markup is not None:
        return dammit.unicode_markup
    return body.decode("utf-8", "replace")


def guess_lang(declared: str | None, url: str, fallback: str | None = None) -> str | None:
    if declared:
        code = declared.strip().lower().replace("_", "-").split("-")[0]
        if re.fullmatch(r"[a-z]{2,3}", code):
            return code
    match = LANG_IN_PATH.search(urlsplit(url).path)
    if match:
        return match.group(1)
    return fallback


def extract_html(
    body: bytes, url: str, *, charset: str | None = None, config: dict[str, Any] | None = None
) -> Extracted:
    config = config or {}
    html = decode_html(body, charset)
    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "noscript", "template", "svg"]):
        tag.decompose()

    html_tag = soup.find("html")
    lang = guess_lang(html_tag.get("lang") if html_tag else None, url, config.get("lang"))

    title = None
    if config.get("title_selector"):
        node = soup.select_one(config["title_selector"])
        title = node.get_text(" ", strip=True) if node else None
    if not title:
        meta = soup.find("meta", property="og:title")
        title = (meta.get("content") if meta else None) or None
    if not title:
        h1 = soup.find("h1")
        title = h1.get_text(" ", strip=True) if h1 else None
    if not title and soup.title:
        title = soup.title.get_text(" ", strip=True)

    published = None
    if config.get("date_selector"):
        node = soup.select_one(config["date_selector"])
        if node is not None:
            published = _parse_date(node.get("datetime") or node.get("content") or node.get_text(strip=True))
    if published is None:
        for attrs in (
            {"property": "article:published_time"},
            {"name": "date"},
            {"name": "dcterms.date"},
            {"itemprop": "datePublished"},
        ):
            meta = soup.find("meta", attrs=attrs)
            if meta and meta.get("content"):
                published = _parse_date(meta["content"])
                if published:
                    break
    if published is None:
        time_tag = soup.find("time", datetime=True)
        if time_tag is not None:
            published = _parse_date(time_tag["datetime"])

    text = ""
    if config.get("content_selector"):
        nodes = soup.select(config["content_selector"])
        if nodes:
            text = "\n\n".join(_block_text(node) for node in nodes)
    if not text.strip():
        text = _trafilatura_text(html, url)
    if not text.strip():
        text = _paragraph_fallback(soup)
    text = normalise_text(text)
    if len(text) < int(config.get("min_text_chars", 40)):
        raise ExtractionError(f"no main text found (only {len(text)} characters after removing page chrome)")
    return Extracted(title=title, text=text, published_at=published, lang=lang)


def _block_text(node: Any) -> str:
    blocks = node.find_all(["p", "li", "h2", "h3", "h4", "blockquote"])
    if not blocks:
        return str(node.get_text("\n", strip=True))
    return "\n\n".join(b.get_text(" ", strip=True) for b in blocks if b.get_text(strip=True))


def _trafilatura_text(html: str, url: str) -> str:
    import trafilatura

    try:
        result = trafilatura.extract(
            html,
            url=url,
            include_comments=False,
            include_tables=True,
            favor_precision=True,
            deduplicate=False,
        )
    except Exception:
        return ""
    return result or ""


def _paragraph_fallback(soup: BeautifulSoup) -> str:
    main = soup.find("main") or soup.find("article") or soup.body or soup
    for tag in main.find_all(["nav", "header", "footer", "aside", "form"]):
        tag.decompose()
    return _block_text(main)


def extract_pdf(body: bytes, url: str, *, lang: str | None = None) -> Extracted:
    """Text of a PDF statement (many UN documents are PDFs)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(body))
        pages = [page.extract_text() or "" for page in reader.pages[:200]]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ExtractionError(f"unreadable PDF: {exc}") from exc
    raw = "\n\n".join(pages)
    # PDF text breaks lines mid-sentence and hyphenates words; rejoin both.
    raw = re.sub(r"(\w)-\n(\w)", r"\1\2", raw)
    raw = re.sub(r"(?<![.!?:;])\n(?!\n)", " ", raw)
    text = normalise_text(raw)
    if len(text) < 40:
        raise ExtractionError("PDF has no extractable text (scanned image?)")
    title = None
    meta = reader.metadata
    if meta is not None and meta.title:
        title = str(meta.title)
    published = None
    if meta is not None:
        try:
            created = meta.creation_date
            published = (
                created.astimezone(UTC)
                if created and created.tzinfo
                else (created.replace(tzinfo=UTC) if created else None)
            )
        except Exception:
            published = None
    return Extracted(
        title=title or text.split("\n\n", 1)[0][:200],
        text=text,
        published_at=published,
        lang=guess_lang(None, url, lang),
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
    return extract_html(body, url, charset=charset, config=config)

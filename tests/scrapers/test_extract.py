"""Extraction on pages written after the real sites' structure (``tests/scrapers/pages.py``).

No saved page exists for un.org/sg, press.un.org, news.un.org or ohchr.org, so these pages
follow what public scrapers select on, with the chrome every one of those sites has. Each is
read with its source's extraction settings exactly as ``scrapers/sources.yaml`` ships them,
and again with none (the generic path a new source starts on).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from scrapers.extract import ExtractionError, choose_encoding, extract, normalise_text
from scrapers.registry import load_registry
from tests.scrapers import faultsite, pages

SPECS = {s.key: s for s in load_registry()}
PARAS = pages.SG_MESSAGE
BODY = "\n\n".join(PARAS)
# page chrome of every builder: menus, language switcher, share bars, related stories, footers
CHROME = [
    "About",
    "Contact",
    "Français",
    "Español",
    "Facebook",
    "Twitter",
    "Share",
    "Related",
    "Another story",
    "Earlier release",
    "Copyright",
    "Privacy notice",
    "United Nations\n",
]


def config(key: str) -> dict[str, Any]:
    """A built-in source's config as the pass gives it to the extractor (its one language as hint)."""
    spec = SPECS[key]
    cfg = dict(spec.config)
    if len(spec.languages) == 1:
        cfg.setdefault("lang", spec.languages[0])
    return cfg


def no_chrome(text: str) -> None:
    leaked = [c for c in CHROME if c in text + "\n"]
    assert not leaked, f"page chrome leaked into the text: {leaked}"


# -- the UN sites, with the shipped settings ----------------------------------------------------
def test_un_news_story() -> None:
    html = pages.un_news_story("Civic space is shrinking, UN rights chief warns", PARAS)
    got = extract(
        html.encode(),
        "https://news.un.org/en/story/2026/11/1160001",
        config=config("un-news-human-rights-en"),
    )
    assert got.title == "Civic space is shrinking, UN rights chief warns"
    assert got.text == BODY, "exactly the story: no photo caption, no embedded tweet"
    assert got.published_at == datetime(2026, 11, 18, 10, tzinfo=UTC)
    assert got.lang == "en" and got.method == "selector"
    assert got.canonical_url == "https://news.un.org/en/story/2026/11/1160001"


def test_press_release() -> None:
    html = pages.press_release("Secretary-General condemns reprisals", [pages.PRESS_INTRO, *PARAS])
    got = extract(
        html.encode(), "https://press.un.org/en/2026/sgsm22345.doc.htm", config=config("un-press-releases")
    )
    assert got.title == "Secretary-General condemns reprisals"
    assert got.text == "\n\n".join([pages.PRESS_INTRO, *PARAS])
    for chrome in ("SG/SM/22345", "Press Release", "For information media"):
        assert chrome not in got.text
    assert got.published_at == datetime(2026, 11, 18, 12, tzinfo=UTC)
    assert got.lang == "en"


def test_sg_statement_without_selectors() -> None:
    """un.org/sg has no selectors in the registry: the generic path must find text and date."""
    html = pages.sg_statement("Secretary-General's message on reprisals", PARAS, date="2026-11-18")
    got = extract(
        html.encode(),
        "https://www.un.org/sg/en/content/sg/statement/2026-11-18/secretary-generals-message",
        config=config("un-sg-statements"),
    )
    assert "content_selector" not in SPECS["un-sg-statements"].config
    assert got.title == "Secretary-General's message on reprisals"
    assert got.text == BODY, "the date line and the share bar are not text"
    assert got.published_at == datetime(2026, 11, 18, tzinfo=UTC), "the date printed in the dated field"
    assert got.method == "main"


def test_ohchr_press_release_dated_by_its_dateline() -> None:
    paragraphs = ["GENEVA (18 November 2026) – " + PARAS[0], *PARAS[1:]]
    html = pages.ohchr_press_release("Civic space must be protected, says High Commissioner", paragraphs)
    got = extract(
        html.encode(),
        "https://www.ohchr.org/en/press-releases/2026/11/civic-space-must-be-protected",
        config=config("ohchr-press-releases"),
    )
    assert got.title == "Civic space must be protected, says High Commissioner"
    assert got.text == "\n\n".join(paragraphs), "no share bar, tags or related content"
    assert got.published_at == datetime(2026, 11, 18, tzinfo=UTC)


@pytest.mark.parametrize(
    "html",
    [
        pages.un_news_story("Story", PARAS),
        pages.press_release("Release", PARAS),
        pages.sg_statement("Statement", PARAS),
        pages.ohchr_press_release("Release", PARAS),
        pages.un_news_story("Histoire", pages.FR_STORY, lang="fr"),
    ],
    ids=["un-news", "press", "sg", "ohchr", "un-news-fr"],
)
def test_generic_path_keeps_menus_share_bars_related_and_footers_out(html: str) -> None:
    """Without any selector (a new source), the page chrome still never reaches the text."""
    got = extract(html.encode(), "https://example.org/en/statement/1")
    no_chrome(got.text)
    assert got.method == "main"
    first = pages.FR_STORY[0] if "Histoire" in html else PARAS[0]
    assert first in got.text


def test_selector_that_stopped_matching_falls_back_to_the_generic_path() -> None:
    """A redesign renamed the body class: the text is still found, without the chrome."""
    html = pages.un_news_story("Story", PARAS).replace("field--type-text-long", "story-body")
    got = extract(
        html.encode(), "https://news.un.org/en/story/2026/11/1", config=config("un-news-human-rights-en")
    )
    assert got.method == "main"
    for para in PARAS:
        assert para in got.text
    no_chrome(got.text)
    assert "Embedded tweet" not in got.text, "the source's drop_selector still applies"


# -- French and Spanish ------------------------------------------------------------------------
def test_french_un_news_story() -> None:
    html = pages.un_news_story("Espace civique : le Haut-Commissaire s’inquiète", pages.FR_STORY, lang="fr")
    got = extract(
        html.encode(),
        "https://news.un.org/fr/story/2026/11/1160001",
        config=config("un-news-human-rights-fr"),
    )
    assert got.lang == "fr"
    assert got.text == "\n\n".join(pages.FR_STORY)
    assert got.title == "Espace civique : le Haut-Commissaire s’inquiète"


def test_spanish_page_dated_only_by_its_dateline() -> None:
    html = pages.un_news_story_es_dateline(
        "Defensores: el Secretario General pide protección", pages.ES_STORY
    )
    got = extract(
        html.encode(),
        "https://news.un.org/es/story/2026/03/1160002",
        config=config("un-news-human-rights-es"),
    )
    assert got.lang == "es"
    assert got.published_at == datetime(2026, 3, 3, tzinfo=UTC), "3 de marzo de 2026"
    assert got.text == "\n\n".join(pages.ES_STORY)


def test_french_text_under_an_english_template_is_french() -> None:
    """Site templates often say lang="en" on every language edition; the words decide."""
    html = pages.ohchr_press_release("Espace civique", pages.FR_STORY, lang="en")
    got = extract(html.encode(), "https://www.ohchr.org/en/press-releases/2026/11/espace-civique")
    assert got.lang == "fr"


# -- no text, PDF, charsets --------------------------------------------------------------------
def test_page_without_main_text_is_a_clear_error() -> None:
    shell = (
        f'<html lang="en"><head><title>Loading</title></head><body>{pages.CHROME_TOP}'
        f'<div id="app"></div><script>boot()</script>{pages.CHROME_BOTTOM}</body></html>'
    )
    with pytest.raises(ExtractionError, match="no main text found"):
        extract(
            shell.encode(), "https://news.un.org/en/story/2026/11/1", config=config("un-news-human-rights-en")
        )
    with pytest.raises(ExtractionError, match="empty response body"):
        extract(b"  \n", "https://news.un.org/en/story/2026/11/1")


def test_pdf_statement() -> None:
    body = faultsite.pdf(
        [
            "Déclaration du Secrétaire général sur l’espace civique,",
            "publiée à New York le 18 novembre 2026. Le Secrétaire général appelle",
            "tous les États à protéger les défenseurs des droits humains.",
        ],
        title="Déclaration sur l’espace civique",
    )
    got = extract(body, "https://www.un.org/sg/fr/content/sg/statement/2026-11-18/declaration.pdf")
    assert got.method == "pdf"
    assert got.title == "Déclaration sur l’espace civique"
    assert got.text == (
        "Déclaration du Secrétaire général sur l’espace civique, publiée à New York le 18 novembre 2026. "
        "Le Secrétaire général appelle tous les États à protéger les défenseurs des droits humains."
    ), "lines of one paragraph are joined"
    assert got.lang == "fr"
    assert got.published_at == datetime(2026, 11, 18, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "content_type",
    ["application/vnd.openxmlformats-officedocument.wordprocessingml.document", "image/jpeg", "video/mp4"],
)
def test_other_documents_are_a_clear_error(content_type: str) -> None:
    with pytest.raises(ExtractionError, match=f"unsupported content type {content_type}"):
        extract(b"PK\x03\x04" + bytes(range(256)) * 8, "https://www.ohchr.org/x", content_type=content_type)


@pytest.mark.parametrize(
    "content_type", ["text/html", "application/xhtml+xml", "application/octet-stream", ""]
)
def test_html_under_any_plausible_type_is_read(content_type: str) -> None:
    html = pages.sg_statement("Statement", PARAS)
    assert extract(html.encode(), "https://www.un.org/sg/en/x", content_type=content_type).text == BODY


def test_broken_pdf_is_a_clear_error() -> None:
    with pytest.raises(ExtractionError, match="unreadable PDF"):
        extract(b"%PDF-1.4\n garbage", "https://www.un.org/x.pdf", content_type="application/pdf")


FR_SENTENCE = "Le Haut-Commissaire a déclaré : « L’espace civique se rétrécit » à Genève — et ailleurs."


@pytest.mark.parametrize(
    ("body", "declared", "codec"),
    [
        (FR_SENTENCE.encode("utf-8"), "iso-8859-1", "utf-8"),  # latin-1 label, UTF-8 bytes
        (FR_SENTENCE.encode("utf-8"), "windows-1252", "utf-8"),
        (FR_SENTENCE.encode("cp1252"), "utf-8", "cp1252"),  # UTF-8 label, cp1252 bytes
        (FR_SENTENCE.encode("cp1252"), None, "cp1252"),  # no label at all
        (FR_SENTENCE.encode("cp1252"), "iso-8859-1", "cp1252"),  # latin-1 means cp1252 (WHATWG)
        (FR_SENTENCE.encode("utf-8"), None, "utf-8"),
        ("\ufeff".encode() + FR_SENTENCE.encode("utf-8"), "iso-8859-1", "utf-8"),  # a BOM wins
        ("Привет, мир! Права человека для всех.".encode("cp1251"), "windows-1251", "cp1251"),
    ],
)
def test_choose_encoding(body: bytes, declared: str | None, codec: str) -> None:
    assert choose_encoding(body, declared) == codec


@pytest.mark.parametrize(
    ("encoding", "header"),
    [("utf-8", "iso-8859-1"), ("cp1252", "utf-8"), ("cp1252", None), ("utf-8", None)],
)
def test_mislabelled_pages_read_as_their_text(encoding: str, header: str | None) -> None:
    html = pages.ohchr_press_release("Déclaration « espace civique »", pages.FR_STORY, lang="fr")
    got = extract(html.encode(encoding), "https://www.ohchr.org/fr/press-releases/2026/11/x", charset=header)
    assert got.title == "Déclaration « espace civique »"
    assert got.text == "\n\n".join(pages.FR_STORY)


def test_normalise_text_makes_whitespace_and_layout_one() -> None:
    assert normalise_text("  a\u00a0 b \r\n\r\n\t c  \n|\n•\n") == "a b\n\nc"
    assert normalise_text("Cafe\u0301") == "Café", "NFC"

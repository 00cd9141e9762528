"""Dates as UN and NGO sites write them, and the language of a statement."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from scrapers.dates import date_in_text, parse_date
from scrapers.lang import detect_language, guess_from_text, lang_from_url, normalise_code
from tests.scrapers import pages


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-18", datetime(2026, 11, 18, tzinfo=UTC)),
        ("2026-11-18T09:00:00Z", datetime(2026, 11, 18, 9, tzinfo=UTC)),
        ("2026-07-16T18:01:00-0400", datetime(2026, 7, 16, 22, 1, tzinfo=UTC)),  # HRW's datetime attribute
        ("2026-11-18 09:00:00+0100", datetime(2026, 11, 18, 8, tzinfo=UTC)),
        ("Thu, 16 Jul 2026 18:01:00 -0400", datetime(2026, 7, 16, 22, 1, tzinfo=UTC)),  # RSS pubDate
        ("Wed, 18 Nov 2026 10:00:00 GMT", datetime(2026, 11, 18, 10, tzinfo=UTC)),
        ("July 16, 2026 6:01PM EDT", datetime(2026, 7, 16, tzinfo=UTC)),  # HRW's printed dateline
        ("December 19, 2019", datetime(2019, 12, 19, tzinfo=UTC)),  # Amnesty's byline
        ("March 3rd, 2026", datetime(2026, 3, 3, tzinfo=UTC)),
        ("Wednesday, 18 November 2026", datetime(2026, 11, 18, tzinfo=UTC)),  # Drupal date field
        ("18 novembre 2026", datetime(2026, 11, 18, tzinfo=UTC)),
        ("1er décembre 2026", datetime(2026, 12, 1, tzinfo=UTC)),
        ("3 de marzo de 2026", datetime(2026, 3, 3, tzinfo=UTC)),
        ("1 sept. 2026", datetime(2026, 9, 1, tzinfo=UTC)),
        (time.struct_time((2026, 11, 18, 10, 0, 0, 2, 322, 0)), datetime(2026, 11, 18, 10, tzinfo=UTC)),
        (datetime(2026, 11, 18), datetime(2026, 11, 18, tzinfo=UTC)),
    ],
)
def test_dates_sites_write(value: object, expected: datetime) -> None:
    got = parse_date(value)
    assert got == expected
    assert got is not None and got.tzinfo is not None


@pytest.mark.parametrize(
    "value", [None, "", "not-a-real-date", "2026", "0000-00-00", "1066-10-14", "18/11/2026"]
)
def test_not_dates(value: object) -> None:
    """Junk, bare years, out-of-range years and ambiguous d/m orders are no date at all."""
    assert parse_date(value) is None


def test_first_dateline_in_text() -> None:
    assert date_in_text(
        "GENEVA (18 November 2026) – The High Commissioner, on 2 December 2026..."
    ) == datetime(2026, 11, 18, tzinfo=UTC)
    assert date_in_text("NUEVA YORK, 3 de marzo de 2026 – El Secretario General") == datetime(
        2026, 3, 3, tzinfo=UTC
    )
    assert date_in_text("No date here, only 42 cases in 2026.") is None
    assert parse_date("2026-11-18T09:00:00+05:30") == datetime(
        2026, 11, 18, 9, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )


FR = " ".join(pages.FR_STORY)
ES = " ".join(pages.ES_STORY)
EN = " ".join(pages.SG_MESSAGE)


@pytest.mark.parametrize(
    ("declared", "url", "text", "hint", "expected"),
    [
        ("en", "https://x.org/p", EN, None, "en"),
        ("en-GB", "https://x.org/p", EN, None, "en"),
        ("en", "https://x.org/p", FR, None, "fr"),  # a template's lang="en" on a French page
        (None, "https://news.un.org/es/story/2026/11/1", ES, None, "es"),
        (None, "https://news.un.org/fr/story/2026/11/1", ES, None, "es"),  # the words beat the path
        (None, "https://x.org/p", FR, None, "fr"),
        (None, "https://x.org/p", "Short.", "fr", "fr"),  # too short to judge: the source's hint
        ("ru", "https://x.org/p", "Коротко.", None, "ru"),  # declared, nothing to contradict it
        (None, "https://news.un.org/ar/story/2026/11/1", "قصير", None, "ar"),
    ],
)
def test_detect_language(declared: str | None, url: str, text: str, hint: str | None, expected: str) -> None:
    assert detect_language(declared, url, text, hint) == expected


def test_language_helpers() -> None:
    assert normalise_code("fr_FR") == "fr" and normalise_code("ES") == "es" and normalise_code("x1") is None
    assert lang_from_url("https://www.un.org/sg/fr/content/sg/statement/x") == "fr"
    assert lang_from_url("https://www.hrw.org/news/2026/07/16/x") is None
    guessed, share = guess_from_text(ES)
    assert guessed == "es" and share >= 0.6
    assert guess_from_text("too few words") == (None, 0.0)

"""Canonical URLs: every spelling of one statement's address is one key."""

from __future__ import annotations

import pytest

from scrapers.urls import canonical_url, clean_url, url_hash

STATEMENT = "https://www.ohchr.org/en/press-releases/2026/11/civic-space"


@pytest.mark.parametrize(
    "variant",
    [
        STATEMENT,
        STATEMENT + "/",
        STATEMENT + "#main-content",
        STATEMENT + "?utm_source=rss&utm_medium=feed&utm_campaign=hr",
        STATEMENT + "/?fbclid=abc123#x",
        STATEMENT.replace("https:", "http:"),
        STATEMENT.replace("https:", "HTTP:").replace("www.ohchr.org", "WWW.OHCHR.ORG"),
        STATEMENT.replace("www.ohchr.org", "www.ohchr.org:443"),
        STATEMENT.replace("/en/", "//en/"),
        "  " + STATEMENT + "?gclid=1&mc_cid=2&mc_eid=3&_hsenc=4&pk_campaign=5  ",
    ],
)
def test_variants_are_one_statement(variant: str) -> None:
    assert canonical_url(variant) == STATEMENT
    assert url_hash(variant) == url_hash(STATEMENT)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (STATEMENT, "https://ohchr.org/en/press-releases/2026/11/civic-space"),  # www kept: sites differ
        ("https://press.un.org/en/2026/sgsm1.doc.htm", "https://press.un.org/en/2026/sgsm2.doc.htm"),
        ("https://news.un.org/en/story?id=1", "https://news.un.org/en/story?id=2"),  # real parameters stay
        (STATEMENT, STATEMENT.replace("/en/", "/fr/")),
        (STATEMENT, STATEMENT.replace("civic-space", "Civic-Space")),  # paths are case-sensitive
    ],
)
def test_different_documents_stay_different(a: str, b: str) -> None:
    assert canonical_url(a) != canonical_url(b)


def test_query_parameters_sorted_and_blank_values_kept() -> None:
    assert canonical_url("https://a.org/p?b=2&a=1&utm_x=y&empty=") == "https://a.org/p?a=1&b=2&empty="


def test_clean_url_keeps_the_scheme_and_ports() -> None:
    assert clean_url("http://127.0.0.1:8080/news/x/?utm_source=a#f") == "http://127.0.0.1:8080/news/x"
    assert clean_url("https://a.org") == "https://a.org/"
    assert canonical_url("http://[::1]:80/x") == "https://[::1]/x"


@pytest.mark.parametrize("bad", ["ftp://a.org/x", "mailto:x@a.org", "/relative/path", "https:///nohost"])
def test_not_http_urls_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        canonical_url(bad)

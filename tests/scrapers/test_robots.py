"""robots.txt read the RFC 9309 way (the standard library's prefix matcher misses wildcards)."""

from __future__ import annotations

import pytest

from scrapers.robots import Robots, product_token

UA = "PledgeWatch/0.1 (+https://pledgewatch.org/bot)"


def test_product_token() -> None:
    assert product_token(UA) == "pledgewatch"
    assert product_token("") == "*"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/en/press-releases/2026/11/x", True),
        ("/print/en/press-releases/2026/11/x", False),
        ("/en/search?q=rights", False),
        ("/en/press-releases/2026/11/x?print=1", False),
        ("/files/report.pdf", False),
        ("/files/report.pdf?download=1", True),  # $ anchors the end
        ("/files/public/report.pdf", True),  # a longer allow wins over the shorter disallow
        ("/robots.txt", True),
    ],
)
def test_wildcards_anchors_and_longest_match(path: str, allowed: bool) -> None:
    robots = Robots.parse(
        """
        # comments and blank lines are ignored
        User-agent: *
        Disallow: /print/
        Disallow: /*?q=
        Disallow: /*print=1
        Disallow: /*.pdf$
        Allow: /files/public/
        """,
        UA,
    )
    assert robots.allows("https://www.example.org" + path) is allowed


def test_our_group_wins_over_star_and_groups_merge() -> None:
    text = """
    User-agent: *
    Disallow: /

    User-agent: otherbot
    User-agent: PledgeWatch
    Disallow: /private/
    Crawl-delay: 4

    User-agent: pledgewatch
    Disallow: /drafts/
    """
    robots = Robots.parse(text, UA)
    assert robots.allows("https://x.org/en/news")
    assert not robots.allows("https://x.org/private/a")
    assert not robots.allows("https://x.org/drafts/a")
    assert robots.crawl_delay == 4.0
    other = Robots.parse(text, "SomeoneElse/1.0")
    assert not other.allows("https://x.org/en/news")


def test_empty_disallow_allows_and_percent_encoding_is_compared_decoded() -> None:
    robots = Robots.parse("User-agent: *\nDisallow:\nDisallow: /caf%C3%A9/\n", UA)
    assert robots.allows("https://x.org/anything")
    assert not robots.allows("https://x.org/café/menu")
    assert not robots.allows("https://x.org/caf%C3%A9/menu")


def test_allow_wins_a_tie() -> None:
    robots = Robots.parse("User-agent: *\nDisallow: /page\nAllow: /page\n", UA)
    assert robots.allows("https://x.org/page")


def test_disallow_all_and_allow_all() -> None:
    assert not Robots.disallow_all().allows("https://x.org/a")
    assert Robots.allow_all().allows("https://x.org/a")

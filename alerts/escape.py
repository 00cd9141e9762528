"""Making scraped text safe for Slack mrkdwn.

Slack gives ``<...>`` a meaning (links, ``<!channel>``, ``<@U123>`` mentions) and ``&`` starts
an entity; escaping exactly these three characters turns any page content into plain text.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape_mrkdwn(text: str | None) -> str:
    if not text:
        return ""
    text = _CONTROL.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_url(url: str | None) -> str | None:
    """The URL if it may become a link: http(s), a host, and no characters that break ``<url|text>``."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    if any(c in url for c in '<>| \n\r\t"') or _CONTROL.search(url):
        return None
    return url.replace("&", "&amp;")


def link(url: str | None, label: str) -> str:
    """A Slack link when the URL is safe, else the escaped label alone."""
    safe = safe_url(url)
    text = escape_mrkdwn(label).replace("|", "\u2758")  # a pipe would end the label early
    return f"<{safe}|{text}>" if safe else text


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"

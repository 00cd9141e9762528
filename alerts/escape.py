"""Making scraped text safe for Slack mrkdwn.

Slack gives ``<...>`` a meaning (links, ``<!channel>``, ``<@U123>`` mentions) and ``&`` starts
an entity; escaping exactly these three characters turns any page content into plain text.
URLs are checked before they become links, because a link's target is the one place where
scraped text is not shown as it is.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MAX_URL = 2000  # longer targets are not links a monitor should follow from a chat message


def escape_mrkdwn(text: str | None) -> str:
    """Scraped text as Slack will show it, literally: no mention, no link, no entity."""
    if not text:
        return ""
    text = _CONTROL.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_url(url: str | None) -> str | None:
    """The URL, ready for ``<url|label>``, when it may become a link; else None.

    Only http(s) with a host; no user-info (``https://good.org@evil.example`` shows one host
    and opens another); no character that can end the link early (``|``, ``>``) or break it
    (spaces, quotes, control characters). Non-ASCII characters are percent-encoded.
    """
    if not url or len(url) > _MAX_URL:
        return None
    if any(c in url for c in '<>| "\\\n\r\t') or _CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not host or not port_ok:
        return None
    if "@" in parts.netloc:
        return None
    encoded = quote(url, safe="!#$%&'()*+,-./:;=?@[]~_")
    return encoded.replace("&", "&amp;")


def link(url: str | None, label: str | None) -> str:
    """A Slack link when the URL is safe, else the escaped label alone."""
    text = escape_mrkdwn(label or url or "").replace("|", "\u2758")  # a pipe would end the label early
    safe = safe_url(url)
    return f"<{safe}|{text}>" if safe else text


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"

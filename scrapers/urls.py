"""Canonical URLs, so that one statement is one row however it was linked."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, never a document.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ref_src",
        "cmpid",
        "s_cid",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "at_")


# A pass asks for the same URLs' identity many times (scheduling, fetch state, storing), and
# each answer is a parse, a query sort and a re-assembly: the answers are kept (pure functions
# of the string; an invalid URL raises every time).
_CACHE = 16384


@lru_cache(maxsize=_CACHE)
def canonical_url(url: str) -> str:
    """The identity of a URL: ``clean_url`` with http and https made one (always https)."""
    parts = urlsplit(clean_url(url))
    return urlunsplit(("https", parts.netloc, parts.path, parts.query, ""))


@lru_cache(maxsize=_CACHE)
def clean_url(url: str) -> str:
    """Normalise host, port, path and query of ``url``, keeping its scheme.

    - host lower-cased, ``www.`` kept (sites differ), default ports dropped
    - fragments and tracking parameters dropped, remaining parameters sorted
    - a trailing slash dropped except for the root path
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise ValueError(f"URL has no host: {url!r}")
    port = parts.port
    default_port = 443 if scheme == "https" else 80
    if port == default_port:
        port = None
    netloc = host if port is None else f"{host}:{port}"
    if ":" in host and not host.startswith("["):  # IPv6 literal
        netloc = f"[{host}]" if port is None else f"[{host}]:{port}"
    path = parts.path or "/"
    while "//" in path:
        path = path.replace("//", "/")
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    query.sort()
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


@lru_cache(maxsize=_CACHE)
def url_hash(url: str) -> str:
    """The key under which a canonical URL is stored (fixed width, index friendly)."""
    return hashlib.sha1(canonical_url(url).encode("utf-8")).hexdigest()


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()

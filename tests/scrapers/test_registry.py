"""The source registry: the shipped sources.yaml, user overrides, and validation at load time."""

from __future__ import annotations

import pathlib
import re
from typing import Any

import pytest
from sqlalchemy import select

from models import Source, session_scope
from scrapers.registry import RegistryError, load_registry, sync_sources
from tests.scrapers import passes as P

# What issue 3 asks the registry to cover, by the host each source polls.
REQUIRED_HOSTS = {
    "www.un.org",  # Secretary-General statements
    "press.un.org",  # press releases and meetings coverage
    "news.un.org",  # UN News human-rights topic feed
    "www.ohchr.org",
    "www.hrw.org",
    "www.amnesty.org",
    "www.globalr2p.org",
    "www.civicus.org",
    "www.fidh.org",
    "ishr.ch",
}


def test_shipped_registry_covers_the_issue_and_every_entry_is_complete() -> None:
    specs = load_registry()
    hosts = {re.sub(r"^https?://([^/]+)/.*$", r"\1", s.url) for s in specs}
    assert hosts >= REQUIRED_HOSTS, sorted(REQUIRED_HOSTS - hosts)
    news = {s.key: s for s in specs if "news.un.org" in s.url}
    assert {s.languages[0] for s in news.values()} == {"en", "fr", "es"}
    assert all("human-rights" in s.url for s in news.values())
    for spec in specs:
        assert spec.publisher and spec.kind in {"feed", "sitemap", "listing", "page"}, spec.key
        assert spec.languages and spec.poll_interval_minutes >= 1, spec.key
        pattern = re.compile(spec.config["pattern"])
        assert spec.config.get("example") and pattern.search(spec.config["example"]), spec.key
        assert spec.config.get("notes"), f"{spec.key}: say what discovery relies on"
        assert spec.allowed_hosts, spec.key


def test_user_file_overrides_key_by_key_and_adds_sources(tmp_path: pathlib.Path) -> None:
    user = P.write_registry(
        tmp_path / "mine.yaml",
        [
            {"key": "hrw-news", "enabled": False},
            {"key": "amnesty-news", "poll_interval_minutes": 240},
            {
                "key": "my-ngo",
                "publisher": "My NGO",
                "kind": "feed",
                "url": "https://ngo.example.org/feed.xml",
                "languages": ["fr"],
            },
        ],
    )
    specs = {s.key: s for s in load_registry(user)}
    assert specs["hrw-news"].enabled is False
    assert specs["hrw-news"].config["content_selector"] == "div.content-body", "the rest of the entry kept"
    assert specs["amnesty-news"].poll_interval_minutes == 240
    assert specs["my-ngo"].allowed_hosts == frozenset({"ngo.example.org"}), "defaults to the URL's host"
    with pytest.raises(RegistryError, match="source 'hrw-news': missing publisher, kind, url"):
        load_registry(user, include_builtin=False)  # an override of nothing is an error, named


BASE: dict[str, Any] = {
    "key": "x-source",
    "publisher": "X",
    "kind": "listing",
    "url": "https://x.example.org/news",
    "pattern": r"/news/\d+",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "carrier-pigeon"}, "unknown kind"),
        ({"pattern": None}, "needs a 'pattern'"),
        ({"pattern": "(unclosed"}, "invalid pattern"),
        ({"example": "https://x.example.org/about"}, "does not match pattern"),
        ({"link_selector": "h2 >> a["}, "is not valid CSS"),
        ({"url": "ftp://x.example.org/news"}, "not an absolute http(s) URL"),
        ({"allowed_hosts": ["other.example.org"]}, "outside allowed_hosts"),
        ({"languages": "en"}, "languages must be a list"),
        ({"poll_interval_minutes": 0}, "at least 1"),
        ({"colour": "blue"}, "unknown field(s) colour"),
        ({"key": "Bad Key"}, "lower-case letters"),
        ({"publisher": ""}, "missing publisher"),
    ],
)
def test_invalid_entries_fail_at_load_with_file_and_key_named(
    tmp_path: pathlib.Path, change: dict[str, Any], message: str
) -> None:
    entry = {**BASE, **change}
    path = P.write_registry(tmp_path / "bad.yaml", [{k: v for k, v in entry.items() if v is not None}])
    with pytest.raises(RegistryError, match=re.escape(message)):
        load_registry(path, include_builtin=False)


def test_sources_reaching_the_same_statements_must_extract_them_alike(tmp_path: pathlib.Path) -> None:
    """Otherwise every re-validation would store the other source's reading as a new version."""
    feed = {
        **BASE,
        "key": "x-feed",
        "kind": "feed",
        "url": "https://x.example.org/feed.xml",
        "example": "https://x.example.org/news/1",
        "content_selector": ".body",
    }
    path = P.write_registry(tmp_path / "pair.yaml", [BASE, feed])
    with pytest.raises(
        RegistryError, match=r"'x-feed' and 'x-source' reach the same statements .*content_selector"
    ):
        load_registry(path, include_builtin=False)
    aligned = P.write_registry(tmp_path / "aligned.yaml", [{**BASE, "content_selector": ".body"}, feed])
    assert len(load_registry(aligned, include_builtin=False)) == 2
    apart = P.write_registry(tmp_path / "apart.yaml", [{**BASE, "pattern": r"/other/\d+"}, feed])
    assert len(load_registry(apart, include_builtin=False)) == 2, "different statements may differ"


def test_unreadable_registry_files(tmp_path: pathlib.Path) -> None:
    bad_yaml = tmp_path / "broken.yaml"
    bad_yaml.write_text("sources: [\n")
    with pytest.raises(RegistryError, match="not valid YAML"):
        load_registry(bad_yaml, include_builtin=False)
    with pytest.raises(RegistryError, match="cannot read"):
        load_registry(tmp_path / "missing.yaml", include_builtin=False)
    no_list = tmp_path / "nolist.yaml"
    no_list.write_text("sources: {}\n")
    with pytest.raises(RegistryError, match="top-level 'sources:' list"):
        load_registry(no_list, include_builtin=False)


def test_sync_keeps_health_and_disables_what_left_the_registry(
    make_ctx: P.MakeCtx, tmp_path: pathlib.Path
) -> None:
    ctx = make_ctx()
    first = [
        s
        for s in load_registry(
            P.write_registry(tmp_path / "a.yaml", [BASE, {**BASE, "key": "y-source"}]), include_builtin=False
        )
    ]
    with session_scope(ctx.factory) as session:
        sync_sources(session, first, exclusive=True)
        row = session.scalars(select(Source).where(Source.key == "x-source")).one()
        row.consecutive_failures = 3
        row.last_error = "http: HTTP 500"
    changed = load_registry(
        P.write_registry(tmp_path / "b.yaml", [{**BASE, "poll_interval_minutes": 90}]), include_builtin=False
    )
    with session_scope(ctx.factory) as session:
        sync_sources(session, changed, exclusive=True)
    with session_scope(ctx.factory) as session:
        rows = {s.key: s for s in session.scalars(select(Source))}
        assert rows["x-source"].poll_interval_s == 90 * 60
        assert rows["x-source"].consecutive_failures == 3 and rows["x-source"].last_error == "http: HTTP 500"
        assert rows["y-source"].enabled is False, "disabled, never deleted"

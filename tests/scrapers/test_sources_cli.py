"""``pledgewatch sources list`` and ``pledgewatch sources check`` against a local site.

The commands run through typer's CliRunner with the same environment a user sets; passes
between them are real scrape passes on the same database.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from typer.testing import CliRunner

from models import Statement
from tests.scrapers import pages
from tests.scrapers import passes as P
from tests.support.site import LocalSite

STORY = pages.SG_MESSAGE


def _registry(site: LocalSite) -> list[dict[str, Any]]:
    site.add(
        "/feed.xml",
        pages.rss(
            [
                (site.url("/news/1"), "First", "Wed, 18 Nov 2026 10:00:00 GMT"),
                (site.url("/news/2"), "Second", "Tue, 17 Nov 2026 10:00:00 GMT"),
            ]
        ),
        content_type="application/rss+xml",
    )
    site.add("/news/1", pages.un_news_story("Civic space is shrinking", STORY))
    site.add("/news/2", pages.un_news_story("Reprisals must end", STORY[::-1]))
    site.add("/broken", "down", status=500)
    site.add("/empty", pages.drupal_listing([("/en/about", "About us", "2026-11-18T00:00:00Z")]))
    site.add("/robots.txt", "User-agent: *\nDisallow:\n", content_type="text/plain")
    common = {"publisher": "Test Office", "languages": ["en"], "pattern": r"/news/\d+"}
    return [
        {
            "key": "good-feed",
            "kind": "feed",
            "url": site.url("/feed.xml"),
            "poll_interval_minutes": 30,
            **common,
        },
        {"key": "broken-listing", "kind": "listing", "url": site.url("/broken"), **common},
        {"key": "empty-listing", "kind": "listing", "url": site.url("/empty"), **common},
        {"key": "switched-off", "kind": "feed", "url": site.url("/feed.xml"), "enabled": False, **common},
    ]


@pytest.fixture
def cli(db_url: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, fsite: LocalSite) -> Any:
    """Invoke ``pledgewatch`` with the test database and a registry of local sources."""
    import pipeline.commands  # noqa: F401  (registers the commands)
    from pipeline.cli import app

    registry = P.write_registry(tmp_path / "sources.yaml", _registry(fsite))
    for key, value in {
        "DATABASE_URL": db_url,
        "DATA_DIR": str(tmp_path),
        "SOURCES_FILE": str(registry),
        "BUILTIN_SOURCES": "false",
        "ALLOW_PRIVATE_ADDRESSES": "true",
        "MIN_DELAY_S": "0",
        "DELAY_JITTER_S": "0",
        "MAX_RETRIES": "0",
    }.items():
        monkeypatch.setenv(f"PLEDGEWATCH_{key}", value)
    monkeypatch.setenv("COLUMNS", "250")  # rich tables unabridged
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(app, list(args))

    return invoke


def _json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_sources_list_shows_health_before_and_after_a_pass(
    cli: Any, make_ctx: P.MakeCtx, tmp_path: pathlib.Path
) -> None:
    before = cli("sources", "list", "--json")
    assert before.exit_code == 0, before.output
    rows = {r["key"]: r for r in _json_lines(before.output)}
    assert set(rows) == {"good-feed", "broken-listing", "empty-listing", "switched-off"}
    good = rows["good-feed"]
    assert good["kind"] == "feed" and good["poll_interval_minutes"] == 30 and good["languages"] == ["en"]
    assert good["pattern"] == r"/news/\d+" and good["allowed_hosts"] == ["127.0.0.1"]
    assert (
        good["last_success_at"] is None and good["consecutive_failures"] == 0 and good["next_due_at"] is None
    )
    assert rows["switched-off"]["enabled"] is False

    ctx = make_ctx(sources_file=tmp_path / "sources.yaml", max_retries=0)
    P.scrape(ctx)
    P.scrape(ctx, keys=["broken-listing"])  # a second failure in a row

    after = cli("sources", "list", "--json")
    rows = {r["key"]: r for r in _json_lines(after.output)}
    good, broken, empty = rows["good-feed"], rows["broken-listing"], rows["empty-listing"]
    assert good["last_success_at"] and good["consecutive_failures"] == 0 and good["last_error"] is None
    assert good["next_due_at"] > good["last_success_at"]
    assert broken["consecutive_failures"] == 2 and broken["last_success_at"] is None
    assert broken["last_error"].startswith("http: HTTP 500") and broken["failing_since"]
    assert broken["next_due_at"] and broken["last_failure_at"]
    assert empty["consecutive_failures"] == 0 and empty["last_success_at"], (
        "an empty listing is not a failure"
    )
    assert rows["switched-off"]["last_success_at"] is None, "disabled sources are not polled"

    table = cli("sources", "list")
    assert table.exit_code == 0, table.output
    for column in ("key", "kind", "last success", "fails", "next due", "last error"):
        assert column in table.output
    cells = {
        key: [
            c.strip()
            for c in next(ln for ln in table.output.splitlines() if f" {key} " in ln).split("│")[1:-1]
        ]
        for key in ("good-feed", "broken-listing")
    }
    # key, publisher, kind, lang, every, on, last success, fails, next due, last error
    good_cells, broken_cells = cells["good-feed"], cells["broken-listing"]
    assert good_cells[6].endswith("s ago)") and good_cells[7] == "0" and good_cells[8].endswith("(in 29m)")
    assert good_cells[9] == ""
    assert broken_cells[6] == "-" and broken_cells[7] == "2" and broken_cells[8].endswith("(in 59m)")
    assert broken_cells[9].startswith("http: HTTP 500"), "backoff: twice the poll interval after two failures"
    off = next(ln for ln in table.output.splitlines() if "switched-off" in ln)
    assert " no " in off


def test_sources_check_json_verdicts_and_exit_status(
    cli: Any, make_ctx: P.MakeCtx, tmp_path: pathlib.Path
) -> None:
    result = cli("sources", "check", "--json", "--samples", "2")
    assert result.exit_code == 1, "a failed source makes the check fail (cron/CI friendly)"
    checks = {c["key"]: c for c in _json_lines(result.output)}
    assert set(checks) == {"good-feed", "broken-listing", "empty-listing"}, "enabled sources only"

    good = checks["good-feed"]
    assert good["verdict"] == "ok" and good["problem"] is None
    (entry,) = good["entries"]
    assert entry["status"] == 200 and entry["items"] == 2 and entry["bytes"] > 0 and entry["error"] is None
    assert [s["title"] for s in good["samples"]] == ["Civic space is shrinking", "Reprisals must end"]
    assert all(s["lang"] == "en" and s["chars"] > 100 and s["method"] == "main" for s in good["samples"])
    assert good["samples"][0]["published_at"].startswith("2026-11-18")
    assert good["first_items"][0].endswith("/news/1")

    broken = checks["broken-listing"]
    assert broken["verdict"] == "failed" and broken["problem"].startswith("http: HTTP 500")
    empty = checks["empty-listing"]
    assert empty["verdict"] == "empty" and "no statement links" in empty["problem"]

    ctx = make_ctx(sources_file=tmp_path / "sources.yaml")
    assert P.count(ctx, Statement) == 0, "a check stores nothing"


def test_sources_check_one_key_table_and_unknown_key(cli: Any, fsite: LocalSite) -> None:
    ok = cli("sources", "check", "good-feed")
    assert ok.exit_code == 0, ok.output
    line = next(ln for ln in ok.output.splitlines() if "good-feed" in ln)
    assert "ok" in line and "200" in line and "en, main" in line
    assert fsite.hits_for("/broken") == [], "only the named source is checked"

    disabled = cli("sources", "check", "--json", "switched-off")
    (check,) = _json_lines(disabled.output)
    assert check["key"] == "switched-off" and check["verdict"] == "ok", (
        "named explicitly, a disabled source is checked"
    )

    unknown = cli("sources", "check", "no-such-source")
    assert unknown.exit_code == 2 and "unknown source key" in unknown.output


def test_sources_check_reads_a_sitemap_index_down_to_its_newest_sitemap(
    cli: Any, fsite: LocalSite, tmp_path: pathlib.Path
) -> None:
    """An index lists sitemaps, not statements: the check reads the newest child before it
    would call the source empty (as OHCHR's Drupal sitemap is)."""
    fsite.add(
        "/sitemap.xml",
        pages.sitemap_index(
            [(fsite.url("/sitemap-old.xml"), "2026-01-01"), (fsite.url("/sitemap-new.xml"), "2026-11-18")]
        ),
        content_type="application/xml",
    )
    fsite.add(
        "/sitemap-new.xml",
        pages.sitemap([(fsite.url("/news/1"), "2026-11-18"), (fsite.url("/about"), "2026-11-18")]),
        content_type="application/xml",
    )
    P.write_registry(
        tmp_path / "sources.yaml",
        [
            {
                "key": "index",
                "publisher": "Test Office",
                "kind": "sitemap",
                "url": fsite.url("/sitemap.xml"),
                "languages": ["en"],
                "pattern": r"/news/\d+",
            }
        ],
    )
    result = cli("sources", "check", "--json", "index")
    assert result.exit_code == 0, result.output
    (check,) = _json_lines(result.output)
    assert check["verdict"] == "ok" and check["problem"] is None
    assert [(e["url"].rsplit("/", 1)[-1], e["items"], e["next_pages"]) for e in check["entries"]] == [
        ("sitemap.xml", 0, 2),
        ("sitemap-new.xml", 1, 0),
    ]
    assert check["samples"][0]["title"] == "Civic space is shrinking"
    assert fsite.hits_for("/sitemap-old.xml") == []

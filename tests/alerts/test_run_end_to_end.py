"""Every alert kind, end to end from ``pledgewatch run``'s pass, over simulated weeks.

A local site (a press listing and a news feed) is polled once a simulated day by the real
pass (``pipeline.run.run_pass``: scrape, match, quiet check and digests, source health and
delivery), with the clock moved by time-machine and a small catalog whose thresholds fit in
two weeks. The news feed breaks for eleven days and comes back; the press listing goes
silent past its commitment's threshold, then speaks again. Slack is the fake Web API, reached
by slack-sdk: every kind arrives, on its route, each dedup key exactly once.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from models import Alert, CommitmentStatus, session_scope
from pipeline.run import run_pass
from tests.support import pages

CATALOG = """
version: 2
defaults: {threshold: 4, quiet_days: 365, level_thresholds: {family: 4, top: 4, action: 4}}
weights: {s: 4, m: 2, w: 1}
entries:
  - id: c2a
    parent: null
    title: The Secretary-General's Call to Action for Human Rights
    cues: {en: {s: [Call to Action for Human Rights]}}
  - id: c2a.4
    parent: c2a
    title: Public participation and civic space
    quiet_days: 10
    cues: {en: {s: [civic space]}}
  - id: ngo
    parent: null
    title: The NGO coalition's priorities for the next Secretary-General
    cues: {en: {s: [next Secretary-General]}}
  - id: ngo.8
    parent: ngo
    title: Abolition of the death penalty
    quiet_days: 10
    cues: {en: {s: [death penalty, abolish the death penalty]}}
"""
FIRST_PASS = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)  # statements below were published on the 18th
DAY = timedelta(days=1)
NEWS_DOWN, NEWS_BACK, SPEAKS_AGAIN, LAST = 2, 13, 14, 15  # pass numbers (days after the first)

CIVIC = pages.statement(
    "Civic space must be protected, says High Commissioner",
    [
        "GENEVA (18 November 2026) – The High Commissioner warned that restrictions on civic space are spreading."
    ],
)
CIVIC_AGAIN = pages.statement(
    "Defenders speak up for civic space",
    ["GENEVA (3 December 2026) – Defenders met the High Commissioner to discuss civic space online."],
    date="2026-12-03T07:00:00Z",
)
DEATH_PENALTY = pages.statement(
    "States urged to abolish the death penalty",
    ["Amnesty International called on all States to abolish the death penalty without delay."],
)


def _listing(site, items: list[tuple[str, str, str]]) -> None:
    site.add("/en/press-releases", pages.listing(items))


def _publish(site) -> str:
    _listing(site, [("/en/press-releases/2026/11/civic-space", "Civic space", "2026-11-18T09:00:00Z")])
    site.add("/en/press-releases/2026/11/civic-space", CIVIC)
    _feed_up(site)
    site.add("/news/en/story/2026/11/1", DEATH_PENALTY)
    site.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    return pages.registry(
        [
            pages.press_source(site.base),
            pages.news_source(site.base, "en"),
        ]
    )


def _feed_up(site) -> None:
    site.add(
        "/news/rss.xml",
        pages.rss([(site.url("/news/en/story/2026/11/1"), "Death penalty", "Wed, 18 Nov 2026 10:00:00 GMT")]),
        content_type="application/rss+xml",
    )


def test_every_kind_reaches_slack_from_the_pass(make_ctx, site, slack, tmp_path):
    registry = tmp_path / "sources.yaml"
    registry.write_text(_publish(site))
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    ctx = make_ctx(
        sources_file=registry,
        catalog_file=catalog,
        slack_bot_token="xoxb-e2e",
        slack_api_url=slack.api_url,
        slack_routes={"ngo": "#ngo", "sources": "#sources"},
        max_retries=0,
        source_failure_threshold=3,
        source_reminder_hours=120.0,
        digest="weekly",
    )
    statuses: dict[int, dict[str, str]] = {}
    owed: dict[int, Counter[str]] = {}
    for day in range(LAST + 1):
        if day == NEWS_DOWN:
            site.add("/news/rss.xml", "Service Unavailable", status=503, content_type="text/plain")
        if day == NEWS_BACK:
            _feed_up(site)
        if day == SPEAKS_AGAIN:
            _listing(
                site,
                [
                    ("/en/press-releases/2026/12/civic-space-again", "Again", "2026-12-03T07:00:00Z"),
                    ("/en/press-releases/2026/11/civic-space", "Civic space", "2026-11-18T09:00:00Z"),
                ],
            )
            site.add("/en/press-releases/2026/12/civic-space-again", CIVIC_AGAIN)
        sent_before = len(slack.messages)
        # the clock stands still during a pass: every pass is at 08:00 sharp, so the edges (a
        # threshold of exactly 10 days, a reminder period of exactly 5) fall the same way each run
        with time_machine.travel(FIRST_PASS + day * DAY, tick=False):
            report = run_pass(ctx, force=True, echo=lambda *_: None)
        assert report.alerts.errors == [], f"day {day}: {report.alerts.errors}"
        assert report.alerts.retried == 0 and report.alerts.failed == 0
        owed[day] = Counter(key.split(":")[0] for m in slack.messages[sent_before:] for key in _keys(m))
        with session_scope(ctx.factory) as session:
            statuses[day] = {s.commitment_id: s.status for s in session.scalars(select(CommitmentStatus))}

    # what each day brought, kind by kind
    assert owed[0]["reference"] == 2, "both statements referred to their commitments on the first pass"
    assert owed[4]["source-failing"] == 1, "the third failure in a row alerts, once"
    assert sum(owed[d]["source-failing"] for d in range(NEWS_DOWN, 4)) == 0, "not before the threshold"
    assert owed[9]["source-failing"] == 1, "one reminder after the reminder period (120 h)"
    assert owed[10]["quiet"] == 1 and owed[10]["unknown"] == 1, (
        "c2a.4 quiet past 10 days with its source healthy; ngo.8 unknown, its source was failing"
    )
    assert owed[NEWS_BACK]["source-recovered"] == 1
    assert owed[SPEAKS_AGAIN]["reference"] == 1 and owed[SPEAKS_AGAIN]["resumed"] == 1
    assert [d for d in owed if owed[d]["digest"]] == [0, 4, 11], (
        "weekly: the last complete week's on the first pass, then on Mondays"
    )
    assert {owed[d]["digest"] for d in (0, 4, 11)} == {2}, "one per channel"
    totals = sum(owed.values(), Counter())
    assert totals == Counter(
        {
            "reference": 3,
            "source-failing": 2,
            "quiet": 1,
            "unknown": 1,
            "source-recovered": 1,
            "resumed": 1,
            "digest": 6,
        }
    ), totals

    # the statuses the monitors see followed the story
    assert statuses[9]["c2a.4"] == "active" and statuses[10]["c2a.4"] == "quiet"
    assert statuses[10]["ngo.8"] == "unknown" and statuses[LAST]["ngo.8"] == "unknown"
    assert statuses[SPEAKS_AGAIN]["c2a.4"] == "active" and statuses[LAST]["c2a"] == "active"

    # routes: ngo.* to #ngo, source health to #sources, the rest to the default channel
    by_kind_channel = {(_keys(m)[0].split(":")[0], m["channel"]) for m in slack.messages}
    assert ("source-failing", "#sources") in by_kind_channel
    assert ("source-recovered", "#sources") in by_kind_channel
    assert ("unknown", "#ngo") in by_kind_channel and ("quiet", "#pledgewatch") in by_kind_channel
    assert {c for k, c in by_kind_channel if k == "digest"} == {"#pledgewatch", "#ngo"}

    # exactly once: every outbox row sent, with the timestamp of the one message carrying its key
    posted = Counter(k for m in slack.messages for k in _keys(m))
    with session_scope(ctx.factory) as session:
        rows = list(session.scalars(select(Alert)))
    assert {r.status for r in rows} == {"sent"}
    assert posted == Counter({r.dedup_key: 1 for r in rows})
    ts = {k: m["ts"] for m in slack.messages for k in _keys(m)}
    assert all(r.slack_ts == ts[r.dedup_key] for r in rows)
    resumed = next(r for r in rows if r.kind == "resumed")
    assert resumed.payload["quiet_days"] == 14.92 and resumed.payload["previous_status"] == "quiet"


def _keys(message: dict) -> list[str]:
    return str(message["metadata"]["event_payload"]["dedup_keys"]).split()

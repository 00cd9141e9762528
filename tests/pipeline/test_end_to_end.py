"""One real pass end to end: a local site over HTTP, the matcher, the outbox, slack-sdk to a fake Slack."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from typer.testing import CliRunner

from models import Alert, Delta, Reference, Run, Source, SourcePoll, Statement, Version, session_scope
from pipeline.run import run_pass
from tests.support import pages

CIVIC = pages.statement(
    "Civic space must be protected, says High Commissioner",
    [
        "GENEVA (18 November 2026) – The High Commissioner warned that restrictions on civic space are spreading.",
        "Human rights defenders who cooperate with the United Nations face reprisals, she said.",
    ],
)
WEAPONS = pages.statement(
    "Secretary-General renews appeal on autonomous weapons",
    [
        "NEW YORK (17 November 2026) – The Secretary-General called for a treaty to prohibit lethal autonomous weapons.",
        "He said machines that take lives without human control are morally repugnant.",
    ],
)
BUDGET = pages.statement(
    "Budget committee concludes its session",
    ["The committee approved revised estimates for conference services and closed its session on time."],
)
PARITE = pages.statement(
    "Parité : l'ONU avance vers son objectif",
    [
        "Le rapport fait le point sur la parité entre les sexes dans le système des Nations Unies d'ici à 2028."
    ],
    lang="fr",
)


def _publish(site) -> str:
    site.add(
        "/en/press-releases",
        pages.listing(
            [
                (
                    "/en/press-releases/2026/11/civic-space?utm_source=rss",
                    "Civic space",
                    "2026-11-18T09:00:00Z",
                ),
                ("/en/press-releases/2026/11/weapons", "Weapons", "2026-11-17T09:00:00Z"),
                ("/en/press-releases/2026/11/budget", "Budget", "2026-11-16T09:00:00Z"),
            ]
        ),
    )
    site.add("/en/press-releases/2026/11/civic-space", CIVIC)
    site.add("/en/press-releases/2026/11/weapons", WEAPONS)
    site.add("/en/press-releases/2026/11/budget", BUDGET)
    site.add(
        "/news/rss.xml",
        pages.rss(
            [(site.url("/news/fr/story/2026/11/1"), "Parité", "Thu, 19 Nov 2026 10:00:00 GMT")], lang="fr"
        ),
        content_type="application/rss+xml",
    )
    site.add("/news/fr/story/2026/11/1", PARITE)
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    return pages.registry(
        [
            pages.press_source(site.base),
            pages.news_source(site.base, "fr"),
        ]
    )


def _count(ctx, model) -> int:
    with session_scope(ctx.factory) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_full_pass_then_idempotent_rerun(make_ctx, site, slack, tmp_path):
    registry = tmp_path / "sources.yaml"
    registry.write_text(_publish(site))
    ctx = make_ctx(sources_file=registry, slack_webhook_url=slack.webhook_url)

    first = run_pass(ctx, force=True, echo=lambda *_: None)
    assert first.scrape.counts()["sources_failed"] == 0
    assert first.scrape.new_statements == 4
    assert _count(ctx, Statement) == 4 and _count(ctx, Version) == 4
    with session_scope(ctx.factory) as session:
        refs = {
            (st.url.rsplit("/", 1)[-1], r.commitment_id)
            for r, st in session.execute(
                select(Reference, Statement).join(Statement, Reference.statement_id == Statement.id)
            )
        }
        urls = set(session.scalars(select(Statement.url)))
    assert ("civic-space", "c2a.4") in refs
    assert ("weapons", "c2a.7.4") in refs
    assert ("1", "c2a.3.7") in refs
    assert not any(name == "budget" for name, _ in refs)
    assert not any("utm_source" in u for u in urls), "tracking parameters are not part of a statement's URL"

    # Slack received one message per statement with references, through slack-sdk.
    assert len(slack.messages) == 3
    texts = " ".join(m["text"] for m in slack.messages)
    assert "c2a.7.4" in texts and "c2a.4" in texts and "c2a.3.7" in texts
    assert all(m["blocks"] for m in slack.messages)
    with session_scope(ctx.factory) as session:
        statuses = set(session.scalars(select(Alert.status)))
    assert statuses == {"sent"}

    # Second pass, nothing changed: nothing stored, nothing sent; pages revalidated with 304s.
    alerts_before = _count(ctx, Alert)
    second = run_pass(ctx, force=True, echo=lambda *_: None)
    assert second.scrape.new_versions == 0 and second.match.references == 0
    assert second.alerts.sent == 0
    assert len(slack.messages) == 3
    assert _count(ctx, Alert) == alerts_before and _count(ctx, Version) == 4
    listing_hits = site.hits_for("/en/press-releases")
    assert listing_hits[-1].headers.get("if-none-match"), "the listing is fetched conditionally"

    # Runs and polls are on record.
    with session_scope(ctx.factory) as session:
        kinds = [r.kind for r in session.scalars(select(Run).order_by(Run.id))]
        assert kinds.count("scrape") == 2 and kinds.count("match") == 2 and kinds.count("alert") == 2
        assert (
            session.scalar(select(func.count()).select_from(SourcePoll).where(SourcePoll.ok.is_(True))) == 4
        )


def test_changed_statement_gets_version_delta_and_only_new_alert(make_ctx, site, slack, tmp_path):
    registry = tmp_path / "sources.yaml"
    registry.write_text(_publish(site))
    ctx = make_ctx(sources_file=registry, slack_webhook_url=slack.webhook_url)
    run_pass(ctx, force=True, echo=lambda *_: None)
    sent_before = len(slack.messages)

    site.add(
        "/en/press-releases/2026/11/civic-space",
        pages.statement(
            "Civic space must be protected, says High Commissioner",
            [
                "GENEVA (18 November 2026) – The High Commissioner warned that restrictions on civic space are spreading.",
                "Human rights defenders who cooperate with the United Nations face reprisals, she said.",
                "She also called on all States to abolish the death penalty.",
            ],
        ),
    )
    with session_scope(ctx.factory) as session:  # make the known item due for re-validation
        from models import FetchState

        for state in session.scalars(select(FetchState)):
            state.last_fetched_at = None
    third = run_pass(ctx, force=True, echo=lambda *_: None)
    assert third.scrape.new_versions == 1 and third.scrape.new_statements == 0
    with session_scope(ctx.factory) as session:
        delta = session.scalars(select(Delta)).one()
        assert delta.added == ["She also called on all States to abolish the death penalty."]
        assert delta.removed == []
        v2 = session.scalars(select(Version).where(Version.seq == 2)).one()
        refs = {
            r.commitment_id: r
            for r in session.scalars(select(Reference).where(Reference.version_id == v2.id))
        }
    assert refs["ngo.8"].is_new is True
    assert refs["c2a.4"].is_new is False, "a reference the previous version already had does not alert again"
    assert len(slack.messages) == sent_before + 1
    assert "ngo.8" in slack.messages[-1]["text"] and "c2a.4" not in slack.messages[-1]["text"]


def test_web_api_delivery_carries_dedup_metadata(make_ctx, site, slack, tmp_path):
    registry = tmp_path / "sources.yaml"
    registry.write_text(_publish(site))
    ctx = make_ctx(
        sources_file=registry,
        slack_bot_token="xoxb-test-token",
        slack_api_url=slack.api_url,
        slack_channel="#hr",
    )
    run_pass(ctx, force=True, echo=lambda *_: None)
    assert len(slack.messages) == 3
    for message in slack.messages:
        assert message["channel"] == "#hr"
        assert message["metadata"]["event_payload"]["dedup_key"].startswith("reference:")
    auth = {r["headers"].get("Authorization") for r in slack.requests}
    assert auth == {"Bearer xoxb-test-token"}
    with session_scope(ctx.factory) as session:
        assert all(a.slack_ts for a in session.scalars(select(Alert)))


def test_dead_source_does_not_stop_the_others(make_ctx, site, slack, tmp_path):
    good = _publish(site)
    entries = __import__("yaml").safe_load(good)["sources"]
    entries.append(
        {"key": "dead-site", "publisher": "Dead", "kind": "feed", "url": "http://127.0.0.1:9/feed.xml"}
    )
    registry = tmp_path / "sources.yaml"
    registry.write_text(pages.registry(entries))
    ctx = make_ctx(sources_file=registry, slack_webhook_url=slack.webhook_url, max_retries=0)
    report = run_pass(ctx, force=True, echo=lambda *_: None)
    failed = {r.key: r.error for r in report.scrape.failed_sources}
    assert list(failed) == ["dead-site"] and "connection" in failed["dead-site"]
    assert report.scrape.new_statements == 4
    with session_scope(ctx.factory) as session:
        dead = session.scalars(select(Source).where(Source.key == "dead-site")).one()
        assert dead.consecutive_failures == 1 and dead.last_error and dead.next_due_at is not None


def test_cli_run_and_sources_list(db_url, site, slack, tmp_path, monkeypatch):
    import pipeline.commands  # noqa: F401
    from pipeline.cli import app

    registry = tmp_path / "sources.yaml"
    registry.write_text(_publish(site))
    for key, value in {
        "DATABASE_URL": db_url,
        "DATA_DIR": str(tmp_path),
        "SOURCES_FILE": str(registry),
        "BUILTIN_SOURCES": "false",
        "ALLOW_PRIVATE_ADDRESSES": "true",
        "MIN_DELAY_S": "0",
        "SLACK_WEBHOOK_URL": slack.webhook_url,
        "SLACK_MIN_INTERVAL_S": "0",
    }.items():
        monkeypatch.setenv(f"PLEDGEWATCH_{key}", value)
    runner = CliRunner()
    result = runner.invoke(app, ["run", "--force", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["scrape"]["new_statements"] == 4 and summary["alerts"]["sent"] >= 3
    again = runner.invoke(app, ["run", "--force", "--json"])
    assert json.loads(again.output.strip().splitlines()[-1])["alerts"]["sent"] == 0
    listed = runner.invoke(app, ["sources", "list", "--json"])
    assert listed.exit_code == 0
    rows = [json.loads(line) for line in listed.output.strip().splitlines()]
    assert {r["key"] for r in rows} == {"test-press", "test-news"}
    assert all(r["consecutive_failures"] == 0 and r["last_success_at"] for r in rows)

"""Delivery through slack-sdk to the fake Slack: routing, pace, 429, faults, crash window, permanent failures."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from alerts.deliver import deliver_pending, render_rows
from alerts.outbox import claim, requeue
from alerts.policy import AlertPolicy
from alerts.transport import ConsoleTransport, WebApiTransport, WebhookTransport
from models import Alert, session_scope, utcnow
from pipeline.alert import run_alerts
from tests.alerts.support import add_commitments, owe_statement
from tests.support.slack import Failure

POLICY = AlertPolicy(public_url="https://pw.example.org", min_interval_s=0.0, retry_base_s=0.0)


@pytest.fixture
def factory(make_ctx):
    factory = make_ctx().factory
    with session_scope(factory) as session:
        add_commitments(session)
    return factory


def _api(slack, timeout_s: float = 3.0) -> WebApiTransport:
    return WebApiTransport("xoxb-test", slack.api_url, timeout_s=timeout_s)


def _rows(factory) -> list[Alert]:
    with session_scope(factory) as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def _owe(factory, policy: AlertPolicy, n: int, commitments: list[str] | None = None) -> None:
    with session_scope(factory) as session:
        for i in range(n):
            owe_statement(session, policy, f"Statement {i}", commitments or ["c2a.4"])


def _drain(factory, transport, policy: AlertPolicy, rounds: int = 40) -> None:
    """Run the sender until nothing is owed any more (what the Airflow timer does)."""
    for _ in range(rounds):
        deliver_pending(factory, transport, policy)
        if all(r.status not in ("pending", "sending") for r in _rows(factory)):
            return
    raise AssertionError(f"still owed after {rounds} rounds: {[(r.id, r.status) for r in _rows(factory)]}")


def _exactly_once(factory, slack) -> None:
    rows = _rows(factory)
    posted = slack.keys_posted()
    assert sorted(posted) == sorted(r.dedup_key for r in rows), "every owed alert on Slack exactly once"
    assert {r.status for r in rows} == {"sent"}
    ts_by_key = {}
    for m in slack.messages:
        for key in m["metadata"]["event_payload"]["dedup_keys"].split():
            ts_by_key[key] = m["ts"]
    assert all(r.slack_ts == ts_by_key[r.dedup_key] for r in rows), "our record names the message"


def test_routing_by_id_parent_and_family(factory, slack):
    for name in ("#frontiers", "#strategy", "#ngo"):
        slack.add_channel(name)
    policy = AlertPolicy(
        routes={"c2a.7": "#frontiers", "c2a.4.2": "#strategy", "ngo": "#ngo"}, min_interval_s=0.0
    )
    with session_scope(factory) as session:
        owe_statement(session, policy, "Many things", ["c2a.4", "c2a.4.2", "c2a.7.4", "ngo.8", "c2a.3.7"])
    report = deliver_pending(factory, _api(slack), policy)
    assert report.sent == 5 and report.messages == 4
    by_channel = {m["channel"]: m for m in slack.messages}
    assert set(by_channel) == {"#pledgewatch", "#strategy", "#frontiers", "#ngo"}
    assert "c2a.7.4" in by_channel["#frontiers"]["text"]
    assert "ngo.8" in by_channel["#ngo"]["text"]
    both = by_channel["#pledgewatch"]
    assert "c2a.4" in both["text"] and "c2a.3.7" in both["text"], "one statement, one message per channel"
    assert both["metadata"]["event_payload"]["dedup_keys"].count("reference:") == 2


def test_webhook_routes_per_channel(factory, slack):
    policy = AlertPolicy(routes={"c2a.7": "#frontiers"}, min_interval_s=0.0)
    with session_scope(factory) as session:
        owe_statement(session, policy, "Weapons", ["c2a.7.4"])
        owe_statement(session, policy, "Civic", ["c2a.4"])
    transport = WebhookTransport(
        slack.webhook_url, {"#frontiers": slack.webhook_url + "-frontiers"}, timeout_s=3
    )
    report = deliver_pending(factory, transport, policy)
    assert report.sent == 2
    hooks = {m["hook"]: m["text"] for m in slack.messages}
    assert "c2a.7.4" in hooks["/services/T000/B000/XXXX-frontiers"]
    assert "c2a.4" in hooks["/services/T000/B000/XXXX"]


def test_429_retry_after_is_waited_out(factory, slack):
    _owe(factory, POLICY, 1)
    slack.fail_next(Failure(429, '{"ok": false, "error": "ratelimited"}', {"Retry-After": "1"}))
    started = time.monotonic()
    report = deliver_pending(factory, _api(slack), POLICY)
    assert time.monotonic() - started >= 1.0, "Retry-After honoured"
    assert report.sent == 1 and len(slack.messages) == 1
    (row,) = _rows(factory)
    assert row.attempts == 1, "a rate-limited request is not a failed attempt"


def test_long_retry_after_is_scheduled_and_holds_the_channel(factory, slack):
    slack.add_channel("#frontiers")
    policy = AlertPolicy(routes={"c2a.7": "#frontiers"}, min_interval_s=0.0)
    with session_scope(factory) as session:
        owe_statement(session, policy, "Civic 1", ["c2a.4"])
        owe_statement(session, policy, "Civic 2", ["c2a.4"])
        owe_statement(session, policy, "Weapons", ["c2a.7.4"])
    slack.fail_next(Failure(429, '{"ok": false, "error": "ratelimited"}', {"Retry-After": "120"}))
    report = deliver_pending(factory, _api(slack), policy)
    assert report.sent == 1 and report.retried == 2
    assert [m["channel"] for m in slack.messages] == ["#frontiers"], "the other channel still goes"
    posts = [r for r in slack.requests if r["path"] == "/api/chat.postMessage"]
    assert len(posts) == 2, "no further post to the rate-limited channel in this run"
    held = [r for r in _rows(factory) if r.status == "pending"]
    assert len(held) == 2
    assert all(r.next_attempt_at >= utcnow() + timedelta(seconds=110) for r in held)


def test_500s_and_timeouts_then_recovery_every_alert_exactly_once(factory, slack):
    for name in ("#frontiers", "#ngo"):
        slack.add_channel(name)
    policy = AlertPolicy(
        routes={"c2a.7": "#frontiers", "ngo": "#ngo"}, min_interval_s=0.0, retry_base_s=0.0, max_attempts=50
    )
    with session_scope(factory) as session:
        for i in range(4):
            owe_statement(session, policy, f"Civic {i}", ["c2a.4"])
            owe_statement(session, policy, f"Weapons {i}", ["c2a.7.4"])
            owe_statement(session, policy, f"Death penalty {i}", ["ngo.8", "c2a.4.2"])
    slack.fail_next(
        Failure(500),
        Failure(200, "{}", delay_s=1.0),  # timeout before Slack took it
        Failure(502, "<html>bad gateway</html>"),
        Failure(200, "{}", delay_s=1.0, deliver=True),  # timeout after Slack took it
        Failure(503),
        Failure(200, "{}", delay_s=1.0, deliver=True),
        Failure(500),
    )
    _drain(factory, _api(slack, timeout_s=0.4), policy)
    _exactly_once(factory, slack)
    assert len(slack.messages) == 16  # 4 x (civic, weapons, death penalty in #ngo, strategy in default)
    rows = _rows(factory)
    assert max(r.attempts for r in rows) >= 2


def test_timeout_after_delivery_is_found_not_reposted(factory, slack):
    _owe(factory, POLICY, 1)
    slack.fail_next(Failure(200, "{}", delay_s=1.0, deliver=True))
    first = deliver_pending(factory, _api(slack, timeout_s=0.4), POLICY)
    assert first.retried == 1 and len(slack.messages) == 1
    (row,) = _rows(factory)
    assert row.status == "pending" and row.posting_at is not None, "the doubt is on record"
    second = deliver_pending(factory, _api(slack), POLICY)
    assert second.found == 1 and second.messages == 0
    _exactly_once(factory, slack)


def test_crash_between_post_and_mark_is_found_by_a_new_sender(factory, slack):
    """The window itself, made deterministic: posted, then the sender died before marking."""
    _owe(factory, POLICY, 2)
    transport = _api(slack)
    with session_scope(factory) as session:
        _, rows = claim(session)
        for row in rows:
            row.posting_at = utcnow()
            row.attempts = 1
        session.commit()
        transport.post("#pledgewatch", render_rows(rows[:1]), [rows[0].dedup_key])  # only the first landed
        session.execute(update(Alert).values(claimed_at=utcnow() - timedelta(hours=1)))  # the sender is gone
    assert len(slack.messages) == 1
    report = deliver_pending(factory, _api(slack), POLICY)  # a fresh sender: knows nothing in memory
    assert report.found == 1 and report.messages == 1
    _exactly_once(factory, slack)


def test_a_live_claim_is_not_taken_over(factory, slack):
    _owe(factory, POLICY, 1)
    with session_scope(factory) as session:
        _, mine = claim(session)
        assert len(mine) == 1
        _, theirs = claim(session, stale_after=timedelta(minutes=5))
        assert theirs == []
        _, stolen = claim(session, now=utcnow() + timedelta(minutes=6), stale_after=timedelta(minutes=5))
        assert [r.id for r in stolen] == [mine[0].id], "a claim not renewed for too long is stale"


def test_webhook_doubt_becomes_unconfirmed_never_a_second_post(factory, slack, caplog):
    _owe(factory, POLICY, 1)
    slack.fail_next(Failure(200, "ok", delay_s=1.0, deliver=True))
    transport = WebhookTransport(slack.webhook_url, timeout_s=0.4)
    with caplog.at_level(logging.WARNING, logger="alerts"):
        report = deliver_pending(factory, transport, POLICY)
        deliver_pending(factory, transport, POLICY)
    assert report.unconfirmed == 1 and len(slack.messages) == 1
    (row,) = _rows(factory)
    assert row.status == "unconfirmed" and "webhook cannot be read back" in row.last_error
    warnings = [r for r in caplog.records if r.name.startswith("alerts") and r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and f"pledgewatch alerts resend {row.id}" in warnings[0].getMessage()
    # a person looked, it was not there: resend posts it
    with session_scope(factory) as session:
        requeue(session, [session.get(Alert, row.id)])
    deliver_pending(factory, transport, POLICY)
    assert len(slack.messages) == 2 and _rows(factory)[0].status == "sent"


def test_webhook_500s_then_recovery_exactly_once(factory, slack):
    _owe(factory, POLICY, 5)
    slack.fail_next(
        Failure(500), Failure(503), Failure(429, "rate limited", {"Retry-After": "0"}), Failure(500)
    )
    _drain(factory, WebhookTransport(slack.webhook_url, timeout_s=3), POLICY)
    assert len(slack.messages) == 5
    assert sorted(m["text"] for m in slack.messages) == sorted({m["text"] for m in slack.messages})
    assert {r.status for r in _rows(factory)} == {"sent"}


def test_bad_token_is_surfaced_once_and_nothing_is_lost(factory, slack, caplog):
    slack.add_channel("#frontiers")
    policy = AlertPolicy(routes={"c2a.7": "#frontiers"}, min_interval_s=0.0)
    with session_scope(factory) as session:
        for i in range(3):
            owe_statement(session, policy, f"Civic {i}", ["c2a.4"])
            owe_statement(session, policy, f"Weapons {i}", ["c2a.7.4"])
    slack.api_error = "invalid_auth"
    with caplog.at_level(logging.ERROR, logger="alerts"):
        report = deliver_pending(factory, _api(slack), policy)
    posts = [r for r in slack.requests if r["path"] == "/api/chat.postMessage"]
    assert len(posts) == 1, "one refusal of the token is enough"
    assert report.failed == 6 and len(report.errors) == 1
    assert "invalid_auth" in report.errors[0] and "alerts resend --status failed" in report.errors[0]
    errors = [r for r in caplog.records if r.name.startswith("alerts") and r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert all(r.status == "failed" and "invalid_auth" in r.last_error for r in _rows(factory))

    slack.api_error = None  # the token is fixed
    with session_scope(factory) as session:
        requeue(session, list(session.scalars(select(Alert).where(Alert.status == "failed"))))
    deliver_pending(factory, _api(slack), policy)
    _exactly_once(factory, slack)


def test_unknown_channel_fails_only_that_channel(factory, slack):
    slack.missing_channels.add("#gone")
    policy = AlertPolicy(routes={"c2a.7": "#gone"}, min_interval_s=0.0)
    with session_scope(factory) as session:
        for i in range(2):
            owe_statement(session, policy, f"Civic {i}", ["c2a.4"])
            owe_statement(session, policy, f"Weapons {i}", ["c2a.7.4"])
    report = deliver_pending(factory, _api(slack), policy)
    assert report.sent == 2 and report.failed == 2 and len(report.errors) == 1
    assert "#gone" in report.errors[0] and "channel_not_found" in report.errors[0]
    failed = [r for r in _rows(factory) if r.status == "failed"]
    assert {r.channel for r in failed} == {"#gone"}


def test_refused_blocks_fall_back_to_the_text(factory, slack):
    _owe(factory, POLICY, 1)
    slack.fail_next(
        Failure(200, '{"ok": false, "error": "invalid_blocks"}', {"Content-Type": "application/json"})
    )
    report = deliver_pending(factory, _api(slack), POLICY)
    assert report.sent == 1
    (message,) = slack.messages
    assert "blocks" not in message and "c2a.4" in message["text"]


def test_one_message_per_second_per_channel_by_default(factory, slack):
    slack.rate_limit_s = 1.0  # the fake enforces Slack's pace: a faster post gets a 429
    slack.add_channel("#frontiers")
    policy = AlertPolicy(routes={"c2a.7": "#frontiers"})  # default min_interval_s = 1.0
    with session_scope(factory) as session:
        for i in range(3):
            owe_statement(session, policy, f"Civic {i}", ["c2a.4"])
        owe_statement(session, policy, "Weapons", ["c2a.7.4"])
    started = time.monotonic()
    report = deliver_pending(factory, _api(slack), policy)
    elapsed = time.monotonic() - started
    assert report.sent == 4 and elapsed >= 2.0
    assert not [r for r in slack.requests if r["path"] == "/api/chat.postMessage" and r is None]
    assert len([r for r in slack.requests if r["path"] == "/api/chat.postMessage"]) == 4, "no 429 needed"
    order = [m["channel"] for m in slack.messages]
    assert order.index("#frontiers") < 2, "a second channel does not wait behind the first"


def test_console_without_slack_then_resend_when_configured(make_ctx, slack):
    ctx = make_ctx()
    with session_scope(ctx.factory) as session:
        add_commitments(session)
        owe_statement(
            session,
            ctx.alert_policy,
            "Civic space & <b>reprisals</b> [bold]not markup[/bold]",
            ["c2a.4"],
            text="Defenders & <!channel> face reprisals for civic space work.",
        )
    printed: list[str] = []
    report = run_alerts(ctx, echo=printed.append)
    assert report.printed == 1 and report.sent == 0
    out = "\n".join(printed)
    assert "Civic space & <b>reprisals</b> [bold]not markup[/bold]" in out, "readable, not markup"
    assert "&amp;" not in out and "&lt;" not in out and "<https://" not in out
    assert "Commitment referenced: c2a.4" in out and "kept in the outbox" in out
    (row,) = _rows(ctx.factory)
    assert row.status == "console"
    assert run_alerts(ctx, echo=printed.append).printed == 0, "printed once"

    slack_ctx = make_ctx(slack_bot_token="xoxb-test", slack_api_url=slack.api_url)
    with session_scope(slack_ctx.factory) as session:
        assert requeue(session, list(session.scalars(select(Alert).where(Alert.status == "console")))) == 1
    assert run_alerts(slack_ctx).sent == 1
    _exactly_once(slack_ctx.factory, slack)


def test_console_transport_prints_every_kind_of_block():
    lines: list[str] = []
    from alerts.render import render

    message = render(
        "source-failing",
        [
            {
                "source": {"key": "ohchr", "publisher": "OHCHR", "url": "https://www.ohchr.org/en/news"},
                "failing_since": "2026-11-18T09:00:00+00:00",
                "consecutive_failures": 4,
                "last_error": "HTTP 503 <html>",
                "reminder": 0,
            }
        ],
        [7],
    )
    ConsoleTransport(lines.append).post("#sources", message, ["k"])
    out = "\n".join(lines)
    assert "Source failing: ohchr" in out and "HTTP 503 <html>" in out and "alert 7" in out

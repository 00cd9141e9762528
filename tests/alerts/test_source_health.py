"""Source failing / reminder / recovered over simulated time: never one alert per failed fetch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from alerts.health import check_sources
from alerts.policy import AlertPolicy
from models import Alert, Source, session_scope
from pipeline.alert import run_alerts
from tests.alerts.support import add_polls, add_source, fail_source, recover_source

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
POLICY = AlertPolicy(source_failure_threshold=3, source_reminder_hours=24, min_interval_s=0.0)


def _tick(factory, at: datetime, failures: int | None = None, *, recovered: bool = False) -> dict[str, int]:
    """The scrape step's outcome at ``at`` (failures so far, or a recovery), then the rules."""
    with time_machine.travel(at, tick=False), session_scope(factory) as session:
        source = session.scalars(select(Source)).one()
        if recovered:
            recover_source(session, source, at)
        elif failures is not None:
            fail_source(session, source, source.failing_since or at, failures)
        return check_sources(session, POLICY).alerts


def _keys(factory) -> list[str]:
    with session_scope(factory) as session:
        return list(session.scalars(select(Alert.dedup_key).order_by(Alert.id)))


def test_failing_reminders_recovered_and_a_new_episode(make_ctx):
    factory = make_ctx().factory
    with session_scope(factory) as session:
        add_source(session, "ohchr")
    for n in (1, 2):
        assert _tick(factory, T0 + n * HOUR, n) == {}, "below the threshold: nothing"
    assert _tick(factory, T0 + 3 * HOUR, 3) == {"source-failing": 1}
    for n in range(4, 12):  # every further failed poll: nothing new
        assert _tick(factory, T0 + n * HOUR, n) == {}
    assert _tick(factory, T0 + 27 * HOUR + 1 * HOUR, 12) == {"source-failing": 1}, "first reminder"
    assert _tick(factory, T0 + 40 * HOUR, 13) == {"source-failing": 0}
    # the alert step was down for days: one reminder for now, not a backlog
    assert _tick(factory, T0 + 7 * 24 * HOUR, 40) == {"source-failing": 1}
    keys = _keys(factory)
    assert len(keys) == 3 and keys[1].endswith(":reminder:1") and keys[2].endswith(":reminder:6")

    assert _tick(factory, T0 + 7 * 24 * HOUR + HOUR, recovered=True) == {"source-recovered": 1}
    assert _tick(factory, T0 + 7 * 24 * HOUR + 2 * HOUR, recovered=True) == {}, "recovered once"
    with session_scope(factory) as session:
        recovered = session.scalars(select(Alert).where(Alert.kind == "source-recovered")).one()
        assert recovered.payload["down_s"] == (7 * 24 * HOUR).total_seconds()  # first failure to recovery

    # a new episode alerts again, after the threshold again
    assert _tick(factory, T0 + 9 * 24 * HOUR, 1) == {}
    assert _tick(factory, T0 + 9 * 24 * HOUR + 3 * HOUR, 3) == {"source-failing": 1}
    assert len(_keys(factory)) == 5


def test_a_disabled_source_is_not_reported(make_ctx):
    factory = make_ctx().factory
    with session_scope(factory) as session:
        source = add_source(session, "retired")
        source.enabled = False
        fail_source(session, source, T0, 10)
        assert check_sources(session, POLICY).alerts == {}


def test_run_alerts_owes_and_delivers_source_health_in_one_run(make_ctx, slack):
    slack.add_channel("#sources")
    ctx = make_ctx(
        slack_bot_token="xoxb-test",
        slack_api_url=slack.api_url,
        slack_routes={"sources": "#sources"},
        source_failure_threshold=2,
    )
    with session_scope(ctx.factory) as session:
        source = add_source(session, "un-news", publisher="UN News", url="https://news.un.org/feed")
        add_polls(session, source, T0 - 2 * HOUR, T0, every=HOUR, ok=False)
        fail_source(session, source, T0 - 2 * HOUR, 2, error="HTTP 500 <!channel>")
    report = run_alerts(ctx)
    assert report.owed == {"source-failing": 1} and report.sent == 1
    (message,) = slack.messages
    assert message["channel"] == "#sources" and "Source failing: un-news" in message["text"]
    assert "&lt;!channel&gt;" in message["blocks"][1]["text"]["text"]
    assert run_alerts(ctx).sent == 0, "still failing, same episode: nothing more before the reminder"

"""Quiet, resumed and unknown over simulated time (time-machine), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from alerts.deliver import deliver_pending
from alerts.mute import set_mute
from alerts.outbox import requeue
from alerts.policy import AlertPolicy
from alerts.quiet import check_commitments
from alerts.transport import WebApiTransport
from models import Alert, CommitmentStatus, session_scope
from tests.alerts.support import add_commitments, add_polls, add_reference, add_source

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
SIX_HOURS = timedelta(hours=6)
POLICY = AlertPolicy(public_url="https://pw.example.org", quiet_default_days=20, min_interval_s=0.0)


@pytest.fixture
def factory(make_ctx):
    return make_ctx().factory


def _check(factory, at: datetime, policy: AlertPolicy = POLICY):
    with time_machine.travel(at, tick=False), session_scope(factory) as session:
        return check_commitments(session, policy)


def _status(factory, cid: str) -> CommitmentStatus:
    with session_scope(factory) as session:
        row = session.get(CommitmentStatus, cid)
        assert row is not None
        return row


def _alerts(factory, kind: str | None = None, commitment: str | None = None) -> list[Alert]:
    with session_scope(factory) as session:
        query = select(Alert).order_by(Alert.id)
        if kind:
            query = query.where(Alert.kind == kind)
        if commitment:
            query = query.where(Alert.commitment_id == commitment)
        return list(session.scalars(query))


def _world(factory, *, polls_until: datetime, outage: tuple[datetime, datetime] | None = None) -> None:
    """One source polled every 6 hours from 10 days before T0; c2a.4 referenced at T0."""
    with session_scope(factory) as session:
        add_commitments(session, only=["c2a.4"])
        src = add_source(session, "ohchr", interval_s=6 * 3600)
        if outage:
            add_polls(session, src, T0 - 10 * DAY, outage[0], every=SIX_HOURS)
            add_polls(session, src, outage[0], outage[1], every=SIX_HOURS, ok=False)
            add_polls(session, src, outage[1], polls_until, every=SIX_HOURS)
        else:
            add_polls(session, src, T0 - 10 * DAY, polls_until, every=SIX_HOURS)
        add_reference(session, src, "c2a.4", T0, title="Civic space statement")


def test_threshold_edges_once_per_spell_and_resumed(factory):
    _world(factory, polls_until=T0 + 200 * DAY)

    _check(factory, T0 + 60 * DAY - timedelta(minutes=1))
    assert _status(factory, "c2a.4").status == "active"
    assert _alerts(factory) == []

    outcome = _check(factory, T0 + 60 * DAY + timedelta(minutes=1))
    row = _status(factory, "c2a.4")
    assert row.status == "quiet" and outcome.alerts == {"quiet": 1}
    assert row.threshold_days == 60 and row.gap_days == pytest.approx(60.0, abs=0.01)
    assert row.source_health == pytest.approx(1.0)
    assert row.since == T0 + 60 * DAY
    (quiet,) = _alerts(factory, "quiet")
    assert quiet.dedup_key.startswith("quiet:c2a.4:") and quiet.status == "pending"
    assert quiet.payload["threshold_source"] == "catalog"
    assert quiet.payload["last_reference"]["statement"]["title"] == "Civic space statement"

    # the spell goes on: checking daily owes nothing more
    for day in (61, 70, 74):
        assert _check(factory, T0 + day * DAY).alerts == {}
    assert len(_alerts(factory, "quiet")) == 1

    with session_scope(factory) as session:
        from models import Source

        src = session.scalars(select(Source)).one()
        add_reference(session, src, "c2a.4", T0 + 75 * DAY, title="Civic space again")
    outcome = _check(factory, T0 + 75 * DAY + timedelta(hours=1))
    assert _status(factory, "c2a.4").status == "active"
    (resumed,) = _alerts(factory, "resumed")
    assert resumed.payload["quiet_days"] == pytest.approx(75.0)
    assert resumed.payload["previous_status"] == "quiet"
    assert resumed.payload["reference"]["statement"]["title"] == "Civic space again"
    assert _check(factory, T0 + 76 * DAY).alerts == {}, "resumed once"

    # a new silence is a new spell: one more quiet alert
    _check(factory, T0 + 136 * DAY)
    quiets = _alerts(factory, "quiet")
    assert len(quiets) == 2 and quiets[0].dedup_key != quiets[1].dedup_key


def test_usual_gap_and_parent_implied_by_child(factory):
    with session_scope(factory) as session:
        add_commitments(session, only=["c2a.4", "c2a.4.2"])
        src = add_source(session, "ohchr", interval_s=6 * 3600)
        add_polls(session, src, T0 - 40 * DAY, T0 + 5 * DAY, every=SIX_HOURS)
        for i in range(4):
            add_reference(session, src, "c2a.4.2", T0 - (30 - 10 * i) * DAY, title=f"Strategy {i}")
    _check(factory, T0 + DAY)
    parent = _status(factory, "c2a.4")
    assert parent.status == "active", "a reference to c2a.4.2 is a reference to c2a.4"
    assert parent.usual_gap_days == pytest.approx(10.0)
    assert parent.last_reference_at == T0


def test_outage_inside_the_window(factory):
    # failing 10 of the last 60 days: health 50/60 >= 0.75, the silence is real
    _world(factory, polls_until=T0 + 70 * DAY, outage=(T0 + 30 * DAY, T0 + 40 * DAY))
    _check(factory, T0 + 61 * DAY)
    row = _status(factory, "c2a.4")
    assert row.status == "quiet"
    assert row.source_health == pytest.approx(50 / 60, abs=0.02)


def test_unknown_when_sources_failed_then_quiet_once_they_recover(factory):
    # failing 25 of the last 60 days: health ~0.58 < 0.75
    _world(factory, polls_until=T0 + 200 * DAY, outage=(T0 + 20 * DAY, T0 + 45 * DAY))
    outcome = _check(factory, T0 + 61 * DAY)
    row = _status(factory, "c2a.4")
    assert row.status == "unknown" and row.details["reason"] == "sources"
    assert row.source_health == pytest.approx(35 / 60, abs=0.02)
    assert outcome.alerts == {"unknown": 1}
    (unknown,) = _alerts(factory, "unknown")
    assert unknown.payload["sources"][0]["key"] == "ohchr"
    assert unknown.payload["min_source_health"] == 0.75
    assert _check(factory, T0 + 62 * DAY).alerts == {}, "unknown once per spell"

    # 90 days in, the outage has left the window and it is still silent: now it is quiet
    _check(factory, T0 + 90 * DAY)
    assert _status(factory, "c2a.4").status == "quiet"
    assert len(_alerts(factory, "quiet")) == 1 and len(_alerts(factory, "unknown")) == 1
    assert _alerts(factory, "quiet")[0].dedup_key.split(":")[2] == unknown.dedup_key.split(":")[2], (
        "same spell"
    )


def test_only_the_sources_that_mention_it_count(factory):
    with session_scope(factory) as session:
        add_commitments(session, only=["c2a.4"])
        usual = add_source(session, "usual", interval_s=6 * 3600)
        other = add_source(session, "other", interval_s=6 * 3600)
        add_polls(session, usual, T0 - 10 * DAY, T0 + 10 * DAY, every=SIX_HOURS)
        add_polls(session, usual, T0 + 10 * DAY, T0 + 70 * DAY, every=SIX_HOURS, ok=False)
        add_polls(session, other, T0 - 10 * DAY, T0 + 70 * DAY, every=SIX_HOURS)
        add_reference(session, usual, "c2a.4", T0)
    _check(factory, T0 + 61 * DAY)
    row = _status(factory, "c2a.4")
    assert row.status == "unknown", (
        "the source that usually mentions it was down; another being up does not help"
    )
    assert row.source_health == pytest.approx(9 / 60, abs=0.01)  # up 9 of the last 60 days


def test_too_early_to_tell_is_unknown_without_an_alert(factory):
    with session_scope(factory) as session:
        add_commitments(session, only=["c2a.4"])
        src = add_source(session, "ohchr", interval_s=6 * 3600)
        add_polls(session, src, T0, T0 + 30 * DAY, every=SIX_HOURS)  # monitoring began at T0
        add_reference(session, src, "c2a.4", T0 - 100 * DAY)  # found by the backfill
    _check(factory, T0 + 30 * DAY)
    row = _status(factory, "c2a.4")
    assert row.status == "unknown" and row.details["reason"] == "too_early"
    assert _alerts(factory) == []


def test_default_threshold_and_never_referenced(factory):
    with session_scope(factory) as session:
        add_commitments(session, only=["ngo.8"])  # no quiet_days in the catalog
        src = add_source(session, "amnesty", interval_s=6 * 3600)
        add_polls(session, src, T0, T0 + 40 * DAY, every=SIX_HOURS)
    _check(factory, T0 + 19 * DAY)
    assert _status(factory, "ngo.8").status == "never"
    _check(factory, T0 + 21 * DAY)
    row = _status(factory, "ngo.8")
    assert row.status == "quiet" and row.threshold_days == 20 and row.last_reference_id is None
    (quiet,) = _alerts(factory, "quiet")
    assert quiet.dedup_key == "quiet:ngo.8:never"
    assert quiet.payload["threshold_source"] == "default" and quiet.payload["last_reference"] is None


def test_mute_holds_alerts_and_resend_delivers_them(factory, slack):
    _world(factory, polls_until=T0 + 200 * DAY)
    with time_machine.travel(T0, tick=False), session_scope(factory) as session:
        add_commitments(session, only=["c2a"])
        set_mute(session, "c2a", T0 + 90 * DAY, reason="known pause")  # a family mutes what is under it
    _check(factory, T0 + 61 * DAY)
    assert _status(factory, "c2a.4").status == "quiet", "a mute does not hide the status"
    (quiet,) = _alerts(factory, "quiet", "c2a.4")
    assert quiet.status == "muted" and "muted until 2026-04-01" in quiet.last_error

    transport = WebApiTransport("xoxb-test", slack.api_url, timeout_s=3)
    report = deliver_pending(factory, transport, POLICY)
    assert report.sent == 0 and slack.messages == []

    with session_scope(factory) as session:
        requeue(session, [session.get(Alert, quiet.id)])
    report = deliver_pending(factory, transport, POLICY)
    assert report.sent == 1 and len(slack.messages) == 1
    assert "c2a.4" in slack.messages[0]["text"] and "quiet" in slack.messages[0]["text"].lower()


def test_mute_expires(factory):
    _world(factory, polls_until=T0 + 200 * DAY)
    with time_machine.travel(T0, tick=False), session_scope(factory) as session:
        set_mute(session, "c2a.4", T0 + 30 * DAY)
    _check(factory, T0 + 61 * DAY)
    (quiet,) = _alerts(factory, "quiet")
    assert quiet.status == "pending", "the mute ended before the commitment went quiet"

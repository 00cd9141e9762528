"""Digests: per channel, once per period, the last complete day or ISO week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from alerts.digest import digest_alerts, digest_period
from alerts.policy import AlertPolicy
from models import Alert, session_scope
from tests.alerts.support import add_commitments, add_reference, add_source, fail_source

WED = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)


def test_periods():
    assert digest_period("daily", WED) == (
        "2026-11-17",
        datetime(2026, 11, 17, tzinfo=UTC),
        datetime(2026, 11, 18, tzinfo=UTC),
    )
    label, start, end = digest_period("weekly", WED)
    assert (
        label == "2026-W46"
        and start == datetime(2026, 11, 9, tzinfo=UTC)
        and end == datetime(2026, 11, 16, tzinfo=UTC)
    )


@pytest.mark.parametrize("frequency", ["daily", "weekly"])
def test_digest_per_channel_once_per_period(make_ctx, frequency):
    factory = make_ctx().factory
    policy = AlertPolicy(routes={"c2a.7": "#frontiers", "sources": "#ops"}, digest=frequency)
    _, _, end = digest_period(frequency, WED)
    with session_scope(factory) as session:
        add_commitments(session)
        src = add_source(session, "ohchr", publisher="OHCHR")
        add_reference(session, src, "c2a.4", end - timedelta(hours=12), title="in the period")
        add_reference(session, src, "c2a.4", end - timedelta(hours=13), title="also in the period")
        add_reference(session, src, "c2a.7.4", end - timedelta(hours=14), title="weapons")
        add_reference(session, src, "c2a.4", end - timedelta(days=30), title="long before")
        add_reference(session, src, "c2a.4", end + timedelta(hours=1), title="after the period")
        broken = add_source(session, "amnesty", publisher="Amnesty International")
        fail_source(session, broken, WED - timedelta(days=2), 9)
    with time_machine.travel(WED, tick=False), session_scope(factory) as session:
        assert digest_alerts(session, policy) == 2
        assert digest_alerts(session, policy) == 0, "once per channel and period"
    with session_scope(factory) as session:
        digests = {a.channel: a for a in session.scalars(select(Alert).where(Alert.kind == "digest"))}
    assert set(digests) == {"#pledgewatch", "#frontiers"}, "every channel commitments are routed to"
    main, frontiers = digests["#pledgewatch"].payload, digests["#frontiers"].payload
    assert [(c["id"], c["references"]) for c in main["counts"]] == [("c2a.4", 2)]
    assert [(c["id"], c["references"]) for c in frontiers["counts"]] == [("c2a.7.4", 1)]
    assert main["statements"] == 2 and frontiers["statements"] == 1
    assert [s["key"] for s in main["failing_sources"]] == ["amnesty"]
    assert digests["#pledgewatch"].dedup_key == f"digest:{frequency}:#pledgewatch:{main['label']}"


def test_no_digest_when_off(make_ctx):
    factory = make_ctx().factory
    with session_scope(factory) as session:
        add_commitments(session)
        assert digest_alerts(session, AlertPolicy(digest="off")) == 0


def test_bad_digest_setting_is_a_clear_error(make_ctx):
    from pipeline.settings import SettingsError

    ctx = make_ctx(digest="hourly")
    with pytest.raises(SettingsError, match="digest must be one of off, daily, weekly"):
        _ = ctx.alert_policy

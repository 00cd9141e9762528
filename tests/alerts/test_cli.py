"""The monitors' commands through the real CLI, against a seeded database and the fake Slack.

``alerts list|resend|mute|unmute`` and ``commitments status`` run in-process (Typer's
CliRunner) with the settings a deployment would have (``PLEDGEWATCH_*``), on SQLite and on
PostgreSQL when configured. Slack is the fake Web API on loopback, reached by slack-sdk.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

from alerts.policy import AlertPolicy
from alerts.quiet import check_commitments
from models import Alert, Run, session_scope
from pipeline.alert import run_alerts
from pipeline.context import Context
from tests.alerts.support import add_commitments, add_polls, add_reference, add_source, owe_statement
from tests.support.slack import Failure

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = AlertPolicy(public_url="https://pledgewatch.example.org", min_interval_s=0.0)
MARKUP_TITLE = "Civic space [bold]under[/bold] pressure & <!channel> [/]"


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def ctx(make_ctx, slack, monkeypatch, tmp_path) -> Context:
    """The test database with the test commitments; the CLI configured for it and the fake Slack."""
    settings = {
        "DATABASE_URL": None,
        "DATA_DIR": str(tmp_path),
        "SLACK_BOT_TOKEN": "xoxb-cli",
        "SLACK_API_URL": slack.api_url,
        "SLACK_MIN_INTERVAL_S": "0",
        "SLACK_TIMEOUT_S": "3",
        "ALERT_RETRY_BASE_S": "0",
        "PUBLIC_URL": POLICY.public_url,
    }
    built = make_ctx(
        slack_bot_token="xoxb-cli",
        slack_api_url=slack.api_url,
        slack_timeout_s=3.0,
        alert_retry_base_s=0.0,
    )
    settings["DATABASE_URL"] = built.settings.effective_database_url
    for key, value in settings.items():
        monkeypatch.setenv(f"PLEDGEWATCH_{key}", str(value))
    with session_scope(built.factory) as session:
        add_commitments(session)
    return built


@pytest.fixture
def cli() -> Callable[..., Result]:
    import pipeline.commands  # noqa: F401  (registers every command)
    from pipeline.cli import app

    runner = CliRunner()

    def run(*args: str, at: datetime | None = None) -> Result:
        if at is None:
            return runner.invoke(app, list(args), env={"COLUMNS": "240"})
        with time_machine.travel(at, tick=False):
            return runner.invoke(app, list(args), env={"COLUMNS": "240"})

    return run


def _rows(ctx: Context) -> list[Alert]:
    with session_scope(ctx.factory) as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def _posted(slack) -> Counter[str]:
    return Counter(slack.keys_posted())


# --- mute and resend ------------------------------------------------------------------------


def test_mute_holds_a_reference_alert_and_each_resend_is_one_more_delivery(ctx, cli, slack):
    out = ok(cli("alerts", "mute", "c2a.4", "--until", "30d", "--reason", "Known pause [bold]x[/]"))
    assert "muted c2a.4" in out and "and the 1 commitment under it" in out
    assert "Known pause [bold]x[/]" in out, "a reason is printed literally"

    with session_scope(ctx.factory) as session:
        (held,) = owe_statement(session, ctx.alert_policy, MARKUP_TITLE, ["c2a.4"])
        (other,) = owe_statement(session, ctx.alert_policy, "Weapons", ["c2a.7.4"], cue="autonomous weapons")
    muted = json_lines(ok(cli("alerts", "list", "--status", "muted", "--json")))
    assert [(r["kind"], r["commitment_id"], r["dedup_key"]) for r in muted] == [
        ("reference", "c2a.4", held.dedup_key)
    ]
    assert muted[0]["payload"]["statement"]["title"] == MARKUP_TITLE
    alert_id = muted[0]["id"]

    # the sender runs as usual: the muted alert is kept, not posted
    assert run_alerts(ctx).sent == 1
    assert _posted(slack) == {other.dedup_key: 1}
    assert {r.dedup_key: r.status for r in _rows(ctx)}[held.dedup_key] == "muted"

    # a person resends it: delivered now, exactly once
    (first,) = json_lines(ok(cli("alerts", "resend", str(alert_id), "--json")))
    assert first["was"] == "muted" and first["queued_id"] == alert_id and not first["copy"]
    assert first["status"] == "sent" and first["slack_ts"]
    assert _posted(slack) == {other.dedup_key: 1, held.dedup_key: 1}
    original_ts = first["slack_ts"]

    # resending a sent alert posts it once more, as a copy of its own, marked as a resend
    out = ok(cli("alerts", "resend", str(alert_id)))
    assert f"alert {alert_id} (sent)" in out and "now sent" in out
    assert _posted(slack) == {other.dedup_key: 1, held.dedup_key: 1, f"resend:{alert_id}:1": 1}
    resent = slack.messages[-1]
    assert resent["text"].startswith("[resent] Commitment referenced: c2a.4")
    assert any(
        f"Resent at a monitor's request (alert {alert_id}" in el["text"]
        for block in resent["blocks"]
        if block["type"] == "context"
        for el in block["elements"]
    )
    (again,) = json_lines(ok(cli("alerts", "resend", str(alert_id), "--json")))
    assert again["copy"] and again["dedup_key"] == f"resend:{alert_id}:2" and again["status"] == "sent"
    assert _posted(slack)[held.dedup_key] == 1 and _posted(slack)[f"resend:{alert_id}:2"] == 1
    assert len(slack.messages) == 4, "one message per request, nothing else"

    # the original keeps its record; the copies say whose copies they are; the runs are on record
    rows = {r.dedup_key: r for r in _rows(ctx)}
    assert rows[held.dedup_key].status == "sent" and rows[held.dedup_key].slack_ts == original_ts
    assert rows[f"resend:{alert_id}:1"].payload["resend_of"]["alert_id"] == alert_id
    with session_scope(ctx.factory) as session:
        runs = list(session.scalars(select(Run).where(Run.kind == "resend").order_by(Run.id)))
    assert [r.counts for r in runs] == [
        {"asked": 1, "requeued": 1, "copied": 0, "left": 0},
        {"asked": 1, "requeued": 0, "copied": 1, "left": 0},
        {"asked": 1, "requeued": 0, "copied": 1, "left": 0},
    ]
    assert run_alerts(ctx).sent == 0 and len(slack.messages) == 4, "nothing left owed"


def test_a_resent_copy_is_posted_once_across_a_lost_answer(ctx, cli, slack, monkeypatch):
    """The crash window for a resend: Slack took the copy, the answer never came back.

    The next sender finds the copy's own key on Slack and marks it sent; the original
    message (the original key) is never mistaken for it, and nothing is posted twice.
    """
    with session_scope(ctx.factory) as session:
        (owed,) = owe_statement(session, ctx.alert_policy, "Civic space", ["c2a.4"])
    assert run_alerts(ctx).sent == 1
    (row,) = _rows(ctx)
    monkeypatch.setenv("PLEDGEWATCH_SLACK_TIMEOUT_S", "0.5")
    slack.fail_next(Failure(200, "{}", delay_s=1.5, deliver=True))
    result = cli("alerts", "resend", str(row.id), "--json")
    assert result.exit_code == 0, result.output
    (done,) = json_lines(result.stdout)
    assert done["status"] == "pending", "no answer: owed, with the doubt on record"
    assert _posted(slack) == {owed.dedup_key: 1, f"resend:{row.id}:1": 1}

    report = run_alerts(ctx)
    assert report.found == 1 and report.sent == 1 and report.messages == 0
    assert _posted(slack) == {owed.dedup_key: 1, f"resend:{row.id}:1": 1}
    assert {r.status for r in _rows(ctx)} == {"sent"}


def test_resend_by_status_and_unmute(ctx, cli, slack):
    ok(cli("alerts", "mute", "c2a", "--until", "2w"))
    with session_scope(ctx.factory) as session:
        for i in range(2):
            owe_statement(session, ctx.alert_policy, f"Civic {i}", ["c2a.4.2"])
        owe_statement(session, ctx.alert_policy, "Death penalty", ["ngo.8"], cue="death penalty")
    assert run_alerts(ctx).sent == 1, "only ngo.8 is not under the muted family"

    out = ok(cli("alerts", "unmute", "c2a.4"))
    assert "had no mute of its own" in out and "still muted through a parent" in out
    out = ok(cli("alerts", "unmute", "c2a"))
    assert "unmuted c2a" in out and "2 alert(s) held while muted" in out
    with session_scope(ctx.factory) as session:
        (later,) = owe_statement(session, ctx.alert_policy, "Civic later", ["c2a.4"])
    assert {r.dedup_key: r.status for r in _rows(ctx)}[later.dedup_key] == "pending", "no longer muted"

    done = json_lines(ok(cli("alerts", "resend", "--status", "muted", "-c", "c2a.4", "--json")))
    assert [d["was"] for d in done] == ["muted", "muted"] and {d["status"] for d in done} == {"sent"}
    assert len(slack.messages) == 4 and set(_posted(slack).values()) == {1}
    assert {r.status for r in _rows(ctx)} == {"sent"}


def test_resend_a_failed_alert_after_the_token_is_fixed(ctx, cli, slack):
    with session_scope(ctx.factory) as session:
        owe_statement(session, ctx.alert_policy, "Civic", ["c2a.4"])
    slack.api_error = "invalid_auth"
    report = run_alerts(ctx)
    assert report.failed == 1 and "alerts resend --status failed" in report.errors[0]
    failed = cli("alerts", "resend", "--status", "failed")
    assert failed.exit_code == 1, "still refused: the exit status says so"
    assert "now failed" in failed.stdout and "invalid_auth" in failed.stdout
    slack.api_error = None
    out = ok(cli("alerts", "resend", "--status", "failed"))
    assert "now sent" in out and "1 sent to Slack" in out
    assert len(slack.messages) == 1


# --- list -----------------------------------------------------------------------------------


def test_list_filters(ctx, cli):
    with session_scope(ctx.factory) as session:
        with time_machine.travel(T0, tick=False):
            owe_statement(session, ctx.alert_policy, MARKUP_TITLE, ["c2a.4"], at=T0)
        with time_machine.travel(T0 + 5 * DAY, tick=False):
            owe_statement(session, ctx.alert_policy, "Strategy", ["c2a.4.2"], at=T0 + 5 * DAY)
            owe_statement(session, ctx.alert_policy, "Weapons", ["c2a.7.4"], at=T0 + 5 * DAY)
        src = add_source(session, "ohchr", interval_s=86400)
        add_polls(session, src, T0, T0 + 131 * DAY, every=DAY)
        add_reference(session, src, "ngo.8", T0 - 100 * DAY)
        session.flush()
        session.execute(update(Alert).where(Alert.commitment_id == "c2a.7.4").values(status="failed"))
    with time_machine.travel(T0 + 130 * DAY, tick=False), session_scope(ctx.factory) as session:
        check_commitments(session, AlertPolicy(quiet_default_days=20))

    every = json_lines(ok(cli("alerts", "list", "--json")))
    assert [r["id"] for r in every] == sorted((r["id"] for r in every), reverse=True), "newest first"
    kinds = Counter(r["kind"] for r in every)
    assert kinds["reference"] == 3 and kinds["quiet"] >= 1

    def ids(*args: str) -> set[str]:
        return {r["dedup_key"] for r in json_lines(ok(cli("alerts", "list", "--json", *args)))}

    refs = {r["dedup_key"]: r for r in every if r["kind"] == "reference"}
    by_commitment = {r["commitment_id"]: r["dedup_key"] for r in refs.values()}
    assert ids("--kind", "reference") == set(refs)
    assert ids("--status", "failed") == {by_commitment["c2a.7.4"]}
    assert ids("--kind", "reference", "--commitment", "c2a.4") == {
        by_commitment["c2a.4"],
        by_commitment["c2a.4.2"],
    }, "a commitment takes those under it"
    assert ids("--kind", "reference", "--commitment", "c2a.4.2") == {by_commitment["c2a.4.2"]}
    assert ids("--kind", "reference", "--since", "2026-01-03") == {
        by_commitment["c2a.4.2"],
        by_commitment["c2a.7.4"],
    }
    assert ids("--kind", "quiet", "--commitment", "ngo.8") == {"quiet:ngo.8:" + str(_ref_id(every, "ngo.8"))}
    assert len(json_lines(ok(cli("alerts", "list", "--json", "--limit", "2")))) == 2
    assert ids("--status", "sent") == set()

    table = ok(cli("alerts", "list", "--kind", "reference", "--limit", "2"))
    assert "2 of 3 shown, newest first (--limit for more)" in table
    assert "failed" in table and "Weapons" in table and "Strategy" in table
    full = ok(cli("alerts", "list", "--commitment", "c2a.4", "--kind", "reference"))
    assert MARKUP_TITLE.split(" & ")[0] in full, "a scraped title is printed literally, markup and all"


def _ref_id(rows: list[dict], commitment: str) -> int:
    """The reference id a quiet spell is keyed on (its last reference)."""
    (row,) = [r for r in rows if r["kind"] == "quiet" and r["commitment_id"] == commitment]
    return int(row["payload"]["last_reference"]["reference_id"])


# --- commitments status ---------------------------------------------------------------------


def test_status_table_shows_a_quiet_commitment_with_its_gap(ctx, cli):
    with session_scope(ctx.factory) as session:
        src = add_source(session, "ohchr", publisher="OHCHR", interval_s=6 * 3600)
        add_polls(session, src, T0 - 10 * DAY, T0 + 70 * DAY, every=timedelta(hours=6))
        for days, title in ((-30, "Civic space earlier"), (-10, "Civic space before"), (0, MARKUP_TITLE)):
            add_reference(
                session,
                src,
                "c2a.4",
                T0 + days * DAY,
                title=title,
                url=f"https://www.ohchr.org/en/statements/{days + 100}",
                publisher="OHCHR",
            )
        add_reference(session, src, "c2a.7.4", T0 + 50 * DAY, title="Weapons", publisher="OHCHR")
    now = T0 + 61 * DAY
    with time_machine.travel(now, tick=False), session_scope(ctx.factory) as session:
        check_commitments(session, AlertPolicy(public_url=POLICY.public_url, quiet_default_days=90))

    rows = {r["commitment_id"]: r for r in json_lines(ok(cli("commitments", "status", "--json", at=now)))}
    quiet = rows["c2a.4"]
    assert quiet["status"] == "quiet" and quiet["computed_status"] == "quiet"
    assert quiet["gap_days"] == pytest.approx(61.0) and quiet["threshold_days"] == 60
    assert quiet["usual_gap_days"] == pytest.approx(15.0) and quiet["threshold_source"] == "catalog"
    assert quiet["source_health"] == pytest.approx(1.0)
    assert quiet["since"] == (T0 + 60 * DAY).isoformat()
    last = quiet["last_reference"]
    assert last["title"] == MARKUP_TITLE and last["url"] == "https://www.ohchr.org/en/statements/100"
    assert last["history_url"].startswith(POLICY.public_url + "/statements/")
    assert rows["c2a.7.4"]["status"] == "active" and rows["c2a.7.4"]["gap_days"] == pytest.approx(11.0)
    assert {r["status"] for r in rows.values()} <= {"active", "quiet", "unknown", "never", "muted"}

    table = ok(cli("commitments", "status", at=now))
    line = next(li for li in table.splitlines() if "│ c2a.4 " in li)
    cells = [c.strip() for c in line.split("│")]
    assert cells[1:4] == ["c2a.4", "Public participation and civic space", "quiet"]
    assert cells[4] == "2026-03-02" and cells[6:10] == ["61 d", "15 d", "60 d", "100%"]
    assert "Civic space [bold]under[/bold] pressure" in table, "the last reference's title, literally"
    assert "https://www.ohchr.org/en/statements/100" in table, "and its link"

    only = json_lines(ok(cli("commitments", "status", "--status", "quiet", "--json", at=now)))
    assert "c2a.4" in {r["commitment_id"] for r in only} and {r["status"] for r in only} == {"quiet"}

    with time_machine.travel(now, tick=False):
        ok(cli("alerts", "mute", "c2a.4", "--until", "2026-04-30", "--reason", "Session break"))
    muted = {r["commitment_id"]: r for r in json_lines(ok(cli("commitments", "status", "--json", at=now)))}
    assert muted["c2a.4"]["status"] == "muted" and muted["c2a.4"]["computed_status"] == "quiet"
    assert muted["c2a.4"]["muted_until"] == "2026-05-01T00:00:00+00:00", "through the whole day"
    assert muted["c2a.4.2"]["status"] == "muted", "a parent's mute holds it too"
    table = ok(cli("commitments", "status", "--status", "muted", at=now))
    assert "muted until 2026-05-01 00:00 UTC: Session break" in table and "a parent's mute" in table
    line = next(li for li in table.splitlines() if "│ c2a.4 " in li)
    assert [c.strip() for c in line.split("│")][3] == "muted"
    assert "(quiet)" in table and "(never)" in table, "the computed status under the mute"


# --- errors ---------------------------------------------------------------------------------


def test_clear_errors(ctx, cli):
    with session_scope(ctx.factory) as session:
        owe_statement(session, ctx.alert_policy, "Civic", ["c2a.4"])

    def fails(*args: str) -> str:
        result = cli(*args)
        assert result.exit_code == 2, result.output
        return result.output

    assert "unknown commitment 'c2a.44'" in fails("alerts", "mute", "c2a.44", "--until", "30d")
    assert "did you mean" in fails("alerts", "mute", "c2a.44", "--until", "30d")
    assert "unknown commitment 'nope'" in fails("alerts", "list", "--commitment", "nope")
    assert "unknown commitment 'nope'" in fails("alerts", "unmute", "nope")
    assert "not a date: 'next week'" in fails("alerts", "mute", "c2a.4", "--until", "next week")
    assert "is in the past" in fails("alerts", "mute", "c2a.4", "--until", "2020-01-01")
    assert "not a date" in fails("alerts", "list", "--since", "yesterday")
    assert "'bogus': use pending, sending, sent" in fails("alerts", "list", "--status", "bogus")
    assert "'memo': use reference" in fails("alerts", "list", "--kind", "memo")
    assert "no alert 999" in fails("alerts", "resend", "999")
    assert "which alerts?" in fails("alerts", "resend")
    assert "not both" in fails("alerts", "resend", "1", "--status", "failed")
    assert "'loud'" in fails("commitments", "status", "--status", "loud")
    # nothing changed by the failed commands
    assert {r.status for r in _rows(ctx)} == {"pending"}
    with session_scope(ctx.factory) as session:
        assert session.scalars(select(Run).where(Run.kind == "resend")).all() == []

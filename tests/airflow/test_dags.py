"""The DAGs as Airflow sees them, then the whole chain run by ``dag.test()``: a statement
published on a local site comes out as a Slack message, one Asset event at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import Alert, Version, session_scope
from pipeline.context import Context
from tests.support import pages

pytestmark = pytest.mark.airflow

DAG_IDS = {"pledgewatch_scrape", "pledgewatch_match", "pledgewatch_alerts", "pledgewatch_quiet"}
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


def test_dagbag_imports_cleanly_with_expected_schedules(dagbag):
    from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, DeltaTriggerTimetable
    from airflow.sdk.definitions.timetables.assets import AssetTriggeredTimetable

    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == DAG_IDS

    scrape = dagbag.dags["pledgewatch_scrape"]
    assert isinstance(scrape.timetable, DeltaTriggerTimetable)
    assert scrape.timetable.delta == timedelta(minutes=30)
    assert scrape.get_task("scrape").pool == "pledgewatch_fetch"
    assert [a.name for a in scrape.get_task("announce_versions").outlets] == ["pledgewatch_new_versions"]
    assert not scrape.get_task("scrape").outlets, "only the announce task may emit the Asset"

    match = dagbag.dags["pledgewatch_match"]
    assert type(match.timetable) is AssetTriggeredTimetable
    assert [a.name for a in match.timetable.asset_condition.objects] == ["pledgewatch_new_versions"]
    assert [a.name for a in match.get_task("announce_references").outlets] == ["pledgewatch_new_references"]

    alerts = dagbag.dags["pledgewatch_alerts"]
    assert isinstance(alerts.timetable, AssetOrTimeSchedule)
    assert isinstance(alerts.timetable.timetable, CronTriggerTimetable)
    assert alerts.timetable.timetable.expression == "*/5 * * * *"
    assert {a.name for a in alerts.timetable.asset_condition.objects} == {
        "pledgewatch_new_references",
        "pledgewatch_owed_alerts",
    }

    quiet = dagbag.dags["pledgewatch_quiet"]
    assert isinstance(quiet.timetable, CronTriggerTimetable) and quiet.timetable.expression == "0 6 * * *"

    for dag in dagbag.dags.values():
        assert dag.max_active_runs == 1 and dag.catchup is False
        for t in dag.tasks:
            assert t.retries == 3 and t.retry_exponential_backoff
            assert t.execution_timeout == timedelta(hours=1), "a hung task may not hold the DAG for ever"
            assert t.on_failure_callback, f"{dag.dag_id}.{t.task_id} notifies failures"


def test_schedule_follows_the_setting(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    from tests.airflow.conftest import DAGS

    monkeypatch.setenv("PLEDGEWATCH_SCRAPE_INTERVAL_MINUTES", "7")
    monkeypatch.setenv("PLEDGEWATCH_ALERTS_INTERVAL_MINUTES", "2")
    bag = DagBag(dag_folder=str(DAGS))
    assert bag.dags["pledgewatch_scrape"].timetable.delta == timedelta(minutes=7)
    assert bag.dags["pledgewatch_alerts"].timetable.timetable.expression == "*/2 * * * *"


def _states(dag_run) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ti in dag_run.get_task_instances():
        out.setdefault(ti.task_id, []).append(str(ti.state))
    return out


def _test_without_retries(dag):
    """``dag.test()`` with retries off, so a failing task fails for good (and is notified) at once."""
    saved = {t.task_id: t.retries for t in dag.tasks}
    try:
        for t in dag.tasks:
            t.retries = 0
        return dag.test()
    finally:
        for t in dag.tasks:
            t.retries = saved[t.task_id]


def _asset_events(name: str) -> list[dict]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == name)
        ).all()
        return [dict(e.extra or {}) for e in rows]


def _publish(site, *, weapons: bool) -> str:
    items = [("/en/press-releases/2026/11/budget", "Budget", "2026-11-16T09:00:00Z")]
    if weapons:
        items.insert(0, ("/en/press-releases/2026/11/weapons", "Weapons", "2026-11-17T09:00:00Z"))
    site.add("/en/press-releases", pages.listing(items))
    site.add("/en/press-releases/2026/11/weapons", WEAPONS)
    site.add("/en/press-releases/2026/11/budget", BUDGET)
    site.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    return pages.registry([pages.press_source(site.base)])


def test_chain_new_statement_in_slack_message_out(
    airflow_db, dagbag, pipeline_env, site, slack, slack_connection, db_url
):
    """scrape -> Asset -> match -> Asset -> alerts, Slack credentials from the Airflow Connection."""
    pipeline_env(_publish(site, weapons=False))
    scrape, match, alerts = (
        dagbag.dags[d] for d in ("pledgewatch_scrape", "pledgewatch_match", "pledgewatch_alerts")
    )
    versions_before = len(_asset_events("pledgewatch_new_versions"))
    refs_before = len(_asset_events("pledgewatch_new_references"))

    # First pass: one unremarkable statement; stored, matched, nothing to tell anyone.
    run = scrape.test(run_conf={"force": True})
    assert run.state == "success", _states(run)
    assert _states(run)["announce_versions"] == ["success"]
    events = _asset_events("pledgewatch_new_versions")
    assert len(events) == versions_before + 1
    assert events[-1]["new_versions"] == 1 and events[-1]["sources_failed"] == 0
    run = match.test()
    assert _states(run) == {"match": ["success"], "announce_references": ["skipped"]}
    assert len(_asset_events("pledgewatch_new_references")) == refs_before, "no references: no Asset event"

    # A new statement is published: the chain carries it to Slack.
    site.add(
        "/en/press-releases",
        pages.listing(
            [
                ("/en/press-releases/2026/11/weapons", "Weapons", "2026-11-17T09:00:00Z"),
                ("/en/press-releases/2026/11/budget", "Budget", "2026-11-16T09:00:00Z"),
            ]
        ),
    )
    run = scrape.test(run_conf={"force": True})
    assert _states(run)["announce_versions"] == ["success"]
    assert _asset_events("pledgewatch_new_versions")[-1]["new_versions"] == 1
    run = match.test()
    assert _states(run) == {"match": ["success"], "announce_references": ["success"]}
    extra = _asset_events("pledgewatch_new_references")[-1]
    assert extra["references"] >= 1 and extra["alerts"] >= 1
    assert slack.messages == []
    run = alerts.test()
    assert run.state == "success", _states(run)
    assert len(slack.messages) == 1
    assert "c2a.7.4" in slack.messages[0]["text"] and slack.messages[0]["via"] == "webhook"
    ctx = Context.from_env(trigger="test")
    try:
        with session_scope(ctx.factory) as session:
            assert set(session.scalars(select(Alert.status))) == {"sent"}
            assert session.scalar(select(func.count()).select_from(Version)) == 2
    finally:
        ctx.close()

    # Nothing new on the site: the scrape runs, but announces nothing, so nothing downstream wakes.
    events_before = len(_asset_events("pledgewatch_new_versions"))
    run = scrape.test(run_conf={"force": True})
    assert run.state == "success"
    assert _states(run)["announce_versions"] == ["skipped"]
    assert len(_asset_events("pledgewatch_new_versions")) == events_before


def test_scrape_maps_host_whole_batches(airflow_db, dagbag, pipeline_env, site, monkeypatch):
    """Five sources on two hosts, batch size 2: the host with three sources stays in one batch."""
    other = site.url("/").replace("127.0.0.1", "localhost")
    site.add("/feed-a.xml", pages.rss([]), content_type="application/rss+xml")
    entries = [
        {"key": f"a{i}", "publisher": "A", "kind": "feed", "url": site.url(f"/feed-a.xml?{i}")}
        for i in range(3)
    ] + [
        {"key": f"b{i}", "publisher": "B", "kind": "feed", "url": f"{other}feed-a.xml?{i}"} for i in range(2)
    ]
    pipeline_env(pages.registry(entries), SCRAPE_BATCH_SIZE="2")
    run = dagbag.dags["pledgewatch_scrape"].test(run_conf={"force": True})
    assert run.state == "success", _states(run)
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        planned = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id, XComModel.task_id == "plan"
            )
        ).one()
        batches = XComModel.deserialize_value(planned)
    assert sorted(map(sorted, batches)) == [["a0", "a1", "a2"], ["b0", "b1"]]
    assert _states(run)["scrape"] == ["success", "success"]
    assert _states(run)["announce_versions"] == ["skipped"]  # empty feeds: nothing new


def test_failed_task_is_notified_through_the_slack_provider(
    airflow_db, dagbag, pipeline_env, slack, slack_connection, tmp_path, monkeypatch
):
    """A task that fails for good tells Slack (webhook Connection) which task failed."""
    pipeline_env(pages.registry([]))
    # A database without the schema: the match step fails on its first query.
    monkeypatch.setenv("PLEDGEWATCH_DATABASE_URL", f"sqlite:///{tmp_path}/unmigrated.db")
    dag = dagbag.dags["pledgewatch_match"]
    run = _test_without_retries(dag)
    assert _states(run)["match"] == ["failed"]
    texts = [m["text"] for m in slack.messages]
    assert len(texts) == 1 and "pledgewatch_match.match" in texts[0] and "failed" in texts[0]


PARSE_PROBE = """
import json, os, socket, sys

def refuse(*args, **kwargs):
    raise AssertionError("network access while parsing the DAG file")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
ours = sorted(
    m for m in sys.modules if m.split(".")[0] in {"models", "scrapers", "matching", "alerts"}
    or m in {"pipeline.context", "pipeline.scrape", "pipeline.match", "pipeline.alert", "pipeline.quiet"}
)
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": sorted(bag.dags),
                  "modules": ours}))
"""


def test_parsing_opens_no_database_and_no_connection(tmp_path):
    """What a dag-processor does every few seconds: no PledgeWatch database, no socket, none of the
    rooms imported (they load inside the tasks)."""
    import json
    import os
    import subprocess
    import sys

    from tests.airflow.conftest import DAGS

    db = tmp_path / "must-not-exist.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEDGEWATCH_")}
    env.update(
        PLEDGEWATCH_DATABASE_URL=f"sqlite:///{db}",
        PLEDGEWATCH_DATA_DIR=str(tmp_path / "data"),
        PYTHONPATH=str(DAGS.parent),
    )
    out = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, str(DAGS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    assert facts["errors"] == {} and set(facts["dags"]) == DAG_IDS
    assert facts["modules"] == [], "the DAG file must stay a declaration"
    assert not db.exists() and not (tmp_path / "data").exists()


def test_failure_notified_through_a_slack_api_connection(
    airflow_db, dagbag, pipeline_env, slack, tmp_path, monkeypatch
):
    """With a Web API Connection (bot token, base_url) the provider's SlackNotifier posts to the channel."""
    import json

    pipeline_env(pages.registry([]), SLACK_CHANNEL="#pw-ops")
    monkeypatch.setenv(
        "AIRFLOW_CONN_PLEDGEWATCH_SLACK",
        json.dumps({"conn_type": "slack", "password": "xoxb-fake", "extra": {"base_url": slack.api_url}}),
    )
    monkeypatch.setenv("PLEDGEWATCH_DATABASE_URL", f"sqlite:///{tmp_path}/unmigrated.db")
    dag = dagbag.dags["pledgewatch_quiet"]
    run = _test_without_retries(dag)
    assert _states(run)["check"] == ["failed"]
    posted = [m for m in slack.messages if m["via"] == "api"]
    assert len(posted) == 1, slack.messages
    assert posted[0]["channel_id"] == slack.add_channel("#pw-ops")
    assert "pledgewatch_quiet.check" in posted[0]["text"] and "failed" in posted[0]["text"]
    auth = [r["headers"].get("Authorization") for r in slack.requests if r["path"] == "/api/chat.postMessage"]
    assert auth == ["Bearer xoxb-fake"]

"""Seconds from "a new statement is published" to "its Slack message arrives", through real Airflow.

``airflow standalone`` (scheduler, dag-processor, triggerer, api-server; LocalExecutor, SQLite
metadata, parallelism 4, as ``make run``) runs under ``setsid`` in a throw-away AIRFLOW_HOME and
is stopped by signalling its whole process group. A local site and a local fake Slack stand in
for the world. After a baseline pass, the bench publishes a statement about autonomous weapons,
triggers ``pledgewatch_scrape`` through the REST API and waits for the message to reach the fake
Slack through the Asset chain scrape -> match -> alerts: no downstream DAG is triggered by hand.

Prints one JSON line: {"seconds": ..., "target_s": 60, ...}. Target: <= 60 s on this machine.
``delivered_by`` is the run type of the ``pledgewatch_alerts`` run that sent the message (its
``deliver`` task's counts, read back through the REST API): ``through_assets`` is true only when
the match run was Asset-triggered and the delivery came from an Asset-triggered run, not the timer.
The Airflow processes are stopped (``stop_s``) before the line is printed; the work directory
is removed after a success and kept, with the Airflow log, after a failure.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._airflow import Airflow, stop_on_sigterm, workdir  # noqa: E402
from tests.support import pages  # noqa: E402
from tests.support.site import LocalSite  # noqa: E402
from tests.support.slack import FakeSlack  # noqa: E402

DAG_IDS = ("pledgewatch_scrape", "pledgewatch_match", "pledgewatch_alerts", "pledgewatch_quiet")
CHAIN = DAG_IDS[:3]  # the daily quiet check stays paused: it is not part of the chain measured
TARGET_S = 60.0


WEAPONS = pages.statement(
    "Secretary-General renews appeal on autonomous weapons",
    [
        "NEW YORK (21 November 2026) – The Secretary-General called for a treaty to prohibit lethal autonomous weapons.",
        "He said machines that take lives without human control are morally repugnant.",
    ],
)
BUDGET = pages.statement(
    "Budget committee concludes its session",
    ["The committee approved revised estimates for conference services and closed its session on time."],
)


def listing(site: LocalSite, with_weapons: bool) -> None:
    items = [("/en/press-releases/2026/11/budget", "Budget", "2026-11-16T09:00:00Z")]
    if with_weapons:
        items.insert(0, ("/en/press-releases/2026/11/weapons", "Weapons", "2026-11-21T09:00:00Z"))
    site.add("/en/press-releases", pages.listing(items))


def delivered(airflow: Airflow, run_id: str) -> bool:
    """Whether this pledgewatch_alerts run sent something (its deliver task's counts)."""
    path = (
        f"/api/v2/dags/pledgewatch_alerts/dagRuns/{quote(run_id, safe='')}"
        "/taskInstances/deliver/xcomEntries/return_value"
    )
    status, body = airflow.request("GET", path)
    if status != 200:
        return False
    value = json.loads(body).get("value") or {}
    if isinstance(value, str):  # serialized: JSON, or the repr of a dict
        try:
            value = json.loads(value)
        except ValueError:
            value = ast.literal_eval(value)
    return bool(value.get("sent"))


def main() -> None:
    with workdir("pw-latency-") as work:  # removed after a success, kept (with the logs) after a failure
        measure(work)


def measure(work: Path) -> None:
    site, slack = LocalSite(), FakeSlack()
    site.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    site.add("/en/press-releases/2026/11/budget", BUDGET)
    site.add("/en/press-releases/2026/11/weapons", WEAPONS)
    listing(site, with_weapons=False)
    registry = work / "sources.yaml"
    registry.write_text(
        pages.registry(
            [
                {
                    "key": "bench-press",
                    "publisher": "Bench Office",
                    "kind": "listing",
                    "url": site.url("/en/press-releases"),
                    "languages": ["en"],
                    "pattern": r"/en/press-releases/\d{4}/\d{2}/",
                }
            ]
        )
    )
    settings = {
        "PLEDGEWATCH_DATA_DIR": str(work / "data"),
        "PLEDGEWATCH_DATABASE_URL": f"sqlite:///{work / 'data' / 'pledgewatch.db'}",
        "PLEDGEWATCH_SOURCES_FILE": str(registry),
        "PLEDGEWATCH_BUILTIN_SOURCES": "false",
        "PLEDGEWATCH_ALLOW_PRIVATE_ADDRESSES": "true",
        "PLEDGEWATCH_MIN_DELAY_S": "0",
        "PLEDGEWATCH_DELAY_JITTER_S": "0",
        "PLEDGEWATCH_SLACK_WEBHOOK_URL": slack.webhook_url,
        "PLEDGEWATCH_SLACK_MIN_INTERVAL_S": "0",
    }
    os.environ.update(settings)
    from models import upgrade_database

    upgrade_database(settings["PLEDGEWATCH_DATABASE_URL"])
    airflow = Airflow(work / "airflow", settings, ["airflow", "standalone"])
    try:
        started = time.monotonic()
        airflow.start()
        airflow.wait_for_dags(DAG_IDS)
        airflow.unpause(*CHAIN)
        startup_s = time.monotonic() - started
        # Baseline: the first pass stores the listing's one unremarkable statement.
        airflow.trigger("pledgewatch_scrape", {"force": True})
        airflow.wait_idle(CHAIN)
        assert not slack.messages, "the baseline statement must not alert"

        before = {d: {r["dag_run_id"] for r in airflow.runs(d)} for d in CHAIN[1:]}
        listing(site, with_weapons=True)
        t0 = time.monotonic()
        run_id = airflow.trigger("pledgewatch_scrape", {"force": True})
        while not slack.messages:
            if time.monotonic() - t0 > 300:
                raise TimeoutError("no Slack message within 300 s")
            time.sleep(0.05)
        seconds = time.monotonic() - t0
        assert "c2a.7.4" in slack.messages[0]["text"]
        airflow.wait_idle(CHAIN)
        runs = {d: sorted(r["run_type"] for r in airflow.runs(d)) for d in CHAIN}
        # the runs the new statement caused downstream, and the one that delivered: the Asset chain, not a timer
        chain = {
            d: sorted(r["run_type"] for r in airflow.runs(d) if r["dag_run_id"] not in before[d])
            for d in before
        }
        delivered_by = sorted(
            r["run_type"]
            for r in airflow.runs("pledgewatch_alerts")
            if r["dag_run_id"] not in before["pledgewatch_alerts"] and delivered(airflow, r["dag_run_id"])
        )
    finally:
        stopping = time.monotonic()
        airflow.stop()
        stop_s = time.monotonic() - stopping
        site.close()
        slack.close()
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "target_s": TARGET_S,
                "within_target": seconds <= TARGET_S,
                "scrape_run": run_id,
                "run_types": runs,
                "after_trigger": chain,
                "delivered_by": delivered_by,
                "through_assets": "asset_triggered" in chain["pledgewatch_match"]
                and delivered_by == ["asset_triggered"],
                "startup_s": round(startup_s, 1),
                "stop_s": round(stop_s, 1),
                "executor": "LocalExecutor (airflow standalone, parallelism 4)",
            }
        )
    )


if __name__ == "__main__":
    with stop_on_sigterm():
        main()

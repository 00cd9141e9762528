"""PledgeWatch DAGs: scrape -> (Asset) -> match -> (Asset) -> alerts, and a daily quiet check.

Thin by design: each task calls one function of ``pipeline.airflow_support``, which calls the
same steps as the command line. At parse time this file reads settings (environment and the
TOML file) for the schedules, and nothing else: no database, no network.

An Asset event means "there is new work downstream": the ``announce`` tasks own the outlets
and are skipped when the step stored nothing new, so a quiet scrape never wakes the matcher
(a skipped task emits no Asset event; a successful task with outlets always does).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import (
    Asset,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    Param,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowSkipException

from pipeline import airflow_support as steps
from pipeline.settings import load_settings

NEW_VERSIONS = Asset(name="pledgewatch_new_versions", uri="pledgewatch://versions")
NEW_REFERENCES = Asset(name="pledgewatch_new_references", uri="pledgewatch://references")
OWED_ALERTS = Asset(name="pledgewatch_owed_alerts", uri="pledgewatch://alerts")

SETTINGS = load_settings()
START = pendulum.datetime(2026, 1, 1, tz="UTC")
DEFAULT_ARGS = {
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
    # A hung task (a host that trickles bytes forever past every socket timeout, a locked
    # database) must not hold max_active_runs=1 for ever: it fails, is retried, and is notified.
    # An hour is far above a real batch (politeness-bound: ~200 pages per source at 2 per host).
    "execution_timeout": timedelta(hours=1),
    "on_failure_callback": steps.notify_failure,
}
COMMON = {
    "start_date": START,
    "catchup": False,
    "max_active_runs": 1,  # two runs of one step would only compete for the same rows
    "default_args": DEFAULT_ARGS,
    "tags": ["pledgewatch"],
}


def announce(asset: Asset, counts: dict[str, int], key: str, outlet_events: object) -> dict[str, int]:
    """Emit ``asset`` with the counts when ``counts[key]`` is non-zero; otherwise skip (no event)."""
    if not counts.get(key):
        raise AirflowSkipException(f"nothing new ({key} = 0): no Asset event")
    outlet_events[asset].extra = counts  # type: ignore[index]
    return counts


@dag(
    dag_id="pledgewatch_scrape",
    schedule=timedelta(minutes=SETTINGS.scrape_interval_minutes),
    params={
        "force": Param(False, type="boolean", description="Scrape every enabled source, due or not."),
        "sources": Param([], type="array", description="Only these source keys (empty: all)."),
    },
    doc_md="Scrapes due sources in host-whole batches (pool `pledgewatch_fetch`); "
    "emits `pledgewatch_new_versions` only when new versions were stored.",
    **COMMON,
)
def pledgewatch_scrape():
    @task
    def plan(params: dict | None = None) -> list[list[str]]:
        params = params or {}
        return steps.plan_scrape(keys=list(params.get("sources") or []), force=bool(params.get("force")))

    @task(pool=steps.FETCH_POOL, map_index_template="{{ batch_label }}")
    def scrape(keys: list[str], params: dict | None = None) -> dict[str, int]:
        get_current_context()["batch_label"] = ", ".join(keys)  # type: ignore[typeddict-unknown-key]
        return steps.scrape_batch(keys, force=bool((params or {}).get("force")))

    @task(outlets=[NEW_VERSIONS])
    def announce_versions(results: list[dict[str, int]], *, outlet_events=None) -> dict[str, int]:
        return announce(NEW_VERSIONS, steps.sum_counts(results), "new_versions", outlet_events)

    announce_versions(scrape.expand(keys=plan()))


@dag(
    dag_id="pledgewatch_match",
    schedule=[NEW_VERSIONS],
    doc_md="Matches pending versions; emits `pledgewatch_new_references` when references were written.",
    **COMMON,
)
def pledgewatch_match():
    @task
    def match() -> dict[str, int]:
        return steps.match_pending()

    @task(outlets=[NEW_REFERENCES])
    def announce_references(counts: dict[str, int], *, outlet_events=None) -> dict[str, int]:
        return announce(NEW_REFERENCES, counts, "references", outlet_events)

    announce_references(match())


@dag(
    dag_id="pledgewatch_alerts",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(f"*/{SETTINGS.alerts_interval_minutes} * * * *", timezone="UTC"),
        assets=(NEW_REFERENCES | OWED_ALERTS),
    ),
    doc_md="Delivers the alert outbox (Slack, or the task log without Slack): on new references, "
    "on alerts owed by the quiet check, and on a short timer to retry what Slack refused. "
    "Source-health alerts (failing / recovered) are owed here, so they wait at most one timer period.",
    **COMMON,
)
def pledgewatch_alerts():
    @task
    def deliver() -> dict[str, int]:
        return steps.deliver_alerts()

    deliver()


@dag(
    dag_id="pledgewatch_quiet",
    schedule=CronTriggerTimetable(SETTINGS.quiet_check_cron, timezone="UTC"),
    doc_md="Daily: commitment statuses (active / quiet / unknown / never, and resumed alerts) and digests; "
    "emits `pledgewatch_owed_alerts` when it queued alerts (source health is checked by `pledgewatch_alerts`).",
    **COMMON,
)
def pledgewatch_quiet():
    @task
    def check() -> dict[str, int]:
        return steps.check_quiet()

    @task(outlets=[OWED_ALERTS])
    def announce_alerts(counts: dict[str, int], *, outlet_events=None) -> dict[str, int]:
        return announce(OWED_ALERTS, counts, "alerts", outlet_events)

    announce_alerts(check())


pledgewatch_scrape()
pledgewatch_match()
pledgewatch_alerts()
pledgewatch_quiet()

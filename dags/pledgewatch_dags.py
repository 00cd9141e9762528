"""PledgeWatch DAGs: scrape -> (Asset) -> match -> (Asset) -> alerts.

Thin by design: each task calls one ``pipeline`` step. Nothing here touches the database or
the network at parse time; imports of our code happen inside the tasks.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, dag, task

NEW_VERSIONS = Asset(name="pledgewatch_new_versions", uri="pledgewatch://versions")
NEW_REFERENCES = Asset(name="pledgewatch_new_references", uri="pledgewatch://references")

DEFAULT_ARGS = {
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
}
START = pendulum.datetime(2026, 1, 1, tz="UTC")


@dag(
    dag_id="pledgewatch_scrape",
    schedule=timedelta(minutes=30),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["pledgewatch"],
    doc_md="Polls every due source; emits an Asset event when new versions were stored.",
)
def pledgewatch_scrape():
    @task(outlets=[NEW_VERSIONS])
    def scrape(*, outlet_events=None) -> dict:
        from pipeline.context import Context
        from pipeline.scrape import run_scrape

        ctx = Context.from_env(trigger="airflow")
        try:
            report = run_scrape(ctx)
        finally:
            ctx.close()
        counts = report.counts()
        for result in report.sources:
            state = "ok" if result.ok else f"FAILED: {result.error}"
            print(
                f"source {result.key}: {state}; new statements {result.new_statements}, new versions {result.new_versions}"
            )
        if counts["new_versions"] and outlet_events is not None:
            outlet_events[NEW_VERSIONS].extra = counts
        return counts

    scrape()


@dag(
    dag_id="pledgewatch_match",
    schedule=[NEW_VERSIONS],
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["pledgewatch"],
    doc_md="Matches pending versions against the commitment catalog; emits an Asset when references were written.",
)
def pledgewatch_match():
    @task(outlets=[NEW_REFERENCES])
    def match(*, outlet_events=None) -> dict:
        from pipeline.context import Context
        from pipeline.match import run_match

        ctx = Context.from_env(trigger="airflow")
        try:
            counts = run_match(ctx).counts()
        finally:
            ctx.close()
        if counts["references"] and outlet_events is not None:
            outlet_events[NEW_REFERENCES].extra = counts
        return counts

    match()


@dag(
    dag_id="pledgewatch_alerts",
    schedule=[NEW_REFERENCES],
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["pledgewatch"],
    doc_md="Delivers the alert outbox to Slack (or the task log when Slack is not configured).",
)
def pledgewatch_alerts():
    @task
    def deliver() -> dict:
        from pipeline.alert import run_alerts
        from pipeline.context import Context

        ctx = Context.from_env(trigger="airflow")
        try:
            return run_alerts(ctx).counts()
        finally:
            ctx.close()

    deliver()


pledgewatch_scrape()
pledgewatch_match()
pledgewatch_alerts()

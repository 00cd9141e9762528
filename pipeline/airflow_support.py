"""What the Airflow DAGs call: one function per task, plus the few decisions only Airflow needs.

The DAG files stay declarations (schedules, Assets, pools, retries); everything a task *does*
is here, over the same steps the command line runs. The DAG file imports this module at parse
time, so its top level imports settings only: Airflow, the rooms and the database are imported
inside the functions (parsing stays fast, and ``pipeline`` works without the ``airflow`` extra).

Politeness under Airflow: the polite client paces each host inside one process, so a host's
sources must never be scraped by two tasks at once. The plan therefore packs whole hosts into
batches, and the pool ``pledgewatch_fetch`` (``fetch_pool_slots`` slots, created by
``scripts/run-airflow.sh`` and the compose init service) lets only as many batches run at once
as keep the total within ``scrape_workers`` sources in flight: the same budget as one
``pledgewatch run``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pipeline.settings import Settings, load_settings

if TYPE_CHECKING:
    from pipeline.context import Context

log = logging.getLogger(__name__)

FETCH_POOL = "pledgewatch_fetch"
WEBHOOK_CONN_TYPE = "slackwebhook"
API_CONN_TYPE = "slack"


def fetch_pool_slots(settings: Settings | None = None) -> int:
    """Scrape batches allowed to run at once: the fetch budget divided by the batch size."""
    settings = settings or load_settings()
    return max(1, settings.scrape_workers // max(1, settings.scrape_batch_size))


def batch_workers(settings: Settings) -> int:
    """Sources scraped concurrently inside one batch task."""
    return max(1, min(settings.scrape_batch_size, settings.scrape_workers))


def pack_by_host(sources: Iterable[tuple[str, str]], size: int) -> list[list[str]]:
    """Pack (key, url) pairs into batches of about ``size`` keys, never splitting a host.

    A host larger than ``size`` gets a batch of its own: its sources then share one process
    and one per-host gate, which is what keeps the per-host cap true across Airflow workers.
    """
    by_host: dict[str, list[str]] = {}
    for key, url in sources:
        by_host.setdefault((urlsplit(url).hostname or "").lower(), []).append(key)
    batches: list[list[str]] = []
    current: list[str] = []
    for keys in by_host.values():
        if current and len(current) + len(keys) > size:
            batches.append(current)
            current = []
        current.extend(keys)
    if current:
        batches.append(current)
    return batches


def sum_counts(results: Iterable[Mapping[str, Any] | None]) -> dict[str, int]:
    """Add up the counts of every batch (a batch that returned nothing adds nothing)."""
    total: dict[str, int] = {}
    for counts in results:
        for name, value in (counts or {}).items():
            if isinstance(value, int | float):
                total[name] = total.get(name, 0) + int(value)
    return total


# --- Slack credentials from an Airflow Connection ------------------------------------------


def slack_from_connection(
    conn_type: str, password: str | None, host: str | None, extra: Mapping[str, Any]
) -> dict[str, str]:
    """Setting overrides for one Slack Connection (webhook or Web API), as the provider reads it.

    A webhook connection holds the whole URL, or the token part of it, in its password; a Web
    API connection holds the bot token in its password and may point ``base_url`` elsewhere.
    """
    secret = (password or "").strip()
    if not secret:
        return {}
    if conn_type == WEBHOOK_CONN_TYPE:
        if "://" in secret:
            return {"slack_webhook_url": secret}
        base = host or "hooks.slack.com/services"
        base = base if "://" in base else f"https://{base}"
        return {"slack_webhook_url": base.rstrip("/") + "/" + secret.lstrip("/")}
    if conn_type == API_CONN_TYPE:
        overrides = {"slack_bot_token": secret}
        if extra.get("base_url"):
            overrides["slack_api_url"] = str(extra["base_url"])
        return overrides
    log.warning("connection type %r is not a Slack connection; ignored", conn_type)
    return {}


def _airflow_connection(conn_id: str) -> Any | None:
    """The Airflow Connection ``conn_id``, or None when it does not exist."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def slack_overrides(settings: Settings) -> dict[str, str]:
    """Slack from the Connection ``slack_conn_id``, unless PLEDGEWATCH_* settings already name one."""
    if settings.slack_webhook_url or settings.slack_bot_token or not settings.slack_conn_id:
        return {}
    conn = _airflow_connection(settings.slack_conn_id)
    if conn is None:
        return {}
    return slack_from_connection(conn.conn_type or "", conn.password, conn.host, conn.extra_dejson or {})


def task_context(**overrides: Any) -> Context:
    """The Context a task runs with: PLEDGEWATCH_* settings, Slack possibly from a Connection."""
    from pipeline.context import Context

    settings = load_settings()
    changes = {**slack_overrides(settings), **overrides}
    return Context(settings=settings.with_overrides(**changes) if changes else settings, trigger="airflow")


# --- one function per task ------------------------------------------------------------------


def plan_scrape(*, keys: list[str] | None = None, force: bool = False) -> list[list[str]]:
    """Sync the registry, then the due (or, with ``force``, all enabled) sources in host-whole batches."""
    from models import session_scope
    from pipeline.scrape import sync_registry
    from scrapers.crawl import due_sources

    ctx = task_context()
    try:
        sync_registry(ctx)
        with session_scope(ctx.factory) as session:
            pairs = [(s.key, s.url) for s in due_sources(session, keys=keys or None, force=force)]
        batches = pack_by_host(pairs, ctx.settings.scrape_batch_size)
    finally:
        ctx.close()
    print(f"{len(pairs)} source(s) to scrape in {len(batches)} batch(es)")
    return batches


def scrape_batch(keys: list[str], *, force: bool = False) -> dict[str, int]:
    """Scrape one batch of sources; a source's failure is recorded on it, not raised."""
    from pipeline.scrape import run_scrape

    settings = load_settings()
    ctx = task_context(scrape_workers=batch_workers(settings))
    try:
        report = run_scrape(ctx, keys=keys, force=force)
    finally:
        ctx.close()
    for result in report.sources:
        state = "ok" if result.ok else f"FAILED: {result.error}"
        print(
            f"source {result.key}: {state}; discovered {result.discovered}, "
            f"new statements {result.new_statements}, new versions {result.new_versions}"
        )
    return report.counts()


def match_pending() -> dict[str, int]:
    from pipeline.match import run_match

    ctx = task_context()
    try:
        return run_match(ctx).counts()
    finally:
        ctx.close()


def deliver_alerts() -> dict[str, int]:
    from pipeline.alert import run_alerts

    ctx = task_context()
    try:
        return dict(run_alerts(ctx).counts())
    finally:
        ctx.close()


def check_quiet() -> dict[str, int]:
    from pipeline.quiet import run_quiet

    ctx = task_context()
    try:
        return dict(run_quiet(ctx).counts())
    finally:
        ctx.close()


# --- failure notification -------------------------------------------------------------------


def failure_text(context: Mapping[str, Any]) -> str:
    """One line naming what failed and where its log is (ids only: nothing scraped)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    run_id = getattr(ti, "run_id", None) or getattr(context.get("dag_run"), "run_id", "?")
    try_number = getattr(ti, "try_number", "?")
    exc = context.get("exception")
    why = f" ({type(exc).__name__})" if exc is not None else ""
    text = f":red_circle: PledgeWatch task failed{why}: {dag_id}.{task_id}, run {run_id}, try {try_number}"
    log_url = getattr(ti, "log_url", None)
    return f"{text}. Log: {log_url}" if log_url else text


def notify_failure(context: Mapping[str, Any]) -> None:
    """``on_failure_callback``: tell Slack through the provider's notifier, if a Connection exists.

    Without the Connection ``slack_conn_id`` there is nobody to tell beyond the task log and
    the UI, so this does nothing; a failure to notify is logged and never masks the task's own.
    """
    settings = load_settings()
    conn = _airflow_connection(settings.slack_conn_id) if settings.slack_conn_id else None
    if conn is None:
        return
    text = failure_text(context)
    try:
        if conn.conn_type == WEBHOOK_CONN_TYPE:
            from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

            notifier: Any = SlackWebhookNotifier(slack_webhook_conn_id=settings.slack_conn_id, text=text)
        elif conn.conn_type == API_CONN_TYPE:
            from airflow.providers.slack.notifications.slack import SlackNotifier

            notifier = SlackNotifier(
                slack_conn_id=settings.slack_conn_id, channel=settings.slack_channel, text=text
            )
        else:
            log.warning("connection %s is not a Slack connection", settings.slack_conn_id)
            return
        notifier.notify(dict(context))
    except Exception:
        log.exception("could not notify Slack of the failure")

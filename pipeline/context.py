"""The run-time context a step needs, built from settings in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from alerts.policy import AlertPolicy
from alerts.transport import SlackConfig
from matching import Catalog, Matcher, load_catalog
from models import Run, create_db_engine, make_session_factory, session_scope, utcnow
from pipeline.settings import Settings, SettingsError, load_settings
from scrapers.client import FetchPolicy, PoliteClient


def fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        user_agent=settings.user_agent,
        connect_timeout_s=settings.connect_timeout_s,
        read_timeout_s=settings.read_timeout_s,
        max_bytes=settings.max_response_bytes,
        per_host_concurrency=settings.per_host_concurrency,
        min_delay_s=settings.min_delay_s,
        delay_jitter_s=settings.delay_jitter_s,
        max_retries=settings.max_retries,
        retry_backoff_s=settings.retry_backoff_s,
        max_redirects=settings.max_redirects,
        obey_robots=settings.obey_robots,
        deadline_s=settings.fetch_deadline_s,
        max_crawl_delay_s=settings.max_crawl_delay_s,
        allow_private_addresses=settings.allow_private_addresses,
        robots_cache_dir=str(settings.data_dir / "robots"),
    )


def slack_config(settings: Settings) -> SlackConfig:
    return SlackConfig(
        webhook_url=settings.slack_webhook_url,
        bot_token=settings.slack_bot_token,
        channel=settings.slack_channel,
        api_url=settings.slack_api_url,
        routes=dict(settings.slack_routes),
        webhook_routes=dict(settings.slack_webhook_routes),
        timeout_s=settings.slack_timeout_s,
        min_interval_s=settings.slack_min_interval_s,
    )


def alert_policy(settings: Settings) -> AlertPolicy:
    try:
        return _alert_policy(settings)
    except ValueError as exc:
        raise SettingsError(f"alert settings: {exc}") from exc


def _alert_policy(settings: Settings) -> AlertPolicy:
    return AlertPolicy(
        default_channel=settings.slack_channel,
        routes=dict(settings.slack_routes),
        public_url=settings.public_url,
        quiet_default_days=settings.quiet_default_days,
        quiet_min_source_health=settings.quiet_min_source_health,
        source_failure_threshold=settings.source_failure_threshold,
        source_reminder_hours=settings.source_reminder_hours,
        digest=settings.digest,
        max_attempts=settings.alert_max_attempts,
        retry_base_s=settings.alert_retry_base_s,
        claim_stale_s=settings.alert_claim_stale_s,
        min_interval_s=settings.slack_min_interval_s,
    )


@dataclass
class Context:
    settings: Settings
    trigger: str = "cli"
    _engine: Engine | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, trigger: str = "cli", **overrides: Any) -> Context:
        settings = load_settings()
        if overrides:
            settings = settings.with_overrides(**overrides)
        return cls(settings=settings, trigger=trigger)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_db_engine(self.settings.effective_database_url)
        return self._engine

    @cached_property
    def factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def client(self) -> PoliteClient:
        return PoliteClient(fetch_policy(self.settings))

    @cached_property
    def catalog(self) -> Catalog:
        return load_catalog(self.settings.catalog_file)

    @cached_property
    def matcher(self) -> Matcher:
        return Matcher(self.catalog)

    @cached_property
    def slack(self) -> SlackConfig:
        return slack_config(self.settings)

    @cached_property
    def alert_policy(self) -> AlertPolicy:
        return alert_policy(self.settings)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


@dataclass
class RunRecord:
    id: int
    counts: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    status: str = "ok"


@contextmanager
def record_run(ctx: Context, kind: str) -> Iterator[RunRecord]:
    """Record a step in ``runs``: what it did, what went wrong, how long it took."""
    started = utcnow()
    with session_scope(ctx.factory) as session:
        run = Run(kind=kind, trigger=ctx.trigger, started_at=started, status="running")
        session.add(run)
        session.flush()
        record = RunRecord(id=run.id)
    try:
        yield record
    except BaseException as exc:
        record.status = "failed"
        record.errors.append(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        finished = utcnow()
        with session_scope(ctx.factory) as session:
            run = session.get(Run, record.id)
            if run is not None:
                run.finished_at = finished
                run.status = record.status if record.status != "ok" or not record.errors else "partial"
                run.counts = record.counts
                run.errors = record.errors[:200]
                run.duration_s = (finished - started).total_seconds()

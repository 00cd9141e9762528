"""All configuration, in one place.

Precedence, lowest to highest: the defaults below, a TOML file (``PLEDGEWATCH_CONFIG``, or
``pledgewatch.toml`` in the data directory), then environment variables named
``PLEDGEWATCH_<FIELD>`` (upper case). Environment wins so that Airflow workers, CI and
containers can override a shared file without editing it.

The other rooms never read the environment: ``pipeline`` builds their small policy objects
(``scrapers.client.FetchPolicy``, ``alerts.delivery.SlackConfig``...) from these settings.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

from sqlalchemy.engine import make_url

ENV_PREFIX = "PLEDGEWATCH_"
SECRET = {"secret": True}


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pledgewatch"


@dataclass(frozen=True)
class Settings:
    # storage
    data_dir: Path = field(default_factory=_default_data_dir)
    database_url: str = field(default="", metadata=SECRET)  # empty: SQLite file in data_dir

    # what to watch and what to look for
    sources_file: Path | None = None  # the user's own registry, merged over scrapers/sources.yaml
    builtin_sources: bool = True  # false: only the sources_file (the demo and tests)
    catalog_file: Path | None = None  # a replacement commitment catalog (YAML)

    # the polite client
    user_agent: str = "PledgeWatch/0.1 (human-rights commitment monitor; +https://pledgewatch.org/bot)"
    allow_private_addresses: bool = False  # loopback/private targets: tests and the demo only
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    max_response_bytes: int = 15_000_000
    per_host_concurrency: int = 2
    # per connection slot, start to start: a host sees at most per_host_concurrency requests
    # per min_delay_s, and a host slower than that is paced by its own latency (scrapers/client.py)
    min_delay_s: float = 0.15
    delay_jitter_s: float = 0.05
    max_retries: int = 3
    retry_backoff_s: float = 2.0
    max_redirects: int = 5
    obey_robots: bool = True
    fetch_deadline_s: float = 120.0  # a whole response, first byte to last
    max_crawl_delay_s: float = 30.0  # robots.txt Crawl-delay is honoured up to this
    scrape_workers: int = 64  # fetches in flight across all hosts (each host still capped)
    # worker processes for extraction, started only once a pass has many pages to read (see
    # scrapers/analyse.py); 0: in the fetch threads only. Default: 2 where there are 2+ CPUs.
    extract_processes: int = field(default_factory=lambda: 2 if (os.cpu_count() or 1) > 1 else 0)
    backfill_pages: int = 3
    max_items_per_source: int = 200
    recheck_hours: float = 6.0  # re-validate a known, recent statement this often

    # alerts and Slack
    slack_webhook_url: str = field(default="", metadata=SECRET)
    slack_bot_token: str = field(default="", metadata=SECRET)
    slack_channel: str = "#pledgewatch"
    slack_api_url: str = "https://slack.com/api/"
    slack_routes: dict[str, str] = field(default_factory=dict)  # commitment id or family -> channel
    # webhooks post to one channel each: channel -> its webhook URL (else slack_webhook_url)
    slack_webhook_routes: dict[str, str] = field(default_factory=dict, metadata=SECRET)
    slack_min_interval_s: float = 1.0  # Slack's rule: about one message per second per channel
    slack_timeout_s: float = 15.0
    alert_max_attempts: int = 12
    alert_retry_base_s: float = 30.0  # first retry delay; doubles per attempt, at most an hour
    alert_claim_stale_s: float = 300.0  # a claim not renewed for this long: its sender died
    public_url: str = "http://localhost:8080/pledgewatch"  # links to a statement's history

    # commitment and source health
    quiet_default_days: int = 90
    quiet_min_source_health: float = 0.75
    source_failure_threshold: int = 3
    source_reminder_hours: float = 24.0
    digest: str = "off"  # off | daily | weekly

    # Airflow
    scrape_interval_minutes: int = 30
    scrape_batch_size: int = 4
    slack_conn_id: str = "pledgewatch_slack"
    alerts_interval_minutes: int = 5  # pledgewatch_alerts also runs on this timer: retries what Slack refused
    quiet_check_cron: str = "0 6 * * *"  # pledgewatch_quiet: the daily quiet/resumed check (UTC)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'pledgewatch.db'}"

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def masked(self) -> dict[str, Any]:
        """Every effective setting, secrets masked: safe to print or log."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "database_url":
                value = mask_url(self.effective_database_url)
            elif f.metadata.get("secret") and value:
                value = mask_secret(str(value))
            out[f.name] = str(value) if isinstance(value, Path) else value
        return out


def mask_secret(value: str) -> str:
    """Keep just enough of a secret to recognise which one it is."""
    if len(value) <= 8:
        return "****"
    return value[:4] + "****" + value[-2:]


def mask_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return mask_secret(url)


def _coerce(name: str, raw: Any, annotation: Any) -> Any:
    text = str(raw).strip() if not isinstance(raw, dict | list | bool | int | float) else raw
    try:
        if annotation is bool:
            if isinstance(text, bool):
                return text
            lowered = str(text).lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(f"not a boolean: {raw!r}")
        if annotation is int:
            return int(text)
        if annotation is float:
            return float(text)
        if annotation is Path:
            return Path(str(text)).expanduser()
        if annotation == Path | None:
            return Path(str(text)).expanduser() if str(text) else None
        if annotation == dict[str, str]:
            value = json.loads(text) if isinstance(text, str) else text
            if not isinstance(value, dict):
                raise ValueError("expected a JSON object")
            return {str(k): str(v) for k, v in value.items()}
        return str(text)
    except (ValueError, json.JSONDecodeError) as exc:
        raise SettingsError(f"setting {name}: {exc}") from exc


class SettingsError(ValueError):
    """A setting could not be read; the message names the setting."""


def load_settings(env: dict[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Build the effective settings from defaults, the TOML file and the environment."""
    env = dict(os.environ if env is None else env)
    hints = get_type_hints(Settings)
    known = {f.name for f in fields(Settings)}
    values: dict[str, Any] = {}

    env_values = {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in env.items()
        if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "CONFIG"
    }
    data_dir = Path(env_values["data_dir"]).expanduser() if "data_dir" in env_values else _default_data_dir()
    path = config_file or (Path(env[ENV_PREFIX + "CONFIG"]) if env.get(ENV_PREFIX + "CONFIG") else None)
    if path is None and (data_dir / "pledgewatch.toml").exists():
        path = data_dir / "pledgewatch.toml"
    if path is not None:
        try:
            with open(path, "rb") as fh:
                file_values = tomllib.load(fh)
        except OSError as exc:
            raise SettingsError(f"cannot read config file {path}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from exc
        section = file_values.get("pledgewatch", file_values)
        for name, raw in section.items():
            if name not in known:
                raise SettingsError(f"config file {path}: unknown setting {name!r}")
            values[name] = _coerce(name, raw, hints[name])
    for name, raw in env_values.items():
        if name in known:
            values[name] = _coerce(ENV_PREFIX + name.upper(), raw, hints[name])
    return Settings(**values)

"""Where messages go: a Slack incoming webhook, the Slack Web API, or the console.

Thin wrappers over slack-sdk (the only Slack client we use), as the Airflow Slack provider
keeps its clients in hooks: they post, classify failures, and know nothing of the outbox.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

PERMANENT_SLACK_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "missing_scope",
        "no_permission",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "invalid_token",
        "no_service",
        "no_service_id",
        "no_team",
        "team_disabled",
        "channel_is_archived",
        "action_prohibited",
        "posting_to_general_channel_denied",
    }
)


@dataclass(frozen=True)
class SlackConfig:
    webhook_url: str = ""
    bot_token: str = ""
    channel: str = "#pledgewatch"
    api_url: str = "https://slack.com/api/"
    routes: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 15.0
    min_interval_s: float = 1.0

    @property
    def configured(self) -> bool:
        return bool(self.webhook_url or self.bot_token)


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after_s = retry_after_s


class Transport(Protocol):
    name: str

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], dedup_key: str) -> str:
        """Post one message; return Slack's timestamp (or an empty string when none is given)."""
        ...

    def find_posted(self, channel: str, dedup_key: str, since_ts: float) -> str | None:
        """The timestamp of an earlier post carrying ``dedup_key``, if the transport can tell."""
        ...


class WebhookTransport:
    name = "webhook"

    def __init__(self, url: str, timeout_s: float = 15.0) -> None:
        from slack_sdk.webhook import WebhookClient

        self._client = WebhookClient(url=url, timeout=int(max(1, timeout_s)))

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], dedup_key: str) -> str:
        try:
            resp = self._client.send(text=text, blocks=blocks, unfurl_links=False, unfurl_media=False)
        except Exception as exc:  # network errors, timeouts
            raise DeliveryError(f"webhook unreachable: {type(exc).__name__}: {exc}") from exc
        if resp.status_code == 200:
            return ""
        retry_after = (
            resp.headers.get("Retry-After") or resp.headers.get("retry-after") if resp.headers else None
        )
        if resp.status_code == 429:
            raise DeliveryError("rate limited by Slack", retry_after_s=float(retry_after or 1))
        permanent = resp.status_code in {400, 403, 404, 410}
        raise DeliveryError(
            f"webhook answered HTTP {resp.status_code}: {resp.body[:200]}", permanent=permanent
        )

    def find_posted(self, channel: str, dedup_key: str, since_ts: float) -> str | None:
        return None  # webhooks cannot read back


class WebApiTransport:
    name = "web_api"

    def __init__(self, token: str, api_url: str = "https://slack.com/api/", timeout_s: float = 15.0) -> None:
        from slack_sdk import WebClient

        self._client = WebClient(
            token=token,
            base_url=api_url if api_url.endswith("/") else api_url + "/",
            timeout=int(max(1, timeout_s)),
        )

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], dedup_key: str) -> str:
        from slack_sdk.errors import SlackApiError

        try:
            resp = self._client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                unfurl_media=False,
                metadata={"event_type": "pledgewatch_alert", "event_payload": {"dedup_key": dedup_key}},
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if exc.response is not None else ""
            status = exc.response.status_code if exc.response is not None else 0
            if status == 429 or error == "ratelimited":
                retry = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
                raise DeliveryError("rate limited by Slack", retry_after_s=float(retry or 1)) from exc
            raise DeliveryError(
                f"Slack API error: {error or status}", permanent=error in PERMANENT_SLACK_ERRORS
            ) from exc
        except Exception as exc:
            raise DeliveryError(f"Slack API unreachable: {type(exc).__name__}: {exc}") from exc
        return str(resp.get("ts") or "")

    def find_posted(self, channel: str, dedup_key: str, since_ts: float) -> str | None:
        from slack_sdk.errors import SlackApiError

        try:
            resp = self._client.conversations_history(
                channel=channel, oldest=f"{since_ts:.6f}", include_all_metadata=True, limit=200
            )
        except SlackApiError as exc:
            raise DeliveryError(f"cannot read channel history: {exc.response.get('error')}") from exc
        except Exception as exc:
            raise DeliveryError(f"Slack API unreachable: {type(exc).__name__}: {exc}") from exc
        for message in resp.get("messages") or []:
            meta = message.get("metadata") or {}
            if (meta.get("event_payload") or {}).get("dedup_key") == dedup_key:
                return str(message.get("ts"))
        return None


class ConsoleTransport:
    """No Slack configured: print the plain-text fallback; the alert stays in the outbox."""

    name = "console"

    def __init__(self, echo: Any = print) -> None:
        self._echo = echo

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], dedup_key: str) -> str:
        self._echo(f"[alert → {channel}] {text}")
        for block in blocks[1:]:
            body = (block.get("text") or {}).get("text")
            if body:
                self._echo("    " + body.replace("\n", "\n    "))
        return ""

    def find_posted(self, channel: str, dedup_key: str, since_ts: float) -> str | None:
        return None


def make_transport(config: SlackConfig, echo: Any = print) -> Transport:
    if config.bot_token:
        return WebApiTransport(config.bot_token, config.api_url, config.timeout_s)
    if config.webhook_url:
        return WebhookTransport(config.webhook_url, config.timeout_s)
    return ConsoleTransport(echo)


def dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)

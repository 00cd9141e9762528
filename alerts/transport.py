"""Where messages go: a Slack incoming webhook, the Slack Web API, or the console.

Thin wrappers over slack-sdk (the only Slack client we use), as the Airflow Slack provider
keeps its clients in hooks: they post, read back, and classify failures; they know nothing
of the outbox. slack-sdk's own retry handlers are switched off: a silent resend after a
connection reset could post twice, and only the sender (which knows the dedup keys) may
decide to post again.

Failure classes (``DeliveryError``):

- ``scope``: ``retry`` (transient: 5xx, network, rate limit), ``message`` (this message can
  never be posted as it is), ``channel`` (this channel refuses us), ``token`` (every post will
  fail until the configuration is fixed).
- ``maybe_delivered``: the request reached Slack but no answer came back (read timeout,
  connection reset, Slack's ``internal_error``). Only then can a retry double-post, so only
  then is Slack asked first.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import urllib.error
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from alerts.console import print_message
from alerts.render import Message

EVENT_TYPE = "pledgewatch_alert"

TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "invalid_token",
        "no_permission",
        "missing_scope",
        "team_disabled",
        "team_access_not_granted",
        "ekm_access_denied",
        "no_team",
        "no_service",
        "no_service_id",
        "action_prohibited",
    }
)
CHANNEL_ERRORS = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "channel_is_archived",
        "not_in_channel",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "posting_to_general_channel_denied",
        "cannot_reply_to_message",
    }
)
MESSAGE_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_payload",
        "msg_too_long",
        "msg_blocks_too_long",
        "too_many_attachments",
        "no_text",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "metadata_must_be_sent_from_app",
        "invalid_arguments",
        "invalid_form_data",
    }
)
MAYBE_DELIVERED_ERRORS = frozenset({"internal_error", "fatal_error"})
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")
# slack-sdk logs every failed request at ERROR; the sender reports each problem once itself.
_SDK_LOG = logging.getLogger(__name__ + ".slack_sdk")
_SDK_LOG.setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class SlackConfig:
    webhook_url: str = ""
    bot_token: str = ""
    channel: str = "#pledgewatch"
    api_url: str = "https://slack.com/api/"
    routes: dict[str, str] = field(default_factory=dict)
    webhook_routes: dict[str, str] = field(default_factory=dict)  # channel -> its own webhook URL
    timeout_s: float = 15.0
    min_interval_s: float = 1.0

    @property
    def configured(self) -> bool:
        return bool(self.webhook_url or self.bot_token or self.webhook_routes)


class DeliveryError(Exception):
    def __init__(
        self,
        message: str,
        *,
        scope: str = "retry",
        code: str = "",
        retry_after_s: float | None = None,
        maybe_delivered: bool = False,
    ) -> None:
        super().__init__(message)
        self.scope = scope
        self.code = code
        self.retry_after_s = retry_after_s
        self.maybe_delivered = maybe_delivered

    @property
    def permanent(self) -> bool:
        return self.scope != "retry"


@dataclass(frozen=True)
class Posted:
    ts: str
    channel_id: str | None = None


class Transport(Protocol):
    name: str
    can_check: bool  # can it tell whether a message carrying a dedup key was posted?

    def post(self, channel: str, message: Message, dedup_keys: list[str]) -> Posted: ...

    def find_posted(
        self, channel: str, channel_id: str | None, dedup_keys: list[str], since: datetime
    ) -> dict[str, Posted]: ...


def scope_of(code: str) -> str:
    if code in TOKEN_ERRORS:
        return "token"
    if code in CHANNEL_ERRORS:
        return "channel"
    if code in MESSAGE_ERRORS:
        return "message"
    return "retry"


def _network_error(exc: BaseException, what: str) -> DeliveryError:
    """A failure without an HTTP answer: before the request was sent, or after.

    urllib wraps errors raised while connecting and sending in ``URLError``; errors while
    waiting for the answer (timeouts, resets) come through raw: those requests reached Slack.
    """
    sent = not isinstance(exc, urllib.error.URLError)
    detail = f"{type(exc).__name__}: {exc}"
    if sent:
        return DeliveryError(f"{what}: no answer ({detail})", maybe_delivered=True)
    return DeliveryError(f"{what} unreachable ({detail})")


def _retry_after(headers: Any) -> float:
    value = None
    if headers:
        value = headers.get("Retry-After") or headers.get("retry-after")
        if isinstance(value, list):
            value = value[0] if value else None
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0


class WebhookTransport:
    """Incoming webhooks: one URL per channel, no read-back, so no automatic re-post after doubt."""

    name = "webhook"
    can_check = False

    def __init__(self, url: str, routes: dict[str, str] | None = None, timeout_s: float = 15.0) -> None:
        self._default = url
        self._routes = dict(routes or {})
        self._timeout = timeout_s
        self._clients: dict[str, Any] = {}

    def _client(self, channel: str) -> Any:
        from slack_sdk.webhook import WebhookClient

        url = self._routes.get(channel) or self._default
        if not url:
            raise DeliveryError(f"no webhook URL for {channel}", scope="channel", code="no_webhook")
        if url not in self._clients:
            self._clients[url] = WebhookClient(
                url=url,
                timeout=self._timeout,  # type: ignore[arg-type]
                retry_handlers=[],
                logger=_SDK_LOG,
            )
        return self._clients[url]

    def post(self, channel: str, message: Message, dedup_keys: list[str]) -> Posted:
        client = self._client(channel)
        try:
            resp = client.send(
                text=message.text, blocks=message.blocks or None, unfurl_links=False, unfurl_media=False
            )
        except (OSError, http.client.HTTPException) as exc:
            raise _network_error(exc, "Slack webhook") from exc
        if resp.status_code == 200:
            return Posted(ts="")
        body = (resp.body or "").strip()[:200]
        if resp.status_code == 429:
            raise DeliveryError(
                "rate limited by Slack", code="ratelimited", retry_after_s=_retry_after(resp.headers)
            )
        if resp.status_code >= 500:
            raise DeliveryError(f"Slack webhook answered HTTP {resp.status_code}: {body}")
        code = body if re.fullmatch(r"[a-z_]+", body or "") else ""
        scope = scope_of(code) if code else "channel"
        if resp.status_code == 400 and scope == "retry":
            scope = "message"
        raise DeliveryError(
            f"Slack webhook answered HTTP {resp.status_code}: {body}", scope=scope, code=code or body
        )

    def find_posted(
        self, channel: str, channel_id: str | None, dedup_keys: list[str], since: datetime
    ) -> dict[str, Posted]:
        raise DeliveryError("an incoming webhook cannot read the channel back", scope="check")


class WebApiTransport:
    """``chat.postMessage`` with the dedup keys in message metadata; ``conversations.history`` reads them back.

    Bot scopes: ``chat:write`` to post; ``channels:history`` (``groups:history`` for private
    channels) to check after a doubtful attempt; ``channels:read`` only when a route names a
    channel that has never been posted to (its id is otherwise learnt from Slack's answers).
    """

    name = "web_api"
    can_check = True
    max_history_pages = 25

    def __init__(self, token: str, api_url: str = "https://slack.com/api/", timeout_s: float = 15.0) -> None:
        from slack_sdk import WebClient

        self._client = WebClient(
            token=token,
            base_url=api_url if api_url.endswith("/") else api_url + "/",
            timeout=timeout_s,  # type: ignore[arg-type]
            retry_handlers=[],
            logger=_SDK_LOG,
        )
        self._ids: dict[str, str] = {}

    def _call(self, what: str, method: str, **kwargs: Any) -> Any:
        from slack_sdk.errors import SlackApiError

        try:
            return getattr(self._client, method)(**kwargs)
        except SlackApiError as exc:
            resp = exc.response
            status = getattr(resp, "status_code", 0) or 0
            data = resp.data if resp is not None and isinstance(resp.data, dict) else {}
            code = str(data.get("error") or "")
            if status == 429 or code == "ratelimited":
                raise DeliveryError(
                    "rate limited by Slack",
                    code="ratelimited",
                    retry_after_s=_retry_after(resp.headers if resp is not None else None),
                ) from exc
            if status >= 500 and code not in MAYBE_DELIVERED_ERRORS:
                raise DeliveryError(f"{what}: HTTP {status}") from exc
            scope = scope_of(code)
            raise DeliveryError(
                f"{what}: {code or f'HTTP {status}'}",
                scope=scope,
                code=code,
                maybe_delivered=code in MAYBE_DELIVERED_ERRORS,
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise _network_error(exc, what) from exc
        except json.JSONDecodeError as exc:  # a proxy's HTML error page
            raise DeliveryError(f"{what}: unreadable answer") from exc

    def post(self, channel: str, message: Message, dedup_keys: list[str]) -> Posted:
        resp = self._call(
            "Slack chat.postMessage",
            "chat_postMessage",
            channel=channel,
            text=message.text,
            blocks=message.blocks or None,
            unfurl_links=False,
            unfurl_media=False,
            metadata={
                "event_type": EVENT_TYPE,
                "event_payload": {"dedup_key": dedup_keys[0], "dedup_keys": " ".join(dedup_keys)},
            },
        )
        channel_id = str(resp.get("channel") or "") or None
        if channel_id:
            self._ids[channel] = channel_id
        return Posted(ts=str(resp.get("ts") or ""), channel_id=channel_id)

    def channel_id(self, channel: str, hint: str | None = None) -> str:
        if _CHANNEL_ID.fullmatch(channel):
            return channel
        if hint or channel in self._ids:
            return hint or self._ids[channel]
        name = channel.lstrip("#")
        cursor = None
        for _ in range(self.max_history_pages):
            resp = self._call(
                "Slack conversations.list",
                "conversations_list",
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
            for ch in resp.get("channels") or []:
                self._ids["#" + str(ch.get("name"))] = str(ch.get("id"))
            if "#" + name in self._ids:
                return self._ids["#" + name]
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        raise DeliveryError(f"no channel named {channel}", scope="channel", code="channel_not_found")

    def find_posted(
        self, channel: str, channel_id: str | None, dedup_keys: list[str], since: datetime
    ) -> dict[str, Posted]:
        """Our messages in the channel since ``since`` that carry any of ``dedup_keys``."""
        cid = self.channel_id(channel, channel_id)
        wanted = set(dedup_keys)
        found: dict[str, Posted] = {}
        cursor = None
        for _ in range(self.max_history_pages):
            resp = self._call(
                "Slack conversations.history",
                "conversations_history",
                channel=cid,
                oldest=f"{since.timestamp():.6f}",
                limit=200,
                include_all_metadata=True,
                cursor=cursor,
            )
            for msg in resp.get("messages") or []:
                meta = msg.get("metadata") or {}
                if meta.get("event_type") != EVENT_TYPE:
                    continue
                payload = meta.get("event_payload") or {}
                keys = set(str(payload.get("dedup_keys") or payload.get("dedup_key") or "").split())
                for key in keys & wanted:
                    found.setdefault(key, Posted(ts=str(msg.get("ts") or ""), channel_id=cid))
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor or len(found) == len(wanted):
                break
        return found


class ConsoleTransport:
    """No Slack configured: print the message readably (rich); the alert stays in the outbox.

    It "can check" in the sense that matters: nothing printed ever reached Slack, so a print
    cut short by a crash is simply printed again.
    """

    name = "console"
    can_check = True

    def __init__(self, echo: Any = print) -> None:
        self._echo = echo

    def post(self, channel: str, message: Message, dedup_keys: list[str]) -> Posted:
        print_message(message, channel=channel, echo=self._echo)
        return Posted(ts="")

    def find_posted(
        self, channel: str, channel_id: str | None, dedup_keys: list[str], since: datetime
    ) -> dict[str, Posted]:
        return {}  # nothing printed can have reached Slack


def make_transport(config: SlackConfig, echo: Any = print) -> Transport:
    if config.bot_token:
        return WebApiTransport(config.bot_token, config.api_url, config.timeout_s)
    if config.webhook_url or config.webhook_routes:
        return WebhookTransport(config.webhook_url, config.webhook_routes, config.timeout_s)
    return ConsoleTransport(echo)

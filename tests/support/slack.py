"""A fake Slack on loopback: incoming-webhook and Web API paths, with programmable failures.

Like Slack: channels have ids (``conversations.list``), ``conversations.history`` wants the id
and returns message metadata, timestamps follow the clock, an unknown channel is
``channel_not_found``. Optional: a per-channel pace that answers 429 (``rate_limit_s``), a
delay between accepting a post and answering (``post_delay_s``, widens the crash window).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Failure:
    status: int = 500
    body: str = "error"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # > client timeout simulates a timeout
    deliver: bool = False  # accept (record) the message first: the post landed, the answer fails


class FakeSlack:
    """Records every accepted message; ``fail_next`` queues failures answered before success."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.failures: list[Failure] = []
        self.api_error: str | None = None  # answer {"ok": false, "error": ...} to every API call
        self.missing_channels: set[str] = set()  # names or ids answered with channel_not_found
        self.rate_limit_s = 0.0  # > 0: a second post to a channel within this answers 429
        self.post_delay_s = 0.0  # delay between accepting a post and answering it
        self.channel_ids: dict[str, str] = {}  # "#name" -> "C..."
        self._lock = threading.Lock()
        self._ts = 0.0
        self._last_post: dict[str, float] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.webhook_url = f"http://127.0.0.1:{self.port}/services/T000/B000/XXXX"
        self.api_url = f"http://127.0.0.1:{self.port}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def fail_next(self, *failures: Failure) -> None:
        with self._lock:
            self.failures.extend(failures)

    def add_channel(self, name: str) -> str:
        """The id of channel ``#name`` (created when new)."""
        name = "#" + name.lstrip("#")
        with self._lock:
            return self._channel_id(name)

    def _channel_id(self, name: str) -> str:
        if name not in self.channel_ids:
            self.channel_ids[name] = f"C{len(self.channel_ids) + 1:08d}"
        return self.channel_ids[name]

    def _resolve(self, channel: str | None) -> str | None:
        """A posted-to channel (name or id) -> its id; None when it does not exist."""
        if not channel or channel in self.missing_channels:
            return None
        if channel in self.channel_ids.values():
            return channel
        if channel.startswith("C"):
            return None
        return self._channel_id("#" + channel.lstrip("#"))

    def _next_ts(self) -> str:
        self._ts = max(self._ts + 0.000001, time.time())
        return f"{self._ts:.6f}"

    def keys_posted(self) -> list[str]:
        """Every dedup key carried by an accepted Web API message, once per message carrying it."""
        out: list[str] = []
        for m in self.messages:
            payload = (m.get("metadata") or {}).get("event_payload") or {}
            out.extend(str(payload.get("dedup_keys") or payload.get("dedup_key") or "").split())
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _reply(
        self,
        req: BaseHTTPRequestHandler,
        status: int,
        body: str,
        headers: dict[str, str] | None = None,
        ctype: str = "text/plain",
    ) -> None:
        data = body.encode("utf-8")
        req.send_response(status)
        req.send_header("Content-Type", ctype)
        req.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            req.send_header(k, v)
        req.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            req.wfile.write(data)  # fails when the client gave up waiting (a timeout being tested)

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length else b""
        ctype = req.headers.get("Content-Type", "")
        if "json" in ctype and raw:
            body: dict[str, Any] = json.loads(raw)
        elif raw:
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        else:
            body = {}
        path = req.path.split("?")[0]
        query = {k: v[0] for k, v in parse_qs(req.path.partition("?")[2]).items()}
        body = {**query, **body}
        posting = path.startswith("/services/") or path == "/api/chat.postMessage"
        with self._lock:
            self.requests.append({"path": path, "body": body, "headers": dict(req.headers)})
            failure = self.failures.pop(0) if self.failures and posting else None
        if failure is not None:
            if failure.deliver:
                self._accept(path, body)
            if failure.delay_s:
                time.sleep(failure.delay_s)
            self._reply(req, failure.status, failure.body, failure.headers)
            return
        if path.startswith("/services/"):
            with self._lock:
                self.messages.append({"via": "webhook", "hook": path, **body})
            self._reply(req, 200, "ok")
            return
        api = "application/json"
        if path.startswith("/api/") and self.api_error:
            self._reply(req, 200, json.dumps({"ok": False, "error": self.api_error}), ctype=api)
            return
        if path == "/api/chat.postMessage":
            with self._lock:
                cid = self._resolve(body.get("channel"))
                now = time.monotonic()
                limited = (
                    cid is not None
                    and self.rate_limit_s > 0
                    and now - self._last_post.get(cid, -1e9) < self.rate_limit_s
                )
            if cid is None:
                self._reply(req, 200, json.dumps({"ok": False, "error": "channel_not_found"}), ctype=api)
                return
            if limited:
                self._reply(
                    req, 429, json.dumps({"ok": False, "error": "ratelimited"}), {"Retry-After": "1"}, api
                )
                return
            ts = self._accept(path, body)
            if self.post_delay_s:
                time.sleep(self.post_delay_s)
            self._reply(req, 200, json.dumps({"ok": True, "channel": cid, "ts": ts}), ctype=api)
            return
        if path == "/api/conversations.list":
            with self._lock:
                chans = [{"id": i, "name": n.lstrip("#")} for n, i in self.channel_ids.items()]
            self._reply(req, 200, json.dumps({"ok": True, "channels": chans}), ctype=api)
            return
        if path == "/api/conversations.history":
            channel = body.get("channel")
            if channel not in self.channel_ids.values() or channel in self.missing_channels:
                self._reply(req, 200, json.dumps({"ok": False, "error": "channel_not_found"}), ctype=api)
                return
            oldest = float(body.get("oldest") or 0)
            limit = int(body.get("limit") or 100)
            offset = int(body.get("cursor") or 0)
            with self._lock:
                msgs = [
                    {"ts": m["ts"], "text": m.get("text"), "metadata": m.get("metadata")}
                    for m in reversed(self.messages)
                    if m.get("via") == "api" and m.get("channel_id") == channel and float(m["ts"]) > oldest
                ]
            page = msgs[offset : offset + limit]
            more = offset + limit < len(msgs)
            self._reply(
                req,
                200,
                json.dumps(
                    {
                        "ok": True,
                        "messages": page,
                        "has_more": more,
                        "response_metadata": {"next_cursor": str(offset + limit) if more else ""},
                    }
                ),
                ctype=api,
            )
            return
        self._reply(req, 404, json.dumps({"ok": False, "error": "unknown_method"}), ctype=api)

    def _accept(self, path: str, body: dict[str, Any]) -> str:
        """Record a message as posted; returns its timestamp."""
        with self._lock:
            ts = self._next_ts()
            if path.startswith("/services/"):
                self.messages.append({"via": "webhook", "hook": path, **body})
            else:
                cid = self._resolve(body.get("channel"))
                self.messages.append({"via": "api", "ts": ts, "channel_id": cid, **body})
                if cid:
                    self._last_post[cid] = time.monotonic()
            return ts

"""A fake Slack on loopback: incoming-webhook and Web API paths, with programmable failures."""

from __future__ import annotations

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


class FakeSlack:
    """Records every accepted message; ``fail_next`` queues failures answered before success."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.failures: list[Failure] = []
        self.api_error: str | None = None  # answer {"ok": false, "error": ...} to every API call
        self._lock = threading.Lock()
        self._ts = 1_700_000_000.0
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
        req.wfile.write(data)

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
        with self._lock:
            self.requests.append({"path": path, "body": body, "headers": dict(req.headers)})
            failure = (
                self.failures.pop(0) if self.failures and not path.endswith("conversations.history") else None
            )
        if failure is not None:
            if failure.delay_s:
                time.sleep(failure.delay_s)
            self._reply(req, failure.status, failure.body, failure.headers)
            return
        if path.startswith("/services/"):
            with self._lock:
                self.messages.append({"via": "webhook", **body})
            self._reply(req, 200, "ok")
            return
        if path == "/api/chat.postMessage":
            if self.api_error:
                self._reply(
                    req, 200, json.dumps({"ok": False, "error": self.api_error}), ctype="application/json"
                )
                return
            with self._lock:
                self._ts += 1
                ts = f"{self._ts:.6f}"
                self.messages.append({"via": "api", "ts": ts, **body})
            self._reply(
                req,
                200,
                json.dumps({"ok": True, "channel": body.get("channel"), "ts": ts}),
                ctype="application/json",
            )
            return
        if path == "/api/conversations.history":
            channel = body.get("channel") or parse_qs(req.path.partition("?")[2]).get("channel", [None])[0]
            with self._lock:
                msgs = [
                    {"ts": m["ts"], "text": m.get("text"), "metadata": m.get("metadata")}
                    for m in self.messages
                    if m.get("via") == "api" and m.get("channel") == channel
                ]
            self._reply(
                req, 200, json.dumps({"ok": True, "messages": list(reversed(msgs))}), ctype="application/json"
            )
            return
        self._reply(req, 404, json.dumps({"ok": False, "error": "unknown_method"}), ctype="application/json")

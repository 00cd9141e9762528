"""A real HTTP server on loopback whose pages, headers and faults a test controls."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    etag: bool = True  # answer If-None-Match with 304
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None  # full control (faults)


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    at: float


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True


class LocalSite:
    """Serve in-memory routes; record every request; count concurrent requests."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                site._serve(self)

        self.server = _Server((host, 0), Handler)
        self.host = host
        self.port = self.server.server_address[1]
        self.base = f"http://{host}:{self.port}"
        # a short poll interval: close() (shutdown) waits for the serve loop to notice, up to
        # one interval; the default 0.5 s made every test using a site half a second longer
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes | str = b"", **kwargs: object) -> Route:
        route = Route(body=body.encode("utf-8") if isinstance(body, str) else body, **kwargs)  # type: ignore[arg-type]
        self.routes[path] = route
        return route

    def hits_for(self, path: str) -> list[Hit]:
        return [h for h in self.hits if urlsplit(h.path).path == urlsplit(path).path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.hits.append(Hit(req.path, {k.lower(): v for k, v in req.headers.items()}, time.monotonic()))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            route = self.routes.get(req.path) or self.routes.get(urlsplit(req.path).path)
            if route is None:
                body = b"not found"
                req.send_response(404)
                req.send_header("Content-Type", "text/plain")
                req.send_header("Content-Length", str(len(body)))
                req.end_headers()
                req.wfile.write(body)
                return
            if route.delay_s:
                time.sleep(route.delay_s)
            if route.handler is not None:
                route.handler(req)
                return
            etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
            if route.etag and route.status == 200 and req.headers.get("If-None-Match") == etag:
                req.send_response(304)
                req.send_header("ETag", etag)
                req.send_header("Content-Length", "0")
                req.end_headers()
                return
            req.send_response(route.status)
            req.send_header("Content-Type", route.content_type)
            if route.etag and route.status == 200:
                req.send_header("ETag", etag)
            for key, value in route.headers.items():
                req.send_header(key, value)
            if "content-length" not in {k.lower() for k in route.headers}:
                req.send_header("Content-Length", str(len(route.body)))
            req.end_headers()
            req.wfile.write(route.body)
        finally:
            with self._lock:
                self.in_flight -= 1

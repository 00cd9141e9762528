"""A small demo site, served on loopback, so a newcomer sees the whole chain work offline.

The pages are written for the demo and shaped like the real sites: an OHCHR-style listing of
press releases and a UN News-style RSS feed, statements in English, French and Spanish.
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

SITE = Path(__file__).with_name("site")
# 2026-11-20 00:00 UTC: a fixed Last-Modified, so a second pass gets 304s.
LAST_MODIFIED = formatdate(1795132800, usegmt=True)


class _Handler(BaseHTTPRequestHandler):
    root: Path = SITE
    server_version = "DemoSite/1.0"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def _resolve(self, path: str) -> Path | None:
        rel = urlsplit(path).path.lstrip("/")
        if ".." in rel.split("/"):
            return None
        for candidate in (self.root / rel, self.root / f"{rel}.html", self.root / rel / "index.html"):
            if candidate.is_file():
                return candidate
        return None

    def do_GET(self) -> None:
        file = self._resolve(self.path)
        if file is None:
            self.send_error(404)
            return
        body = file.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if file.suffix == ".xml":
            ctype = "application/rss+xml"
        self.send_response(200)
        self.send_header(
            "Content-Type",
            f"{ctype}; charset=utf-8" if ctype.startswith(("text/", "application/rss")) else ctype,
        )
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", LAST_MODIFIED)
        self.end_headers()
        self.wfile.write(body)


def serve_site(root: Path = SITE, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``root`` in a daemon thread; returns the server and its base URL."""
    handler = type("DemoHandler", (_Handler,), {"root": root})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="demo-site", daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"


def demo_sources(base: str) -> str:
    """A source registry (YAML) pointing at the demo site."""
    return f"""sources:
  - key: demo-ohchr-press
    publisher: Demo Human Rights Office
    kind: listing
    url: {base}/en/press-releases
    languages: [en]
    poll_interval_minutes: 30
    pattern: '/en/press-releases/\\d{{4}}/\\d{{2}}/'
    content_selector: .field--type-text-long
  - key: demo-un-news
    publisher: Demo UN News
    kind: feed
    url: {base}/feed/news.xml
    languages: [fr, es]
    poll_interval_minutes: 30
    pattern: '/news/(en|fr|es)/story/'
    content_selector: .field--type-text-long
"""

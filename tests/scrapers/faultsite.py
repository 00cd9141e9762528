"""Faults for the local site: handlers that misbehave at the socket level, and a PDF writer.

``tests/support/site.py`` serves routes; a route's ``handler`` gets the raw request handler,
so every fault here is a real server doing a real bad thing on a real socket: resetting the
connection, closing mid-body, streaming without end, answering slower than our timeout.
"""

from __future__ import annotations

import socket
import struct
import time
import zlib
from collections.abc import Callable
from functools import lru_cache
from http.server import BaseHTTPRequestHandler

from tests.support.site import LocalSite

Handler = Callable[[BaseHTTPRequestHandler], None]


def fast(site: LocalSite) -> LocalSite:
    """No Nagle on the site's sockets: keep-alive answers arrive at once, not 40 ms late."""
    site.server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
    return site


def reset() -> Handler:
    """Read the request, then reset the connection (RST, not FIN): 'connection reset by peer'."""

    def handle(req: BaseHTTPRequestHandler) -> None:
        req.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        req.connection.close()
        req.close_connection = True

    return handle


def truncated(declared: int = 5000, sent: bytes = b"<html><body><p>only the beginning") -> Handler:
    """Promise ``declared`` bytes, send fewer, close."""

    def handle(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", "text/html; charset=utf-8")
        req.send_header("Content-Length", str(declared))
        req.end_headers()
        req.wfile.write(sent)
        req.wfile.flush()
        req.connection.shutdown(socket.SHUT_RDWR)
        req.close_connection = True

    return handle


def endless(chunk: bytes = b"<p>" + b"x" * 65530 + b"</p>", limit_bytes: int = 200_000_000) -> Handler:
    """Chunked transfer of an (almost) endless body, no Content-Length: only a cap stops it."""

    def handle(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", "text/html; charset=utf-8")
        req.send_header("Transfer-Encoding", "chunked")
        req.end_headers()
        sent = 0
        try:
            while sent < limit_bytes:
                req.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            req.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client hung up at its cap: what we wanted
        req.close_connection = True

    return handle


def slow_drip(interval_s: float, pieces: int = 1000) -> Handler:
    """Headers at once, then one byte every ``interval_s``: only a whole-response deadline helps."""

    def handle(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", "text/html; charset=utf-8")
        req.send_header("Content-Length", str(pieces))
        req.end_headers()
        try:
            for _ in range(pieces):
                req.wfile.write(b"x")
                req.wfile.flush()
                time.sleep(interval_s)
        except OSError:
            pass
        req.close_connection = True

    return handle


@lru_cache(maxsize=4)
def gzip_bomb(decoded_mb: int = 256, layers: int = 1) -> bytes:
    """Zeros that inflate to ``decoded_mb`` MiB (about 1 MiB compressed per GiB), gzip-framed;
    with ``layers`` > 1 the gzip is gzipped again ("Content-Encoding: gzip, gzip")."""
    if layers > 1:
        return zlib.compress(gzip_bomb(decoded_mb, layers - 1), 9, wbits=31)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    parts = [compressor.compress(block) for _ in range(decoded_mb)]
    parts.append(compressor.flush())
    return b"".join(parts)


def pdf(lines: list[str], *, title: str | None = None, created: str = "D:20261118090000Z") -> bytes:
    """A small, valid PDF with ``lines`` as text (Helvetica), written by hand: no library needed.

    The font is declared with WinAnsiEncoding, so text is written as cp1252 bytes: French and
    Spanish accents and typographic quotes come out as themselves.
    """

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = ["BT", "/F1 11 Tf", "14 TL", "50 780 Td"]
    for line in lines:
        ops.append(f"({esc(line)}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("cp1252")
    info = f"<< /Producer (PledgeWatch tests) /CreationDate ({created})"
    if title:
        # Info strings are PDFDocEncoding, not WinAnsi: beyond ASCII, write UTF-16BE with a BOM
        info += (
            f" /Title ({esc(title)})"
            if title.isascii()
            else f" /Title <FEFF{title.encode('utf-16-be').hex()}>"
        )
    info += " >>"
    info_bytes = info.encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        info_bytes,
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        len(objects),
        xref,
    )
    return bytes(out)

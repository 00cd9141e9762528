"""The one polite HTTP client through which every request to a monitored site goes.

Politeness and safety live here, as Scrapy keeps them in downloader middleware, so that
discovery and extraction never think about them:

- robots.txt obeyed (cached per origin), a per-host concurrency cap and a minimum delay
  with jitter between requests to the same host, ``Retry-After`` honoured;
- retries with exponential backoff on timeouts, connection errors, 429 and 5xx;
- connect and read timeouts, a size cap enforced while streaming (so a decompression bomb is
  stopped after ``max_bytes`` of *decoded* data), a bounded number of redirects;
- every hop (first URL and each redirect) re-checked: http(s) only, inside the source's
  allowed hosts, and never a private, loopback or link-local address unless the policy
  explicitly allows it (tests and the demo do; production never does by default).
"""

from __future__ import annotations

import ipaddress
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import requests
from requests.adapters import HTTPAdapter

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


@dataclass(frozen=True)
class FetchPolicy:
    user_agent: str = "PledgeWatch/0.1"
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    max_bytes: int = 15_000_000
    per_host_concurrency: int = 2
    min_delay_s: float = 1.0
    delay_jitter_s: float = 0.5
    max_retries: int = 3
    retry_backoff_s: float = 2.0
    max_retry_after_s: float = 120.0
    max_redirects: int = 5
    obey_robots: bool = True
    allow_private_addresses: bool = False


class FetchError(Exception):
    """A fetch that did not produce a usable response; ``kind`` says why, for the records."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        url: str,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(f"{kind}: {message} ({url})")
        self.kind = kind
        self.url = url
        self.status = status
        self.retry_after_s = retry_after_s

    @property
    def permanent(self) -> bool:
        """Permanent errors are not worth retrying soon (blocked, forbidden, not found...)."""
        return self.kind in {"blocked_address", "host_not_allowed", "robots", "invalid_url"} or (
            self.kind == "http"
            and self.status is not None
            and 400 <= self.status < 500
            and self.status != 429
        )


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes = b""
    elapsed_s: float = 0.0
    redirects: list[str] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"))
    )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class _HostGate:
    """Per-host concurrency cap plus a minimum, jittered gap between request starts."""

    def __init__(self, cap: int, min_delay: float, jitter: float) -> None:
        self._slots = threading.BoundedSemaphore(max(1, cap))
        self._lock = threading.Lock()
        self._next_start = 0.0
        self._min_delay = min_delay
        self._jitter = jitter
        self.blocked_until = 0.0

    @contextmanager
    def slot(self, sleep: Callable[[float], None]) -> Iterator[None]:
        with self._slots:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start, self.blocked_until)
                gap = self._min_delay + (random.uniform(0, self._jitter) if self._jitter else 0.0)
                self._next_start = start + gap
            if start > now:
                sleep(start - now)
            yield

    def block_for(self, seconds: float) -> None:
        with self._lock:
            self.blocked_until = max(self.blocked_until, time.monotonic() + seconds)


class PoliteClient:
    """Thread-safe: many sources are fetched at once, each host under its own gate."""

    def __init__(self, policy: FetchPolicy, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.policy = policy
        self._sleep = sleep
        self._local = threading.local()
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, RobotFileParser | None] = {}
        self._robots_lock = threading.Lock()
        self._gates_lock = threading.Lock()

    # -- plumbing -----------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=64, pool_maxsize=max(4, self.policy.per_host_concurrency))
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.update(
                {
                    "User-Agent": self.policy.user_agent,
                    "Accept-Encoding": "gzip, deflate",
                    "Accept-Language": "en, fr;q=0.9, es;q=0.8",
                }
            )
            session.trust_env = False  # no proxies or netrc credentials from the environment
            self._local.session = session
        return session

    def _gate(self, host: str) -> _HostGate:
        with self._gates_lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = _HostGate(
                    self.policy.per_host_concurrency, self.policy.min_delay_s, self.policy.delay_jitter_s
                )
                self._gates[host] = gate
            return gate

    def check_url(self, url: str, allowed_hosts: frozenset[str] | None = None) -> None:
        """Refuse URLs we must never request; raises FetchError before any connection."""
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise FetchError("invalid_url", "only absolute http(s) URLs are fetched", url=url)
        host = parts.hostname.lower()
        if allowed_hosts and not any(host == h or host.endswith("." + h) for h in allowed_hosts):
            raise FetchError(
                "host_not_allowed", f"host {host} is outside the source's allowed hosts", url=url
            )
        if self.policy.allow_private_addresses:
            return
        try:
            infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
        except socket.gaierror as exc:
            raise FetchError("connection", f"cannot resolve {host}: {exc}", url=url) from exc
        for info in infos:
            address = str(info[4][0])
            if not is_public_address(address):
                raise FetchError(
                    "blocked_address",
                    f"{host} resolves to non-public address {address}; refused (allow_private_addresses is off)",
                    url=url,
                )

    def _robots_allows(self, url: str) -> bool:
        if not self.policy.obey_robots:
            return True
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._robots_lock:
            cached = self._robots.get(origin, False)
        if cached is False:
            parser: RobotFileParser | None = RobotFileParser()
            try:
                resp = self._request(origin + "/robots.txt", {}, retries=1)
                if resp.status >= 500:
                    # RFC 9309: an unreachable robots.txt means "assume complete disallow";
                    # we treat it as temporary and fail this fetch, to retry later.
                    raise FetchError(
                        "robots", "robots.txt unavailable (server error)", url=url, status=resp.status
                    )
                if resp.status >= 400:
                    parser = None  # no robots.txt: everything allowed
                else:
                    assert parser is not None
                    parser.parse(resp.body.decode("utf-8", "replace").splitlines())
            except FetchError as exc:
                if exc.kind in {"http"} and exc.status and 400 <= exc.status < 500:
                    parser = None
                else:
                    raise
            with self._robots_lock:
                self._robots[origin] = parser
            cached = parser
        if cached is None:
            return True
        return cached.can_fetch(self.policy.user_agent, url)

    def _request(self, url: str, headers: dict[str, str], *, retries: int | None = None) -> Response:
        """One logical GET: retries, backoff and Retry-After; no redirects followed here."""
        host = urlsplit(url).hostname or ""
        gate = self._gate(host)
        attempts = 1 + (self.policy.max_retries if retries is None else retries)
        last_error: FetchError | None = None
        for attempt in range(attempts):
            if attempt:
                backoff = self.policy.retry_backoff_s * (2 ** (attempt - 1))
                wait = max(
                    backoff * random.uniform(0.8, 1.2), (last_error.retry_after_s or 0) if last_error else 0
                )
                self._sleep(wait)
            try:
                with gate.slot(self._sleep):
                    resp = self._send(url, headers)
            except FetchError as exc:
                last_error = exc
                continue
            if resp.status in RETRYABLE_STATUS:
                retry_after = parse_retry_after(resp.headers.get("retry-after"))
                last_error = FetchError(
                    "http", f"HTTP {resp.status}", url=url, status=resp.status, retry_after_s=retry_after
                )
                if retry_after is not None:
                    if retry_after > self.policy.max_retry_after_s:
                        gate.block_for(retry_after)
                        raise last_error  # the site asked us to stay away longer than we wait
                    gate.block_for(retry_after)
                continue
            return resp
        assert last_error is not None
        raise last_error

    def _send(self, url: str, headers: dict[str, str]) -> Response:
        started = time.monotonic()
        timeout = (self.policy.connect_timeout_s, self.policy.read_timeout_s)
        try:
            raw = self._session().get(
                url, headers=headers, timeout=timeout, stream=True, allow_redirects=False
            )
        except requests.Timeout as exc:
            raise FetchError("timeout", str(exc) or "timed out", url=url) from exc
        except requests.ConnectionError as exc:
            raise FetchError("connection", _short(exc), url=url) from exc
        except requests.RequestException as exc:
            raise FetchError("request", _short(exc), url=url) from exc
        try:
            if not self.policy.allow_private_addresses:
                self._check_peer(raw, url)
            declared = raw.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.policy.max_bytes:
                raise FetchError(
                    "too_large",
                    f"declared {declared} bytes > cap {self.policy.max_bytes}",
                    url=url,
                    status=raw.status_code,
                )
            chunks: list[bytes] = []
            size = 0
            try:
                for chunk in raw.iter_content(chunk_size=65536):
                    size += len(chunk)
                    if size > self.policy.max_bytes:
                        raise FetchError(
                            "too_large",
                            f"body exceeds cap of {self.policy.max_bytes} bytes (after decoding)",
                            url=url,
                            status=raw.status_code,
                        )
                    chunks.append(chunk)
            except requests.exceptions.ChunkedEncodingError as exc:
                raise FetchError("truncated", f"body ended early: {_short(exc)}", url=url) from exc
            except requests.exceptions.ContentDecodingError as exc:
                raise FetchError("decoding", f"cannot decode body: {_short(exc)}", url=url) from exc
            except requests.ConnectionError as exc:
                raise FetchError(
                    "truncated", f"connection lost while reading: {_short(exc)}", url=url
                ) from exc
            except requests.Timeout as exc:
                raise FetchError("timeout", f"read timed out: {_short(exc)}", url=url) from exc
            body = b"".join(chunks)
            declared_len = raw.headers.get("Content-Length")
            if (
                declared_len
                and declared_len.isdigit()
                and not raw.headers.get("Content-Encoding")
                and len(body) < int(declared_len)
            ):
                raise FetchError("truncated", f"got {len(body)} of {declared_len} bytes", url=url)
            return Response(
                url=url,
                status=raw.status_code,
                headers={k.lower(): v for k, v in raw.headers.items()},
                body=body,
                elapsed_s=time.monotonic() - started,
            )
        finally:
            raw.close()

    def _check_peer(self, raw: requests.Response, url: str) -> None:
        """Re-check the address we actually connected to (defeats DNS rebinding)."""
        try:
            sock = raw.raw._connection.sock  # type: ignore[union-attr]
            peer = sock.getpeername()[0] if sock is not None else None
        except Exception:
            peer = None
        if peer and not is_public_address(str(peer)):
            raise FetchError("blocked_address", f"connected to non-public address {peer}; refused", url=url)

    # -- the public call -----------------------------------------------------------------
    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        allowed_hosts: frozenset[str] | None = None,
        accept: str | None = None,
    ) -> Response:
        """GET ``url`` politely; 304 comes back as a Response with ``not_modified``.

        Raises FetchError for everything else that is not a 2xx/304 answer.
        """
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        current = url
        seen: list[str] = []
        for _hop in range(self.policy.max_redirects + 1):
            self.check_url(current, allowed_hosts)
            if not self._robots_allows(current):
                raise FetchError("robots", "disallowed by robots.txt", url=current)
            resp = self._request(current, headers)
            if resp.status in {301, 302, 303, 307, 308}:
                location = resp.headers.get("location")
                if not location:
                    raise FetchError(
                        "http", f"redirect {resp.status} without Location", url=current, status=resp.status
                    )
                seen.append(current)
                current = urljoin(current, location)
                if current in seen:
                    raise FetchError("redirects", "redirect loop", url=url)
                continue
            if resp.status == 304 or 200 <= resp.status < 300:
                resp.redirects = seen
                return resp
            raise FetchError("http", f"HTTP {resp.status}", url=current, status=resp.status)
        raise FetchError("redirects", f"more than {self.policy.max_redirects} redirects", url=url)


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 300 else text[:297] + "..."

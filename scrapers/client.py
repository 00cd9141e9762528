"""The one polite HTTP client through which every request to a monitored site goes.

Politeness and safety live here, as Scrapy keeps them in downloader middleware, so that
discovery and extraction never think about them:

- robots.txt obeyed (RFC 9309 matching, ``scrapers.robots``), cached per origin for a day
  (in memory, and on disk between passes when ``robots_cache_dir`` is set: a fresh process
  does not ask every site again), its ``Crawl-delay`` honoured up to a bound;
- per host, at most ``per_host_concurrency`` requests in flight, and on each of those slots at
  most one request *started* per ``min_delay_s`` (+ jitter). The delay runs concurrently with
  the answer instead of after it: a host slower than the delay is already paced by its own
  latency (at most cap / latency requests a second) and is not slowed further, a fast host
  never sees more than cap / min_delay requests a second;
- ``Retry-After`` honoured (short waits are waited, long ones stop the host for this pass);
  retries with exponential backoff and jitter on 429, 5xx, timeouts and connection errors;
- connect and read timeouts plus a whole-response deadline (a server dripping one byte per
  read timeout cannot hold a worker forever);
- a size cap on *decoded* bytes while streaming: urllib3 2.x decodes gzip/deflate with a
  ``max_length`` per read, so a decompression bomb yields bounded chunks and is abandoned at
  the cap (memory stays at about the cap, never at the bomb's size);
- every hop (first URL, each redirect, robots.txt) re-checked: http(s) only, inside the
  source's allowed hosts, and the address we actually connect to vetted at connect time
  (no second DNS answer can slip in): private, loopback and link-local addresses are refused
  unless the policy allows private addresses (tests, the demo); link-local (cloud metadata
  at 169.254.169.254), multicast, reserved and unspecified addresses are refused always.

urllib3 is used directly (not requests): on a 304 it costs a third of the CPU, which is most
of what an unchanged pass does.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    LocationParseError,
    LocationValueError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import connection as u3_connection
from urllib3.util.timeout import _DEFAULT_TIMEOUT

from scrapers.robots import Robots

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB
CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    user_agent: str = "PledgeWatch/0.1"
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    deadline_s: float = 120.0  # whole response, headers to last byte
    max_bytes: int = 15_000_000  # decoded
    per_host_concurrency: int = 2
    min_delay_s: float = 0.15  # per slot, start to start
    delay_jitter_s: float = 0.05
    max_retries: int = 3
    retry_backoff_s: float = 2.0
    max_retry_after_s: float = 120.0
    max_redirects: int = 5
    obey_robots: bool = True
    robots_ttl_s: float = 86400.0
    max_crawl_delay_s: float = 30.0
    allow_private_addresses: bool = False
    # robots.txt answers kept here between passes (None: in memory only, for one process)
    robots_cache_dir: str | None = None
    # loopback only (not private ranges): lets tests serve a site on 127.0.0.1 while every
    # private-network address stays refused; never set in production
    allow_loopback: bool = False


class FetchError(Exception):
    """A fetch that did not produce a usable response; ``kind`` says why, for the records.

    Kinds: invalid_url, host_not_allowed, blocked_address, robots (disallowed),
    robots_unavailable (robots.txt answered 5xx: everything waits), timeout, connection,
    truncated, too_large, decoding, tls, http, redirects, rate_limited, request.
    """

    PERMANENT_KINDS = frozenset({"invalid_url", "host_not_allowed", "blocked_address", "robots", "too_large"})

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
        self.message = message
        self.kind = kind
        self.url = url
        self.status = status
        self.retry_after_s = retry_after_s

    @property
    def permanent(self) -> bool:
        """Not worth retrying soon: blocked, forbidden, gone, too large..."""
        return self.kind in self.PERMANENT_KINDS or (
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


# -- addresses ---------------------------------------------------------------------------
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def address_refusal(address: str, allow_private: bool, allow_loopback: bool = False) -> str | None:
    """Why we must not connect to ``address`` (None: we may)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_link_local:
        return "link-local"  # never: this is where cloud metadata services live
    if ip.is_multicast or ip.is_unspecified or (ip.is_reserved and not ip.is_loopback):
        return "reserved"
    if ip.is_loopback:
        return None if allow_private or allow_loopback else "loopback"
    if ip.is_private or (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT):
        return None if allow_private else "private"
    return None


def is_public_address(address: str) -> bool:
    return address_refusal(address, allow_private=False) is None


class AddressRefused(Exception):
    """Raised at connect time; deliberately not an OSError, so urllib3 does not wrap it."""


def _vetted_addresses(
    host: str, port: int, allow_private: bool, allow_loopback: bool = False
) -> list[tuple[Any, ...]]:
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror:
        raise
    for info in infos:
        address = str(info[4][0])
        reason = address_refusal(address, allow_private, allow_loopback)
        if reason:
            raise AddressRefused(f"{host} resolves to {reason} address {address}; refused")
    return infos


def _guarded_new_conn(
    self: HTTPConnection, allow_private: bool, allow_loopback: bool = False
) -> socket.socket:
    """urllib3's ``_new_conn``, connecting only to addresses vetted in the same breath."""
    try:
        infos = _vetted_addresses(self._dns_host, self.port, allow_private, allow_loopback)  # type: ignore[arg-type]
    except socket.gaierror as exc:
        raise NameResolutionError(self.host, self, exc) from exc
    last: OSError | None = None
    for family, socktype, proto, _name, sockaddr in infos:
        sock = socket.socket(family, socktype, proto)
        try:
            u3_connection._set_socket_options(sock, self.socket_options)  # type: ignore[attr-defined]
            if self.timeout is not _DEFAULT_TIMEOUT:
                sock.settimeout(self.timeout)  # type: ignore[arg-type]
            if self.source_address:
                sock.bind(self.source_address)
            sock.connect(sockaddr)
            return sock
        except TimeoutError as exc:
            sock.close()
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from exc
        except OSError as exc:
            sock.close()
            last = exc
    raise NewConnectionError(self, f"Failed to establish a new connection: {last}")


def _pool_classes(allow_private: bool, allow_loopback: bool = False) -> dict[str, type]:
    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _guarded_new_conn(self, allow_private, allow_loopback)

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _guarded_new_conn(self, allow_private, allow_loopback)

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    return {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}


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
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


# -- pacing -------------------------------------------------------------------------------
class HostGate:
    """Per host: ``cap`` slots; each slot starts at most one request per ``min_delay`` (+jitter).

    On top: a host-wide ``crawl_delay`` between any two starts (robots.txt asked for it), and
    ``blocked_until`` (the host answered 429/503 with Retry-After).
    """

    def __init__(self, cap: int, min_delay: float, jitter: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._free = [0.0] * max(1, cap)  # next allowed start per free slot
        self._min_delay = min_delay
        self._jitter = jitter
        self.crawl_delay = 0.0
        self._next_any = 0.0
        self.blocked_until = 0.0
        self.in_flight = 0

    @contextmanager
    def slot(self, sleep: Callable[[float], None]) -> Iterator[None]:
        with self._cond:
            while not self._free:
                self._cond.wait()
            self._free.sort()
            slot_next = self._free.pop(0)
            now = self._clock()
            start = max(now, slot_next, self.blocked_until, self._next_any)
            gap = self._min_delay + (random.uniform(0, self._jitter) if self._jitter else 0.0)
            if self.crawl_delay:
                self._next_any = start + self.crawl_delay
            self.in_flight += 1
        try:
            if start > now:
                sleep(start - now)
            yield
        finally:
            with self._cond:
                self.in_flight -= 1
                self._free.append(start + gap)
                self._cond.notify()

    def block_for(self, seconds: float) -> None:
        with self._cond:
            self.blocked_until = max(self.blocked_until, self._clock() + seconds)

    def blocked_for(self) -> float:
        return max(0.0, self.blocked_until - self._clock())


@dataclass
class _RobotsEntry:
    robots: Robots | None
    expires: float
    error: FetchError | None = None  # robots.txt could not be read: remembered briefly


ROBOTS_FAILURE_TTL_S = 60.0


class RobotsCache:
    """robots.txt answers kept on disk between passes, one small JSON file per origin.

    Every pass (a CLI run, an Airflow task) is a fresh process; without this, each one would
    ask every site for robots.txt again, and the first request to a host would wait for it.
    RFC 9309 lets a crawler use a cached robots.txt for up to 24 hours; what is kept here
    expires with the client's ``robots_ttl_s``. Only answers are kept (a parsed file, or
    "no robots.txt": allow all); an unreachable robots.txt is never written, so an outage is
    asked about again on the next pass. Files are replaced atomically; any unreadable file is
    a miss.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def _path(self, origin: str) -> Path:
        return self.directory / (hashlib.sha1(origin.encode("utf-8")).hexdigest() + ".json")

    def get(self, origin: str) -> tuple[str | None, float] | None:
        """(robots.txt text or None for allow-all, seconds it stays valid), or None: a miss."""
        try:
            data = json.loads(self._path(origin).read_text(encoding="utf-8"))
            if data.get("origin") != origin:
                return None
            left = float(data["expires_at"]) - time.time()
            text = data.get("text")
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if left <= 0 or not (text is None or isinstance(text, str)):
            return None
        return text, left

    def put(self, origin: str, text: str | None, ttl_s: float) -> None:
        path = self._path(origin)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            payload = {"origin": origin, "expires_at": time.time() + ttl_s, "text": text}
            tmp.write_text(json.dumps(payload), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a cache: failing to write it only costs a request next time


class PoliteClient:
    """Thread-safe: many sources are fetched at once, each host under its own gate."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self._sleep = sleep
        self._clock = clock
        self._gates: dict[str, HostGate] = {}
        self._gates_lock = threading.Lock()
        self._robots: dict[str, _RobotsEntry] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._robots_lock = threading.Lock()
        self._refusals: dict[str, str | None] = {}
        self._pool = urllib3.PoolManager(
            num_pools=256,
            maxsize=max(2, policy.per_host_concurrency),
            block=False,
            retries=False,
            ca_certs=certifi.where(),
            headers={
                "User-Agent": policy.user_agent,
                "Accept-Encoding": "gzip, deflate",
                "Accept-Language": "en, fr;q=0.9, es;q=0.8",
            },
        )
        self._pool.pool_classes_by_scheme = _pool_classes(  # type: ignore[assignment]
            policy.allow_private_addresses, policy.allow_loopback
        )
        self._timeout = urllib3.Timeout(connect=policy.connect_timeout_s, read=policy.read_timeout_s)
        self._robots_cache = RobotsCache(policy.robots_cache_dir) if policy.robots_cache_dir else None
        self.requests_made = 0

    def close(self) -> None:
        self._pool.clear()

    # -- gates and checks ----------------------------------------------------------------
    def gate(self, host: str) -> HostGate:
        with self._gates_lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = HostGate(
                    self.policy.per_host_concurrency,
                    self.policy.min_delay_s,
                    self.policy.delay_jitter_s,
                    self._clock,
                )
                self._gates[host] = gate
            return gate

    def check_url(self, url: str, allowed_hosts: frozenset[str] | None = None) -> None:
        """Refuse URLs we must never request; raises FetchError before any connection.

        Addresses are vetted again at connect time; this early check makes refusals of IP
        literals and of hosts outside the source clear and cheap.
        """
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise FetchError("invalid_url", "only absolute http(s) URLs are fetched", url=url)
        host = parts.hostname.lower()
        if allowed_hosts and not host_allowed(host, allowed_hosts):
            raise FetchError(
                "host_not_allowed", f"host {host} is outside the source's allowed hosts", url=url
            )
        reason = self._literal_refusal(host)
        if reason:
            raise FetchError("blocked_address", f"{host} is a {reason} address; refused", url=url)

    def _literal_refusal(self, host: str) -> str | None:
        """Why ``host``, if it is an IP literal, is refused (None: a name, or allowed); kept
        per host (every request of a pass asks)."""
        try:
            return self._refusals[host]
        except KeyError:
            pass
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            reason = None  # a name: vetted when we connect
        else:
            reason = address_refusal(
                host.strip("[]"), self.policy.allow_private_addresses, self.policy.allow_loopback
            )
        if len(self._refusals) < 4096:
            self._refusals[host] = reason
        return reason

    # -- robots.txt ----------------------------------------------------------------------
    def robots_for(self, url: str) -> Robots:
        """The robots rules of ``url``'s origin (fetched once per TTL, one fetch per origin).

        A robots.txt that cannot be read makes every fetch on that origin fail for a minute
        (RFC 9309: unreachable means disallowed), without asking again for each URL.
        """
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        entry = self._robots.get(origin)
        if entry is None or entry.expires <= self._clock():
            with self._robots_lock:
                lock = self._robots_locks.setdefault(origin, threading.Lock())
            with lock:
                entry = self._robots.get(origin)
                if entry is None or entry.expires <= self._clock():
                    entry = self._load_robots(origin, parts.hostname or "")
                    self._robots[origin] = entry
        if entry.error is not None:
            error = entry.error
            raise FetchError(error.kind, error.message, url=url, status=error.status)
        assert entry.robots is not None
        return entry.robots

    def prepare(self, urls: list[str]) -> None:
        """Get ready, in the calling thread, for the first requests to these URLs' hosts: their
        host gates, connection pools (objects only: nothing is connected) and the robots.txt
        answers kept on disk. At the start of a pass, before the fetch threads start, this is
        one thread's plain work; in the first request of each of 32 hosts at once it was the
        same Python passing the GIL among 64 threads, each first request waiting for the
        others'. Origins without a kept robots.txt answer are left to the first request, which
        asks the site."""
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                continue
            self.gate(parts.hostname.lower())
            with contextlib.suppress(LocationValueError, LocationParseError, ValueError):
                self._pool.connection_from_url(url)
        self.prime_robots(urls)

    def prime_robots(self, urls: list[str]) -> None:
        """Read the robots.txt answers kept on disk for these URLs' origins now."""
        if self._robots_cache is None or not self.policy.obey_robots:
            return
        for url in urls:
            parts = urlsplit(url)
            origin = f"{parts.scheme}://{parts.netloc}"
            entry = self._robots.get(origin)
            if entry is not None and entry.expires > self._clock():
                continue
            cached = self._robots_cache.get(origin)
            if cached is None:
                continue
            with self._robots_lock:
                lock = self._robots_locks.setdefault(origin, threading.Lock())
            with lock:
                self._robots[origin] = self._robots_entry(cached, parts.hostname or "")

    def _robots_entry(self, cached: tuple[str | None, float], host: str) -> _RobotsEntry:
        text, ttl = cached
        robots = Robots.parse(text, self.policy.user_agent) if text is not None else Robots.allow_all()
        if robots.crawl_delay:
            self.gate(host).crawl_delay = min(robots.crawl_delay, self.policy.max_crawl_delay_s)
        return _RobotsEntry(robots, self._clock() + ttl)

    def _load_robots(self, origin: str, host: str) -> _RobotsEntry:
        cached = self._robots_cache.get(origin) if self._robots_cache is not None else None
        if cached is not None:
            return self._robots_entry(cached, host)
        try:
            robots, ttl, text = self._fetch_robots(origin, origin + "/robots.txt")
        except FetchError as exc:
            return _RobotsEntry(None, self._clock() + ROBOTS_FAILURE_TTL_S, exc)
        if self._robots_cache is not None:
            self._robots_cache.put(origin, text, ttl)
        if robots.crawl_delay:
            self.gate(host).crawl_delay = min(robots.crawl_delay, self.policy.max_crawl_delay_s)
        return _RobotsEntry(robots, self._clock() + ttl)

    def _fetch_robots(self, origin: str, url: str) -> tuple[Robots, float, str | None]:
        """The rules, how long to keep them, and the text they came from (None: allow all)."""
        target = origin + "/robots.txt"
        for _hop in range(5):  # RFC 9309: follow at least five redirects
            self.check_url(target)
            try:
                resp = self._request(target, {}, retries=1, max_bytes=ROBOTS_MAX_BYTES)
            except FetchError as exc:
                if exc.kind == "too_large":
                    return Robots.allow_all(), self.policy.robots_ttl_s, None
                # unreachable robots.txt: RFC 9309 says assume complete disallow; we fail this
                # fetch (as what it was: connection, timeout...) and ask again later instead of
                # caching the outage for a day.
                raise FetchError(
                    "robots_unavailable" if exc.kind == "http" else exc.kind,
                    f"robots.txt unreachable, not fetching: {exc.message}",
                    url=url,
                    status=exc.status,
                ) from exc
            if resp.status in REDIRECT_STATUS and resp.headers.get("location"):
                target = urljoin(target, resp.headers["location"])
                continue
            if resp.status >= 500 or resp.status == 429:
                raise FetchError(
                    "robots_unavailable",
                    f"robots.txt unavailable (HTTP {resp.status}); not fetching",
                    url=url,
                )
            if resp.status >= 400:
                return Robots.allow_all(), self.policy.robots_ttl_s, None  # no robots.txt: all allowed
            text = resp.body.decode("utf-8", "replace")
            return Robots.parse(text, self.policy.user_agent), self.policy.robots_ttl_s, text
        return Robots.allow_all(), self.policy.robots_ttl_s, None

    def robots_allows(self, url: str) -> bool:
        if not self.policy.obey_robots:
            return True
        return self.robots_for(url).allows(url)

    # -- one request ---------------------------------------------------------------------
    def _request(
        self,
        url: str,
        headers: dict[str, str],
        *,
        retries: int | None = None,
        max_bytes: int | None = None,
    ) -> Response:
        """One logical GET: gate, retries, backoff and Retry-After; redirects not followed."""
        host = (urlsplit(url).hostname or "").lower()
        gate = self.gate(host)
        attempts = 1 + (self.policy.max_retries if retries is None else retries)
        last_error: FetchError | None = None
        for attempt in range(attempts):
            blocked = gate.blocked_for()
            if blocked > self.policy.max_retry_after_s:
                raise FetchError(
                    "rate_limited",
                    f"host asked us to wait {blocked:.0f}s (Retry-After); not fetching this pass",
                    url=url,
                    retry_after_s=blocked,
                )
            if attempt:
                assert last_error is not None
                backoff = self.policy.retry_backoff_s * (2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
                self._sleep(max(backoff, last_error.retry_after_s or 0.0))
            try:
                with gate.slot(self._sleep):
                    resp = self._send(url, headers, max_bytes or self.policy.max_bytes)
            except FetchError as exc:
                if exc.kind in {"too_large", "decoding", "blocked_address", "tls", "invalid_url"}:
                    raise
                last_error = exc
                continue
            if resp.status in RETRYABLE_STATUS:
                retry_after = parse_retry_after(resp.headers.get("retry-after"))
                last_error = FetchError(
                    "http", f"HTTP {resp.status}", url=url, status=resp.status, retry_after_s=retry_after
                )
                if retry_after is not None:
                    gate.block_for(retry_after)
                    if retry_after > self.policy.max_retry_after_s:
                        raise last_error  # the site asked us to stay away longer than we wait
                continue
            return resp
        assert last_error is not None
        raise last_error

    def _send(self, url: str, headers: dict[str, str], max_bytes: int) -> Response:
        started = self._clock()
        self.requests_made += 1
        try:
            raw = self._pool.urlopen(
                "GET",
                url,
                headers={**self._pool.headers, **headers},
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=True,
                timeout=self._timeout,
            )
        except AddressRefused as exc:
            raise FetchError("blocked_address", str(exc), url=url) from exc
        except (NewConnectionError, NameResolutionError) as exc:  # before its base class below
            raise FetchError("connection", _short(exc), url=url) from exc
        except ConnectTimeoutError as exc:
            raise FetchError("timeout", "connect timed out", url=url) from exc
        except ReadTimeoutError as exc:
            raise FetchError("timeout", "no answer within the read timeout", url=url) from exc
        except SSLError as exc:
            raise FetchError("tls", _short(exc), url=url) from exc
        except ProtocolError as exc:
            raise FetchError("connection", f"connection failed: {_short(exc)}", url=url) from exc
        except (LocationParseError, LocationValueError) as exc:
            raise FetchError("invalid_url", _short(exc), url=url) from exc
        except HTTPError as exc:
            raise FetchError("request", _short(exc), url=url) from exc
        status = raw.status
        response_headers = {k.lower(): v for k, v in raw.headers.items()}
        if not (200 <= status < 300):
            # Error, redirect and 304 bodies are never needed: close rather than drain (a
            # drained body could be a bomb too); a 304 has no body and keeps its connection.
            if status == 304:
                raw.release_conn()
            else:
                raw.close()
            return Response(url, status, response_headers, b"", self._clock() - started)
        try:
            body = self._read_capped(raw, url, max_bytes, started)
        except BaseException:
            raw.close()
            raise
        raw.release_conn()
        return Response(url, status, response_headers, body, self._clock() - started)

    def _read_capped(self, raw: Any, url: str, max_bytes: int, started: float) -> bytes:
        declared = raw.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(
                "too_large", f"declared {declared} bytes > cap {max_bytes}", url=url, status=raw.status
            )
        chunks: list[bytes] = []
        size = 0
        deadline = started + self.policy.deadline_s
        try:
            while True:
                # read1: whatever one recv() brings (decoded, at most CHUNK), so the deadline
                # is checked between socket reads, not after a 64 KiB read that may never fill
                chunk = raw.read1(CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(
                        "too_large",
                        f"body exceeds the cap of {max_bytes} bytes (counted after decoding)",
                        url=url,
                        status=raw.status,
                    )
                chunks.append(chunk)
                if self._clock() > deadline:
                    raise FetchError(
                        "timeout", f"body not complete within {self.policy.deadline_s:.0f}s", url=url
                    )
        except ReadTimeoutError as exc:
            raise FetchError("timeout", "read timed out in the body", url=url) from exc
        except DecodeError as exc:
            raise FetchError("decoding", f"cannot decode body: {_short(exc)}", url=url) from exc
        except ProtocolError as exc:
            raise FetchError("truncated", f"body ended early: {_short(exc)}", url=url) from exc
        except (OSError, HTTPError) as exc:
            raise FetchError("truncated", f"connection lost in the body: {_short(exc)}", url=url) from exc
        return b"".join(chunks)

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
            if not self.robots_allows(current):
                raise FetchError("robots", "disallowed by robots.txt", url=current)
            resp = self._request(current, headers)
            if resp.status in REDIRECT_STATUS:
                location = resp.headers.get("location")
                if not location:
                    raise FetchError(
                        "http", f"redirect {resp.status} without Location", url=current, status=resp.status
                    )
                seen.append(current)
                current = urljoin(current, location.strip())
                if current in seen:
                    raise FetchError("redirects", f"redirect loop back to {current}", url=url)
                continue
            if resp.status == 304 or 200 <= resp.status < 300:
                resp.redirects = seen
                return resp
            raise FetchError("http", f"HTTP {resp.status}", url=current, status=resp.status)
        raise FetchError("redirects", f"more than {self.policy.max_redirects} redirects", url=url)


def host_allowed(host: str, allowed_hosts: frozenset[str]) -> bool:
    host = host.lower()
    return any(host == h or host.endswith("." + h) for h in allowed_hosts)


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 300 else text[:297] + "..."

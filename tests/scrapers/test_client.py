"""The polite client against a real local server: politeness, safety, and every fault it meets."""

from __future__ import annotations

import itertools
import threading
import time
import tracemalloc
from dataclasses import replace

import pytest

from scrapers.client import FetchError, FetchPolicy, PoliteClient, address_refusal
from tests.scrapers import faultsite
from tests.support.site import LocalSite

POLICY = FetchPolicy(
    allow_private_addresses=True,
    min_delay_s=0.0,
    delay_jitter_s=0.0,
    retry_backoff_s=0.01,
    connect_timeout_s=2.0,
    read_timeout_s=1.0,
    max_retries=2,
)


class RecordingSleep:
    """Real sleeps, recorded: what the client waited for, and why."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.calls.append(seconds)
        time.sleep(seconds)


def client(**changes: object) -> PoliteClient:
    return PoliteClient(replace(POLICY, **changes))  # type: ignore[arg-type]


def page(text: str = "A statement long enough to count as main text of a page.") -> str:
    return f"<html><body><main><p>{text}</p></main></body></html>"


# -- addresses -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "allow_private", "refused"),
    [
        ("93.184.216.34", False, None),
        ("127.0.0.1", False, "loopback"),
        ("127.0.0.1", True, None),
        ("::1", False, "loopback"),
        ("10.1.2.3", False, "private"),
        ("192.168.1.1", False, "private"),
        ("100.64.0.1", False, "private"),
        ("10.1.2.3", True, None),
        ("169.254.169.254", True, "link-local"),  # cloud metadata: never, whatever the setting
        ("fe80::1", True, "link-local"),
        ("::ffff:127.0.0.1", False, "loopback"),
        ("0.0.0.0", True, "reserved"),
        ("224.0.0.1", True, "reserved"),
    ],
)
def test_address_refusal(address: str, allow_private: bool, refused: str | None) -> None:
    assert address_refusal(address, allow_private) == refused


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", None),
        ("127.0.0.2", None),
        ("::1", None),
        ("10.1.2.3", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("93.184.216.34", None),
    ],
)
def test_loopback_only_allowance_keeps_private_ranges_refused(address: str, refused: str | None) -> None:
    """``allow_loopback`` (tests) opens 127/8 and ::1 and nothing else."""
    assert address_refusal(address, False, allow_loopback=True) == refused


def test_loopback_only_client_refuses_a_private_literal_before_connecting(fsite: LocalSite) -> None:
    fsite.add("/p", page())
    loopback_only = client(allow_private_addresses=False, allow_loopback=True)
    assert loopback_only.get(fsite.url("/p")).status == 200
    with pytest.raises(FetchError) as info:
        loopback_only.get("http://10.0.0.7/internal")
    assert info.value.kind == "blocked_address" and "private" in str(info.value)


def test_default_policy_refuses_loopback_before_any_request(fsite: LocalSite) -> None:
    fsite.add("/p", page())
    default = PoliteClient(FetchPolicy())
    assert default.policy.allow_private_addresses is False
    for url in (fsite.url("/p"), fsite.url("/p").replace("127.0.0.1", "localhost")):
        with pytest.raises(FetchError) as info:
            default.get(url)
        assert info.value.kind == "blocked_address", info.value
        assert "loopback" in str(info.value)
    assert fsite.hits == [], "nothing may reach a loopback server under the default policy"


def test_redirect_to_link_local_metadata_address_is_refused(fsite: LocalSite) -> None:
    fsite.add("/go", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    with pytest.raises(FetchError) as info:
        client().get(fsite.url("/go"))
    assert info.value.kind == "blocked_address"
    assert "169.254.169.254" in str(info.value)


def test_redirect_to_a_private_address_is_refused_when_private_is_off(
    fsite: LocalSite, fsite2: LocalSite
) -> None:
    """A public-looking first hop is simulated by allowing loopback only at connect time of hop 1."""
    fsite.add("/go", status=301, headers={"Location": "http://10.0.0.7/internal"})
    strict = client(allow_private_addresses=False)
    with pytest.raises(FetchError) as info:
        strict.check_url("http://10.0.0.7/internal")
    assert info.value.kind == "blocked_address" and "private" in str(info.value)
    with pytest.raises(FetchError) as info:
        client().get(fsite.url("/go"), allowed_hosts=frozenset({"127.0.0.1"}))
    assert info.value.kind == "host_not_allowed"


def test_redirects_are_followed_and_rechecked_against_allowed_hosts(
    fsite: LocalSite, fsite2: LocalSite
) -> None:
    fsite.add("/old", status=301, headers={"Location": "/new"})
    fsite.add("/new", page("moved here"))
    fsite.add("/away", status=302, headers={"Location": fsite2.url("/elsewhere")})
    fsite2.add("/elsewhere", page())
    resp = client().get(fsite.url("/old"), allowed_hosts=frozenset({"127.0.0.1"}))
    assert resp.url == fsite.url("/new") and resp.redirects == [fsite.url("/old")]
    with pytest.raises(FetchError) as info:
        client().get(fsite.url("/away"), allowed_hosts=frozenset({"127.0.0.1"}))
    assert info.value.kind == "host_not_allowed"
    assert fsite2.hits_for("/elsewhere") == []


def test_redirect_loop_and_too_many_redirects(fsite: LocalSite) -> None:
    fsite.add("/a", status=302, headers={"Location": "/b"})
    fsite.add("/b", status=302, headers={"Location": "/a"})
    with pytest.raises(FetchError) as info:
        client().get(fsite.url("/a"))
    assert info.value.kind == "redirects" and "loop" in str(info.value)
    for i in range(10):
        fsite.add(f"/r{i}", status=302, headers={"Location": f"/r{i + 1}"})
    with pytest.raises(FetchError) as info:
        client(max_redirects=3).get(fsite.url("/r0"))
    assert info.value.kind == "redirects"
    assert len(fsite.hits_for("/r4")) == 0, "stopped after the bound"


# -- robots.txt ------------------------------------------------------------------------------
def test_robots_disallow_is_obeyed_and_cached(fsite: LocalSite) -> None:
    fsite.add(
        "/robots.txt", "User-agent: *\nDisallow: /private/\nDisallow: /*?print=\n", content_type="text/plain"
    )
    fsite.add("/private/x", page())
    fsite.add("/ok", page())
    c = client()
    for _ in range(3):
        c.get(fsite.url("/ok"))
    for url in ("/private/x", "/ok?print=1"):
        with pytest.raises(FetchError) as info:
            c.get(fsite.url(url))
        assert info.value.kind == "robots" and info.value.permanent
    assert fsite.hits_for("/private/x") == []
    assert len(fsite.hits_for("/robots.txt")) == 1, "robots.txt is fetched once and cached"


def test_robots_missing_allows_and_robots_error_fails_without_fetching(
    fsite: LocalSite, fsite2: LocalSite
) -> None:
    fsite.add("/ok", page())
    assert client().get(fsite.url("/ok")).status == 200  # robots.txt is a 404: all allowed
    fsite2.add("/robots.txt", "down", status=503)
    fsite2.add("/ok", page())
    c = client(max_retries=0)
    for _ in range(2):
        with pytest.raises(FetchError) as info:
            c.get(fsite2.url("/ok"))
        assert info.value.kind == "robots_unavailable" and "503" in str(info.value)
    assert fsite2.hits_for("/ok") == []
    assert len(fsite2.hits_for("/robots.txt")) == 2, "one try plus one retry, then remembered briefly"


def test_crawl_delay_paces_the_host(fsite: LocalSite) -> None:
    fsite.add("/robots.txt", "User-agent: *\nCrawl-delay: 0.3\n", content_type="text/plain")
    fsite.add("/ok", page())
    c = client()
    for _ in range(3):
        c.get(fsite.url("/ok"))
    starts = [h.at for h in fsite.hits_for("/ok")]
    assert all(b - a >= 0.28 for a, b in itertools.pairwise(starts)), starts


# -- pacing -----------------------------------------------------------------------------------
def test_per_host_cap_and_per_slot_delay(fsite: LocalSite) -> None:
    fsite.add("/slow", page(), delay_s=0.05)
    c = client(per_host_concurrency=2, min_delay_s=0.2)
    threads = [threading.Thread(target=c.get, args=(fsite.url("/slow"),)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fsite.max_in_flight <= 2
    starts = sorted(h.at for h in fsite.hits_for("/slow"))
    # two slots, each starting at most once per 0.2 s: six requests need at least 0.4 s
    assert starts[-1] - starts[0] >= 0.38, starts
    # and in any 0.2 s window at most two requests start
    assert all(starts[i + 2] - starts[i] >= 0.19 for i in range(len(starts) - 2)), starts


def test_min_delay_overlaps_a_slow_answer_instead_of_adding_to_it(fsite: LocalSite) -> None:
    fsite.add("/slow", page(), delay_s=0.3)
    c = client(per_host_concurrency=1, min_delay_s=0.2)
    c.get(fsite.url("/slow"))  # robots.txt and the connection are warm now
    started = time.monotonic()
    for _ in range(3):
        c.get(fsite.url("/slow"))
    elapsed = time.monotonic() - started
    assert elapsed < 3 * (0.3 + 0.2), "the delay runs during the answer, not after it"
    assert elapsed >= 3 * 0.3


# -- faults ------------------------------------------------------------------------------------
def test_read_timeout_is_retried_then_reported(fsite: LocalSite) -> None:
    fsite.add("/hang", page(), delay_s=1.5)
    with pytest.raises(FetchError) as info:
        client(read_timeout_s=0.3, max_retries=1).get(fsite.url("/hang"))
    assert info.value.kind == "timeout"
    assert len(fsite.hits_for("/hang")) == 2


def test_whole_response_deadline_stops_a_slow_drip(fsite: LocalSite) -> None:
    fsite.add("/drip", handler=faultsite.slow_drip(0.1))
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        client(read_timeout_s=1.0, deadline_s=0.5, max_retries=0).get(fsite.url("/drip"))
    assert info.value.kind == "timeout" and "within" in str(info.value)
    assert time.monotonic() - started < 3


def test_429_with_short_retry_after_is_waited_then_succeeds(fsite: LocalSite) -> None:
    calls = {"n": 0}

    def limited(req):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        body = b"slow down" if calls["n"] == 1 else page().encode()
        req.send_response(429 if calls["n"] == 1 else 200)
        if calls["n"] == 1:
            req.send_header("Retry-After", "1")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    fsite.add("/limited", handler=limited)
    sleep = RecordingSleep()
    c = PoliteClient(POLICY, sleep=sleep)
    resp = c.get(fsite.url("/limited"))
    assert resp.status == 200 and calls["n"] == 2
    assert max(sleep.calls) >= 1.0, "Retry-After: 1 was honoured"


def test_429_with_long_retry_after_stops_the_host_for_this_pass(fsite: LocalSite) -> None:
    fsite.add("/limited", "busy", status=429, headers={"Retry-After": "3600"})
    fsite.add("/other", page())
    c = client()
    with pytest.raises(FetchError) as info:
        c.get(fsite.url("/limited"))
    assert info.value.kind == "http" and info.value.status == 429 and info.value.retry_after_s == 3600
    with pytest.raises(FetchError) as info:
        c.get(fsite.url("/other"))
    assert info.value.kind == "rate_limited" and info.value.retry_after_s > 3000
    assert fsite.hits_for("/other") == [], "no request while the host asked us to stay away"


def test_500s_are_retried_with_exponential_backoff(fsite: LocalSite) -> None:
    fsite.add("/broken", "oops", status=500)
    sleep = RecordingSleep()
    c = PoliteClient(replace(POLICY, max_retries=3, retry_backoff_s=0.02), sleep=sleep)
    with pytest.raises(FetchError) as info:
        c.get(fsite.url("/broken"))
    assert info.value.kind == "http" and info.value.status == 500 and not info.value.permanent
    assert len(fsite.hits_for("/broken")) == 4
    backoffs = [s for s in sleep.calls if s > 0]
    assert len(backoffs) == 3 and backoffs[0] < backoffs[1] < backoffs[2]


def test_500_then_success(fsite: LocalSite) -> None:
    calls = {"n": 0}

    def flaky(req):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        body = page().encode() if calls["n"] > 1 else b"oops"
        req.send_response(200 if calls["n"] > 1 else 502)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    fsite.add("/flaky", handler=flaky)
    assert client().get(fsite.url("/flaky")).status == 200


def test_404_is_permanent_and_not_retried(fsite: LocalSite) -> None:
    with pytest.raises(FetchError) as info:
        client().get(fsite.url("/missing"))
    assert info.value.status == 404 and info.value.permanent
    assert len(fsite.hits_for("/missing")) == 1


def test_connection_reset(fsite: LocalSite) -> None:
    fsite.add("/reset", handler=faultsite.reset())
    with pytest.raises(FetchError) as info:
        client(max_retries=1).get(fsite.url("/reset"))
    assert info.value.kind == "connection"
    assert len(fsite.hits_for("/reset")) == 2


def test_truncated_body(fsite: LocalSite) -> None:
    fsite.add("/short", handler=faultsite.truncated())
    with pytest.raises(FetchError) as info:
        client(max_retries=0).get(fsite.url("/short"))
    assert info.value.kind == "truncated"


def test_declared_huge_body_is_refused_without_reading(fsite: LocalSite) -> None:
    fsite.add("/huge", b"x" * 10, headers={"Content-Length": str(10**10)})
    with pytest.raises(FetchError) as info:
        client(max_bytes=1_000_000).get(fsite.url("/huge"))
    assert info.value.kind == "too_large" and info.value.permanent
    assert len(fsite.hits_for("/huge")) == 1, "too large is not retried"


def test_endless_body_stops_at_the_cap(fsite: LocalSite) -> None:
    fsite.add("/endless", handler=faultsite.endless())
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as info:
            client(max_bytes=2_000_000).get(fsite.url("/endless"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.kind == "too_large"
    assert peak < 8_000_000, f"memory stayed near the cap ({peak} bytes)"


@pytest.mark.parametrize("layers", [1, 2])
def test_gzip_bomb_is_stopped_at_the_decoded_cap_with_bounded_memory(fsite: LocalSite, layers: int) -> None:
    bomb = faultsite.gzip_bomb(256, layers)  # 256 MiB of zeros, 50 times the cap
    assert len(bomb) < 1_000_000
    encoding = ", ".join(["gzip"] * layers)
    fsite.add("/bomb", bomb, headers={"Content-Encoding": encoding})
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as info:
            client(max_bytes=5_000_000).get(fsite.url("/bomb"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.kind == "too_large" and "after decoding" in str(info.value)
    assert peak < 20_000_000, f"the bomb must not be inflated in memory ({peak} bytes peak)"


def test_gzip_body_within_the_cap_is_decoded(fsite: LocalSite) -> None:
    import gzip

    fsite.add("/gz", gzip.compress(page("compressed").encode()), headers={"Content-Encoding": "gzip"})
    assert b"compressed" in client().get(fsite.url("/gz")).body


def test_corrupt_gzip_is_a_decoding_error(fsite: LocalSite) -> None:
    fsite.add("/badgz", b"\x1f\x8b\x08\x00garbage-not-deflate" * 10, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError) as info:
        client().get(fsite.url("/badgz"))
    assert info.value.kind == "decoding"


def test_conditional_get_returns_304(fsite: LocalSite) -> None:
    fsite.add("/p", page())
    c = client()
    first = c.get(fsite.url("/p"))
    again = c.get(fsite.url("/p"), etag=first.etag)
    assert again.not_modified and again.body == b""
    assert fsite.hits_for("/p")[-1].headers["if-none-match"] == first.etag


def test_invalid_urls() -> None:
    for url in ("ftp://example.org/x", "file:///etc/passwd", "not a url", "http:///nohost"):
        with pytest.raises(FetchError) as info:
            client().get(url)
        assert info.value.kind == "invalid_url"

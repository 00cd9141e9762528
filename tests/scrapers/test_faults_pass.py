"""Faults at the level of a whole scrape pass: the real crawl against a real local server.

The client's own fault tests (``test_client.py``) show each fault raised as a clear
``FetchError``; these show what a *pass* makes of it: every fault ends as a recorded, readable
error on the URL (``fetch_state``) or on the source, or as a correct result; the good pages
next to the bad ones are all stored, once; and a second pass writes nothing new.
"""

from __future__ import annotations

import pathlib
from dataclasses import replace
from datetime import timedelta

from models import Statement, Version, utcnow
from scrapers.client import FetchPolicy, PoliteClient
from tests.scrapers import faultsite, pages
from tests.scrapers import passes as P
from tests.support.site import LocalSite

FRENCH = [
    "Le Haut-Commissaire a déclaré : « L’espace civique se rétrécit » et a appelé à la libération "
    "immédiate des défenseurs détenus.",
    "Il a demandé aux États de garantir que les défenseurs des droits humains puissent coopérer avec "
    "l’ONU sans crainte de représailles.",
]
SPANISH = [
    "El Secretario General pidió la protección de los defensores de derechos humanos en América Latina, "
    "señaló el comunicado difundido en Nueva York.",
    "También instó a los Estados a investigar cada denuncia de represalias y a garantizar la rendición de "
    "cuentas.",
]
PDF_LINES = [
    "Statement attributable to the Spokesperson for the Secretary-General.",
    "The Secretary-General condemns the reprisals against human rights defenders",
    "reported this week and calls on all States to protect civic space.",
]
NO_TEXT = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Loading | UN News</title></head>'
    f'<body>{pages.CHROME_TOP}<div id="app"></div><script>window.boot()</script>{pages.CHROME_BOTTOM}'
    "</body></html>"
)


def _story(title: str, paragraphs: list[str], lang: str = "en") -> str:
    return pages.un_news_story(title, paragraphs, lang=lang)


def _feed_source(site: LocalSite, key: str = "faults", path: str = "/feed.xml") -> dict[str, object]:
    return {
        "key": key,
        "publisher": "Fault Office",
        "kind": "feed",
        "url": site.url(path),
        "languages": ["en"],
        "pattern": r"/(news|private)/",
        "content_selector": ".field--type-text-long",
        "drop_selector": ".media, .type-twitter",
    }


def _publish_faults(site: LocalSite) -> dict[str, str]:
    """A feed whose items are good pages and every kind of bad one; returns name -> URL."""
    urls = {
        "good-1": site.url("/news/good-1"),
        "good-2": site.url("/news/good-2"),
        "no-text": site.url("/news/no-text"),
        "latin1-lie": site.url("/news/latin1-lie"),
        "utf8-lie": site.url("/news/utf8-lie"),
        "pdf": site.url("/news/statement.pdf"),
        "error-500": site.url("/news/broken"),
        "robots": site.url("/private/embargoed"),
        "dead-host": "http://127.0.0.1:9/news/dead",  # nothing listens on the discard port
        "word": site.url("/news/statement.docx"),
    }
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.add("/news/good-1", _story("Civic space is shrinking, UN rights chief warns", pages.SG_MESSAGE))
    site.add(
        "/news/good-2",
        _story(
            "Reprisals against defenders must end",
            [
                "The Assistant Secretary-General presented the annual report on reprisals against those who "
                "cooperate with the United Nations on human rights.",
                "The report documents cases in forty-two countries, including surveillance, travel bans and "
                "detention of defenders who spoke to United Nations bodies.",
            ],
        ),
    )
    site.add("/news/no-text", NO_TEXT)
    # declared latin-1, bytes UTF-8 (the commonest lie)
    site.add(
        "/news/latin1-lie",
        _story("Espace civique : le Haut-Commissaire s’inquiète", FRENCH, lang="fr").encode("utf-8"),
        content_type="text/html; charset=iso-8859-1",
    )
    # declared UTF-8 (header and meta), bytes cp1252
    site.add(
        "/news/utf8-lie",
        _story("Defensores: el Secretario General pide protección", SPANISH, lang="es").encode("cp1252"),
        content_type="text/html; charset=utf-8",
    )
    site.add(
        "/news/statement.pdf",
        faultsite.pdf(PDF_LINES, title="Statement on reprisals against human rights defenders"),
        content_type="application/pdf",
    )
    site.add("/news/broken", "<h1>Internal Server Error</h1>", status=500)
    site.add(
        "/news/statement.docx",
        b"PK\x03\x04" + b"\x00" * 200,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    site.add("/private/embargoed", _story("Embargoed", pages.SG_MESSAGE))
    date = "Wed, 18 Nov 2026 10:00:00 GMT"
    site.add(
        "/feed.xml",
        pages.rss([(url, name, date) for name, url in urls.items()]),
        content_type="application/rss+xml",
    )
    return urls


def test_every_item_fault_is_recorded_and_the_good_pages_stored_once(
    make_ctx: P.MakeCtx, fsite: LocalSite, tmp_path: pathlib.Path
) -> None:
    urls = _publish_faults(fsite)
    ctx = P.context(make_ctx, tmp_path, [_feed_source(fsite)], max_retries=1)

    report = P.scrape(ctx)
    (result,) = report.sources
    assert result.ok and result.error is None, "item faults never fail the source"
    assert result.discovered == len(urls)
    stored = {row.url.rsplit("/", 1)[-1]: row for row in P.statements(ctx)}
    assert set(stored) == {"good-1", "good-2", "latin1-lie", "utf8-lie", "statement.pdf"}
    assert all(len(row.texts) == 1 for row in stored.values()), "one version each"

    # mislabelled charsets read as the text they are
    latin = stored["latin1-lie"]
    assert "« L’espace civique se rétrécit »" in latin.texts[0] and "à la libération" in latin.texts[0]
    assert latin.title == "Espace civique : le Haut-Commissaire s’inquiète" and latin.lang == "fr"
    utf8 = stored["utf8-lie"]
    assert "señaló el comunicado" in utf8.texts[0] and "América Latina" in utf8.texts[0]
    assert "\ufffd" not in utf8.texts[0] and utf8.lang == "es"
    # the PDF statement: its text, title and date
    pdf = stored["statement.pdf"]
    assert pdf.texts[0].startswith("Statement attributable to the Spokesperson")
    assert "condemns the reprisals against human rights defenders reported this week" in pdf.texts[0]
    assert pdf.title == "Statement on reprisals against human rights defenders"
    assert pdf.published_at is not None and pdf.published_at.date().isoformat() == "2026-11-18"
    # chrome of the good pages stayed out
    good = stored["good-1"].texts[0]
    assert "Embedded tweet" not in good and "photo caption" not in good and "Copyright" not in good

    failures = {
        name: P.fetch_state(ctx, urls[name])
        for name in ("no-text", "error-500", "robots", "dead-host", "word")
    }
    for name, state in failures.items():
        assert state is not None, f"{name}: the failure is on record"
        assert state.consecutive_failures == 1 and state.last_success_at is None, name
        assert state.backoff_until is not None, f"{name}: not retried at once"
    assert "no main text" in (failures["no-text"].last_error or "")
    assert (failures["error-500"].last_error or "").startswith("http: HTTP 500")
    assert failures["error-500"].last_status == 500
    assert (failures["robots"].last_error or "").startswith("robots: disallowed by robots.txt")
    assert (failures["dead-host"].last_error or "").startswith("connection")
    assert (failures["word"].last_error or "").startswith("unsupported content type application/vnd.openxml")
    assert fsite.hits_for("/private/embargoed") == [], "a disallowed page is never requested"
    assert len(fsite.hits_for("/news/broken")) == 2, "one retry (max_retries=1), then recorded"
    assert result.failed_items == 5 and len(result.item_errors) == 5
    assert any("no main text" in e for e in result.item_errors)

    health = P.source(ctx, "faults")
    assert health.consecutive_failures == 0 and health.last_error is None and health.last_success_at

    # a second pass: nothing new, nothing duplicated, the failures not hammered again
    hits_before = len(fsite.hits)
    again = P.scrape(ctx)
    assert again.new_statements == 0 and again.new_versions == 0
    assert P.count(ctx, Statement) == 5 and P.count(ctx, Version) == 5
    assert len(fsite.hits_for("/news/broken")) == 2, "in backoff: not requested again"
    assert len(fsite.hits) - hits_before <= 2, "only the feed (a 304) and its robots.txt at most"
    for name in failures:
        assert P.fetch_state(ctx, urls[name]).consecutive_failures == 1  # type: ignore[union-attr]


def test_a_failed_item_recovers_on_a_later_pass(
    make_ctx: P.MakeCtx, fsite: LocalSite, tmp_path: pathlib.Path
) -> None:
    """Nothing lost: a page that answered 500 is stored once it works, and its record cleared."""
    urls = _publish_faults(fsite)
    ctx = P.context(make_ctx, tmp_path, [_feed_source(fsite)], max_retries=0)
    P.scrape(ctx)
    assert P.fetch_state(ctx, urls["error-500"]).consecutive_failures == 1  # type: ignore[union-attr]

    fsite.add("/news/broken", _story("The page is back", pages.SG_MESSAGE[:2]))
    _end_backoff(ctx)
    report = P.scrape(ctx)
    assert report.new_statements == 1
    state = P.fetch_state(ctx, urls["error-500"])
    assert state is not None and state.consecutive_failures == 0 and state.last_error is None
    assert state.last_success_at is not None
    titles = {row.title for row in P.statements(ctx)}
    assert "The page is back" in titles


def test_malformed_feed_fails_its_source_only(
    make_ctx: P.MakeCtx, fsite: LocalSite, fsite2: LocalSite, tmp_path: pathlib.Path
) -> None:
    fsite.add(
        "/feed.xml", "<rss><channel><item><title>Unclosed & broken</item></channel", content_type="text/xml"
    )
    fsite2.add(
        "/feed.xml",
        pages.rss([(fsite2.url("/news/good"), "Good", "Wed, 18 Nov 2026 10:00:00 GMT")]),
        content_type="application/rss+xml",
    )
    fsite2.add("/news/good", _story("A good story on another site", pages.SG_MESSAGE))
    ctx = P.context(
        make_ctx, tmp_path, [_feed_source(fsite, "broken-feed"), _feed_source(fsite2, "good-feed")]
    )

    report = P.scrape(ctx)
    results = {r.key: r for r in report.sources}
    assert not results["broken-feed"].ok and "malformed feed" in (results["broken-feed"].error or "")
    assert results["good-feed"].ok and results["good-feed"].new_statements == 1
    broken = P.source(ctx, "broken-feed")
    assert broken.consecutive_failures == 1 and "malformed feed" in (broken.last_error or "")
    assert broken.next_due_at is not None and broken.polls == 1
    feed_state = P.fetch_state(ctx, fsite.url("/feed.xml"))
    assert feed_state is not None and feed_state.consecutive_failures == 1
    assert "malformed feed" in (feed_state.last_error or "")

    again = P.scrape(ctx)
    assert again.new_statements == 0
    assert P.source(ctx, "broken-feed").consecutive_failures == 2, "each failed poll counts"
    assert P.count(ctx, Statement) == 1


def test_dead_host_and_500_among_good_sources(
    make_ctx: P.MakeCtx, fsite: LocalSite, fsite2: LocalSite, tmp_path: pathlib.Path
) -> None:
    """A source whose entry answers 500 and one on a dead host fail alone; the good one is whole."""
    fsite.add("/feed.xml", "oops", status=500)
    fsite2.add(
        "/feed.xml",
        pages.rss(
            [(fsite2.url(f"/news/{i}"), f"Story {i}", "Wed, 18 Nov 2026 10:00:00 GMT") for i in range(3)]
        ),
        content_type="application/rss+xml",
    )
    for i in range(3):
        fsite2.add(f"/news/{i}", _story(f"Story {i}", [f"Paragraph {i}. " + p for p in pages.SG_MESSAGE]))
    dead = _feed_source(fsite, "dead-host")
    dead["url"] = "http://127.0.0.1:9/feed.xml"
    ctx = P.context(
        make_ctx,
        tmp_path,
        [_feed_source(fsite, "error-500"), dead, _feed_source(fsite2, "good")],
        max_retries=1,
    )
    report = P.scrape(ctx)
    failed = {r.key: r.error or "" for r in report.failed_sources}
    assert set(failed) == {"error-500", "dead-host"}
    assert failed["error-500"].startswith("http: HTTP 500") and failed["dead-host"].startswith("connection")
    assert report.new_statements == 3
    for key in ("error-500", "dead-host"):
        health = P.source(ctx, key)
        assert health.consecutive_failures == 1 and health.last_error and health.last_success_at is None
    assert P.source(ctx, "good").last_success_at is not None
    assert P.scrape(ctx).new_versions == 0


def test_redirect_to_a_private_address_is_refused_with_private_addresses_off(
    make_ctx: P.MakeCtx, fsite: LocalSite, tmp_path: pathlib.Path
) -> None:
    """Loopback is allowed for the test site itself, private ranges are not: a statement link
    that redirects into the private network is refused at the hop, recorded, never fetched."""
    fsite.add(
        "/feed.xml",
        pages.rss(
            [
                (fsite.url("/news/moved"), "Moved", "Wed, 18 Nov 2026 10:00:00 GMT"),
                (fsite.url("/news/good"), "Good", "Wed, 18 Nov 2026 10:00:00 GMT"),
                ("http://10.0.0.7/news/direct", "Direct", "Wed, 18 Nov 2026 10:00:00 GMT"),
            ]
        ),
        content_type="application/rss+xml",
    )
    fsite.add("/news/moved", status=302, headers={"Location": "http://10.0.0.7/news/internal"})
    fsite.add("/news/good", _story("A good story", pages.SG_MESSAGE))
    entry = _feed_source(fsite)
    entry["allowed_hosts"] = ["127.0.0.1", "10.0.0.7"]  # only the address check stands in the way
    ctx = P.context(make_ctx, tmp_path, [entry], allow_private_addresses=False)
    base = ctx.client.policy
    assert base.allow_private_addresses is False
    ctx.client = PoliteClient(replace(base, allow_loopback=True))  # type: ignore[misc]

    report = P.scrape(ctx)
    (result,) = report.sources
    assert result.ok and result.new_statements == 1 and result.failed_items == 2
    moved = P.fetch_state(ctx, fsite.url("/news/moved"))
    direct = P.fetch_state(ctx, "http://10.0.0.7/news/direct")
    for state in (moved, direct):
        assert state is not None and state.consecutive_failures == 1
        assert (state.last_error or "").startswith("blocked_address") and "private" in (
            state.last_error or ""
        )
        assert state.backoff_until is not None
    assert P.scrape(ctx).new_versions == 0


def test_default_policy_never_allows_loopback() -> None:
    """The loopback allowance is a test-only switch: off unless asked for."""
    assert FetchPolicy().allow_loopback is False and FetchPolicy().allow_private_addresses is False


def _end_backoff(ctx: P.Context) -> None:
    from sqlalchemy import update

    from models import FetchState, session_scope

    with session_scope(ctx.factory) as session:
        session.execute(update(FetchState).values(backoff_until=None, last_fetched_at=None))


def test_socket_level_faults_in_a_pass_are_recorded_by_kind(
    make_ctx: P.MakeCtx, fsite: LocalSite, fsite2: LocalSite, tmp_path: pathlib.Path
) -> None:
    """Reset, truncated, endless and bomb bodies, redirect loop, a slow answer and a long
    Retry-After: each item ends with its own clear error; the good page beside them is stored."""
    faults = {
        "reset": ("/news/reset", {"handler": faultsite.reset()}, "connection"),
        "truncated": ("/news/truncated", {"handler": faultsite.truncated()}, "truncated"),
        "endless": ("/news/endless", {"handler": faultsite.endless()}, "too_large"),
        "bomb": (
            "/news/bomb",
            {"body": faultsite.gzip_bomb(16), "headers": {"Content-Encoding": "gzip"}},
            "too_large",
        ),
        "loop": ("/news/loop-a", {"status": 302, "headers": {"Location": "/news/loop-b"}}, "redirects"),
        "slow": ("/news/slow", {"body": _story("Slow", pages.SG_MESSAGE), "delay_s": 1.0}, "timeout"),
    }
    for path, route, _ in faults.values():
        fsite.add(path, **route)
    fsite.add("/news/loop-b", status=302, headers={"Location": "/news/loop-a"})
    fsite.add("/news/good", _story("The good one", pages.SG_MESSAGE))
    # a long Retry-After stops its host for the pass: on a host of its own, so nothing else waits
    fsite2.add("/news/busy", "slow down", status=429, headers={"Retry-After": "3600"})
    links = [fsite.url(path) for path, _, _ in faults.values()]
    links += [fsite.url("/news/good"), fsite2.url("/news/busy")]
    fsite.add(
        "/feed.xml",
        pages.rss([(u, u.rsplit("/", 1)[-1], "Wed, 18 Nov 2026 10:00:00 GMT") for u in links]),
        content_type="application/rss+xml",
    )
    entry = _feed_source(fsite)
    entry["allowed_hosts"] = ["127.0.0.1", "127.0.0.2"]
    ctx = P.context(
        make_ctx, tmp_path, [entry], max_retries=0, read_timeout_s=0.3, max_response_bytes=300_000
    )
    report = P.scrape(ctx)
    (result,) = report.sources
    assert result.ok and result.new_statements == 1 and result.failed_items == len(faults) + 1
    assert [row.title for row in P.statements(ctx)] == ["The good one"]
    for name, (path, _, kind) in faults.items():
        state = P.fetch_state(ctx, fsite.url(path))
        assert state is not None and state.consecutive_failures == 1, name
        assert (state.last_error or "").startswith(kind + ":"), f"{name}: {state.last_error}"
    busy = P.fetch_state(ctx, fsite2.url("/news/busy"))
    assert busy is not None and busy.last_status == 429 and busy.backoff_until is not None
    assert busy.backoff_until >= utcnow() + timedelta(minutes=59), "Retry-After is honoured across passes"
    assert len(fsite2.hits_for("/news/busy")) == 1

    assert P.scrape(ctx).new_versions == 0
    assert len(fsite2.hits_for("/news/busy")) == 1, "not asked again before its Retry-After"

"""Screenshots of the Commitments dashboard in a real Airflow, taken by headless Chromium.

A throw-away PledgeWatch database is seeded with a year of history relative to now: the real
catalog (every commitment), five sources with six-hourly polls (one failing for three weeks, one
that failed and recovered), a few hundred statements in English and French, some edited (an edit
that adds a reference, an edit that only repeats one), references found by their catalog cues with
their parents implied. The statuses are then computed by the real quiet check (active, quiet,
unknown) and one commitment is muted as a monitor would mute it.

``airflow api-server`` then runs with the plugin loaded from ``plugins/`` against that database
(under ``setsid``, stopped by signalling its process group: ``bench/_airflow.py``). The bench logs
in through Airflow's own ``POST /auth/token`` with the generated admin password, puts the JWT in
the ``_token`` cookie the UI holds (httpOnly, as Airflow sets it), and drives Debian's
``chromium --headless`` over the DevTools protocol (a small websocket client, no driver):

1. the Commitments page without the cookie: HTTP 401 and the login page;
2. the Commitments page (``/pledgewatch/``), a commitment page and a failing source's page, logged in;
3. the Airflow UI itself at ``/plugin/commitments``: the nav entry with the dashboard in its frame.

Each page is checked: HTTP 200, the DOM text names the expected commitment ids (or the source),
every row's timeline has bars; each PNG is checked: size, dimensions, not blank (grey-level
spread and distinct colours). PNGs go to ``bench/artifacts/`` (git-ignored).

Prints one JSON line: {"path", "width", "height", "bytes", "seconds", "checks_passed", ...}.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._airflow import Airflow, stop_on_sigterm, stop_process_group, workdir  # noqa: E402

ARTIFACTS = ROOT / "bench" / "artifacts"
CHROMIUM = os.environ.get("PLEDGEWATCH_CHROMIUM", "chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
)
VIEWPORT = (1440, 900)

# --- a year of history ------------------------------------------------------------------------

# key: (publisher, kind, url, language)
SOURCES = {
    "ohchr-press": ("OHCHR", "listing", "https://www.ohchr.org/en/press-releases", "en"),
    "un-news-fr": ("ONU Info", "feed", "https://news.un.org/feed/subscribe/fr/news/all/rss.xml", "fr"),
    "hrw-news": ("Human Rights Watch", "feed", "https://www.hrw.org/rss/news_releases", "en"),
    "amnesty-news": ("Amnesty International", "listing", "https://www.amnesty.org/en/latest/news/", "en"),
    "ngo-coalition": ("NGO Coalition for the Next SG", "listing", "https://coalition.example.org/news", "en"),
}
# Who tends to speak about which family.
PUBLISHERS = {
    "c2a": ["ohchr-press", "ohchr-press", "un-news-fr", "hrw-news", "amnesty-news"],
    "hr75": ["ohchr-press", "un-news-fr", "amnesty-news"],
    "ngo": ["hrw-news", "amnesty-news", "ngo-coalition"],
}
TITLES = {
    "en": [
        "High Commissioner urges States to act on {topic}",
        "Statement on {topic}",
        "{Topic}: commitments made must now be kept",
        "Side event on {topic} at the Human Rights Council",
        "Joint letter to Member States on {topic}",
        "Comment by the spokesperson on {topic}",
    ],
    "fr": [
        "Droits humains : l'ONU appelle à agir ({cue})",
        "Le Haut-Commissaire plaide pour {cue}",
        "Conseil des droits de l'homme : débat sur {cue}",
    ],
}
EVIDENCE = {
    "en": [
        "The High Commissioner called on Member States to deliver on {cue}, saying the pledges of 2020 must now be met.",
        "Speakers stressed that {cue} remains a priority and asked for a timetable.",
        "The organisations welcomed progress on {cue} but warned that funding was falling short.",
        "We urge the next Secretary-General to champion {cue} from the first day in office.",
    ],
    "fr": [
        "Le Haut-Commissaire a appelé les États à progresser sur {cue}, rappelant les engagements de 2020.",
        "Les intervenants ont souligné que {cue} reste une priorité.",
    ],
}
FILLER = {
    "en": "The full statement is available on the publisher's website.",
    "fr": "La déclaration complète est disponible sur le site de l'éditeur.",
}
# (mean days between statements, days ago the commitment was last mentioned, sources it is heard from)
PINNED: dict[str, tuple[float, float, tuple[str, ...] | None]] = {
    "c2a.7.4": (6.0, 0.0, None),  # lethal autonomous weapons: the busiest
    "c2a.3.7": (12.0, 0.0, None),
    "c2a.4.2": (18.0, 210.0, ("ohchr-press", "un-news-fr")),  # quiet: nothing for seven months
    "ngo.5": (10.0, 75.0, ("ngo-coalition",)),  # unknown: its one source has been failing
    "ngo.8": (9.0, 130.0, ("hrw-news", "amnesty-news")),  # quiet underneath, but muted
    "hr75.6": (30.0, 0.0, None),
}
MUTED = ("ngo.8", 45, "expected lull while the court case is pending")
NGO_FAILING_DAYS = 21


@dataclass
class Seeded:
    now: datetime
    statements: int = 0
    versions: int = 0
    references: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    referenced: list[str] = field(default_factory=list)


def _plain_cue(entry: Any, lang: str) -> str:
    """The first cue of ``entry`` in ``lang`` that is a plain phrase (no proximity operator)."""
    for cue in entry.cues.get(lang) or []:
        if "~" not in cue:
            return str(cue)
    return ""


def _topic(entry: Any) -> str:
    return str(entry.title.split(" - ")[0]).rstrip(".")


def seed_history(url: str, now: datetime, rng: random.Random) -> Seeded:
    """Write the history into the migrated, empty database at ``url``; statuses by the real check."""
    from alerts.mute import set_mute
    from models import Delta, Reference, Source, SourcePoll, Statement, Version, session_scope
    from pipeline.context import Context
    from pipeline.match import sync_commitments
    from pipeline.quiet import run_quiet
    from scrapers.store import paragraph_list_delta
    from scrapers.urls import url_hash

    os.environ["PLEDGEWATCH_DATABASE_URL"] = url
    ctx = Context.from_env(trigger="bench")
    seeded = Seeded(now=now)
    start = now - timedelta(days=400)
    catalog = ctx.catalog
    try:
        with session_scope(ctx.factory) as session:
            sync_commitments(session, catalog)
            sources: dict[str, Source] = {}
            for key, (publisher, kind, src_url, lang) in SOURCES.items():
                sources[key] = Source(key=key, publisher=publisher, kind=kind, url=src_url, languages=[lang])
            session.add_all(sources.values())
            session.flush()
            _polls(session, SourcePoll, sources, start, now)

            # Who is mentioned when: a Poisson process per commitment (actions and tops).
            events: list[tuple[datetime, str, str]] = []
            for entry in catalog:
                if entry.level == "family" or not _plain_cue(entry, "en"):
                    continue
                mean, stopped_days_ago, heard_from = PINNED.get(entry.id) or (
                    rng.choice([8.0, 14.0, 21.0, 35.0, 60.0, 90.0]),
                    rng.choice([0.0] * 8 + [170.0, 240.0]),
                    None,
                )
                pool = list(heard_from or PUBLISHERS[entry.family])
                end = now - timedelta(days=stopped_days_ago)
                when = start + timedelta(days=rng.expovariate(1 / mean))
                while when < end:
                    source = rng.choice(pool)
                    if source == "ngo-coalition" and when > now - timedelta(days=NGO_FAILING_DAYS):
                        source = rng.choice([p for p in pool if p != "ngo-coalition"] or pool)
                        if source == "ngo-coalition":  # a failing source publishes nothing we can see
                            when += timedelta(days=rng.expovariate(1 / mean))
                            continue
                    events.append((when, entry.id, source))
                    when += timedelta(days=rng.expovariate(1 / mean))
            events.sort()
            seeded.referenced = sorted({cid for _, cid, _ in events})

            for n, (when, cid, key) in enumerate(events):
                source = sources[key]
                lang = SOURCES[key][3]
                entry = catalog.get(cid)
                assert entry is not None
                mentioned = [cid]
                if rng.random() < 0.25:  # a co-mention of a commitment of the same family
                    sibling = rng.choice(
                        [e for e in catalog if e.family == entry.family and e.level != "family"]
                    )
                    if sibling.id != cid and _plain_cue(sibling, lang) and sibling.id not in PINNED:
                        mentioned.append(sibling.id)
                paragraphs = [
                    rng.choice(EVIDENCE[lang]).format(cue=_plain_cue(catalog.get(m), lang) or _topic(entry))
                    for m in mentioned
                ] + [FILLER[lang]]
                topic = _topic(entry)
                title = rng.choice(TITLES[lang]).format(
                    topic=topic.lower(), Topic=topic, cue=_plain_cue(entry, lang) or topic
                )
                page_url = f"{source.url.rstrip('/')}/{when:%Y/%m}/{cid.replace('.', '-')}-{n}"
                fetched = when + timedelta(minutes=rng.randint(20, 180))
                statement = Statement(
                    url_hash=url_hash(page_url),
                    url=page_url,
                    source_id=source.id,
                    publisher=source.publisher,
                    title=title,
                    published_at=when,
                    lang=lang,
                    first_seen_at=fetched,
                    last_seen_at=min(now, fetched + timedelta(days=30)),
                )
                session.add(statement)
                session.flush()
                statement.cluster_id = statement.id
                seeded.statements += 1
                versions = [(fetched, paragraphs)]
                edit_at = fetched + timedelta(days=rng.uniform(1, 6))
                if rng.random() < 0.15 and edit_at < now:
                    edited = [*paragraphs[:-1], "Correction: the date of the next session was updated."]
                    if rng.random() < 0.5:  # the edit adds a reference to the commitment's parent topic
                        extra = next((a for a in catalog.ancestors(cid) if a.count(".") == 1), None)
                        if extra and _plain_cue(catalog.get(extra), lang) and extra not in mentioned:
                            edited.insert(
                                -1,
                                rng.choice(EVIDENCE[lang]).format(cue=_plain_cue(catalog.get(extra), lang)),
                            )
                            mentioned.append(extra)
                    versions.append((edit_at, edited))
                previous: Version | None = None
                previous_refs: set[str] = set()
                for seq, (fetched_at, paras) in enumerate(versions, start=1):
                    text = "\n".join(paras)
                    version = Version(
                        statement_id=statement.id,
                        seq=seq,
                        content_hash=hashlib.sha256(text.encode()).hexdigest(),
                        title=title,
                        text=text,
                        lang=lang,
                        published_at=when,
                        fetched_at=fetched_at,
                        matched_at=fetched_at + timedelta(minutes=2),
                        matcher_version="bench-seed",
                    )
                    session.add(version)
                    session.flush()
                    seeded.versions += 1
                    if previous is not None:
                        added, removed = paragraph_list_delta(versions[seq - 2][1], paras)
                        session.add(
                            Delta(
                                version_id=version.id,
                                previous_version_id=previous.id,
                                added=added,
                                removed=removed,
                                added_chars=sum(map(len, added)),
                                removed_chars=sum(map(len, removed)),
                                created_at=fetched_at,
                            )
                        )
                    refs: dict[str, tuple[str, str, int, bool]] = {}
                    for m in mentioned:
                        cue = _plain_cue(catalog.get(m), lang)
                        para = next((p for p in paras if cue and cue in p), None)
                        if para is None:
                            continue
                        refs[m] = (cue, para, text.index(para), False)
                        for parent in catalog.ancestors(m):
                            refs.setdefault(parent, (cue, para, text.index(para), True))
                    for ref_id, (cue, para, offset, implied) in sorted(refs.items()):
                        start_offset = offset + para.index(cue)
                        session.add(
                            Reference(
                                version_id=version.id,
                                statement_id=statement.id,
                                commitment_id=ref_id,
                                score=round(0.55 + 0.1 * rng.random(), 3)
                                if implied
                                else round(0.75 + 0.2 * rng.random(), 3),
                                cue=cue,
                                evidence=para,
                                evidence_start=offset,
                                start_offset=start_offset,
                                end_offset=start_offset + len(cue),
                                lang=lang,
                                method="rule",
                                implied=implied,
                                is_new=ref_id not in previous_refs,
                                created_at=fetched_at + timedelta(minutes=2),
                            )
                        )
                        seeded.references += 1
                    previous, previous_refs = version, set(refs)
                if n % 200 == 0:
                    session.flush()
        report = run_quiet(ctx, now)
        seeded.statuses = {k: v for k, v in report.outcome.statuses.items() if v}
        with session_scope(ctx.factory) as session:
            cid, days, reason = MUTED
            set_mute(session, cid, now + timedelta(days=days), reason)
    finally:
        ctx.close()
    return seeded


def _polls(session: Any, SourcePoll: Any, sources: dict[str, Any], start: datetime, now: datetime) -> None:
    """A poll every six hours; hrw-news failed for five days two months ago, ngo-coalition is failing."""
    hrw_down = (now - timedelta(days=62), now - timedelta(days=57))
    ngo_down = now - timedelta(days=NGO_FAILING_DAYS)
    rows = []
    for key, source in sources.items():
        when = start + timedelta(minutes=17 * len(rows) % 360)
        failures, first_failure = 0, None
        while when < now:
            failing = (key == "hrw-news" and hrw_down[0] <= when < hrw_down[1]) or (
                key == "ngo-coalition" and when >= ngo_down
            )
            rows.append(
                {
                    "source_id": source.id,
                    "started_at": when,
                    "finished_at": when + timedelta(seconds=12),
                    "ok": not failing,
                    "http_status": 503 if failing else 200,
                    "error": "HTTP 503 Service Unavailable (after 3 tries)" if failing else None,
                    "discovered": 0 if failing else 20,
                    "fetched": 0 if failing else 2,
                }
            )
            failures = failures + 1 if failing else 0
            first_failure = (first_failure or when) if failing else None
            if not failing:
                source.last_success_at = when
            else:
                source.last_failure_at = when
                source.last_error = "HTTP 503 Service Unavailable (after 3 tries)"
            when += timedelta(hours=6)
        source.consecutive_failures = failures
        source.failing_since = first_failure
        source.next_due_at = when
    session.execute(SourcePoll.__table__.insert(), rows)


# --- headless Chromium over the DevTools protocol ------------------------------------------------


class Browser:
    """Debian's headless Chromium in its own session, driven over CDP with one websocket."""

    def __init__(self, work: Path) -> None:
        self.profile = work / "chromium-profile"
        self.profile.mkdir(parents=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.ws: Any = None
        self._closing = contextlib.ExitStack()
        self._id = 0
        self.events: list[dict[str, Any]] = []
        self.log = work / "chromium.log"

    def start(self, timeout_s: float = 60.0) -> None:
        from websockets.sync.client import connect

        exe = shutil.which(CHROMIUM)
        if exe is None:
            raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    exe,
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={self.profile}",
                    "--remote-debugging-address=127.0.0.1",
                    "--remote-debugging-port=0",
                    f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
                    "about:blank",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chromium did not start; see {self.log}")
            time.sleep(0.2)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            targets = json.load(resp)
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = self._closing.enter_context(
            connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=20)
        )
        for domain in ("Page", "Network", "Runtime"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=VIEWPORT[0],
            height=VIEWPORT[1],
            deviceScaleFactor=1,
            mobile=False,
        )

    def send(self, method: str, timeout_s: float = 60.0, **params: Any) -> dict[str, Any]:
        """One CDP command; events that arrive meanwhile are kept in ``events``."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout_s
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result") or {})
            if "method" in message:
                self.events.append(message)

    def wait_event(self, method: str, timeout_s: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            for i, event in enumerate(self.events):
                if event["method"] == method:
                    return dict(self.events.pop(i)["params"])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {method} within {timeout_s} s")
            with contextlib.suppress(TimeoutError):
                message = json.loads(self.ws.recv(timeout=min(remaining, 1.0)))
                if "method" in message:
                    self.events.append(message)

    def set_cookie(self, base: str, name: str, value: str) -> None:
        """As Airflow's login sets it: httpOnly, SameSite=Lax, path /."""
        ok = self.send(
            "Network.setCookie",
            name=name,
            value=value,
            url=base + "/",
            path="/",
            httpOnly=True,
            sameSite="Lax",
        )
        if not ok.get("success", True):
            raise RuntimeError("Chromium refused the cookie")

    def clear_cookies(self) -> None:
        self.send("Network.clearBrowserCookies")

    def open(self, url: str, timeout_s: float = 60.0) -> int:
        """Navigate and wait for the load event; returns the main document's HTTP status."""
        self.events.clear()
        frame = self.send("Page.navigate", url=url)
        if frame.get("errorText"):
            raise RuntimeError(f"{url}: {frame['errorText']}")
        self.wait_event("Page.loadEventFired", timeout_s)
        status = 0
        for event in self.events:
            params = event.get("params", {})
            if (
                event["method"] == "Network.responseReceived"
                and params.get("type") == "Document"
                and params.get("frameId") == frame.get("frameId")
            ):
                status = int(params["response"]["status"])
        return status

    def evaluate(self, expression: str) -> Any:
        reply = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression!r}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 60.0) -> Any:
        """Poll a JS expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.5)
        raise TimeoutError(f"{expression!r} stayed falsy for {timeout_s} s")

    def screenshot(self, path: Path, *, full_page: bool = True) -> bytes:
        """A PNG of the page (the whole page unless ``full_page`` is False), written to ``path``."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            width = max(VIEWPORT[0], int(size["width"]))
            height = min(max(VIEWPORT[1], int(size["height"])), 16000)
            params.update(
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            )
        png = base64.b64decode(self.send("Page.captureScreenshot", **params)["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
        return png

    def stop(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                self.send("Browser.close", timeout_s=5)
            with contextlib.suppress(Exception):
                self._closing.close()
            self.ws = None
        stop_process_group(self.proc, term_wait_s=10.0)
        self.proc = None


# --- checks ---------------------------------------------------------------------------------


@dataclass
class Checks:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        (self.passed if ok else self.failed).append(name if ok or not detail else f"{name}: {detail}")


def image_facts(png: bytes) -> dict[str, Any]:
    from PIL import Image, ImageStat

    with Image.open(io.BytesIO(png)) as img:
        img.load()
        grey = img.convert("L")
        small = img.convert("RGB").resize((max(1, img.width // 4), max(1, img.height // 4)))
        colours = small.getcolors(maxcolors=1 << 20) or []
        non_white = sum(grey.histogram()[:245]) / (img.width * img.height)
        return {
            "format": img.format,
            "width": img.width,
            "height": img.height,
            "bytes": len(png),
            "grey_stddev": round(ImageStat.Stat(grey).stddev[0], 1),
            "colours": len(colours),
            "ink": round(non_white, 3),
        }


def check_png(checks: Checks, name: str, facts: dict[str, Any], min_height: int) -> None:
    checks.check(f"{name}: PNG", facts["format"] == "PNG", str(facts["format"]))
    checks.check(
        f"{name}: dimensions",
        facts["width"] >= VIEWPORT[0] and facts["height"] >= min_height,
        f"{facts['width']}x{facts['height']}",
    )
    checks.check(f"{name}: size", facts["bytes"] > 20_000, f"{facts['bytes']} bytes")
    checks.check(
        f"{name}: not blank",
        facts["grey_stddev"] > 10 and facts["colours"] > 50 and 0.01 < facts["ink"] < 0.9,
        json.dumps(facts),
    )


DOM_FACTS = """(() => {
  const rows = [...document.querySelectorAll('tbody tr')];
  return {
    title: document.title,
    text: document.body.innerText,
    rows: rows.length,
    charts: document.querySelectorAll('svg[role=img]').length,
    charted_rows: rows.filter(r => r.querySelector('svg rect[data-count]:not([data-count="0"])')).length,
    statuses: rows.map(r => (r.cells[2] && r.cells[2].querySelector('.badge') || {}).textContent || ''),
    scroll_width: document.documentElement.scrollWidth,
  };
})()"""


def main() -> None:
    from sqlalchemy import select

    from models import (
        Commitment,
        Reference,
        create_db_engine,
        make_session_factory,
        session_scope,
        upgrade_database,
        utcnow,
    )

    t0 = time.monotonic()
    checks = Checks()
    shots: dict[str, dict[str, Any]] = {}
    with workdir("pw-dashboard-") as work:
        url = f"sqlite:///{work / 'pledgewatch.db'}"
        upgrade_database(url)
        now = utcnow()
        seeded = seed_history(url, now, random.Random(20261130))
        engine = create_db_engine(url)
        with session_scope(make_session_factory(engine)) as session:
            active_ids = list(session.scalars(select(Commitment.id).where(Commitment.active.is_(True))))
            # commitments with a new reference in the 52 weeks the timeline shows: each must have bars
            charted_ids = set(
                session.scalars(
                    select(Reference.commitment_id).where(
                        Reference.is_new.is_(True), Reference.referenced_at > now - timedelta(weeks=52)
                    )
                )
            )
        engine.dispose()
        seed_s = time.monotonic() - t0

        settings = {"PLEDGEWATCH_DATABASE_URL": url, "PLEDGEWATCH_DATA_DIR": str(work / "data")}
        airflow = Airflow(
            work / "airflow", settings, ["airflow", "api-server"]
        )  # host, port: AIRFLOW__API__*
        browser = Browser(work)
        try:
            airflow.start(fetch_pool=False)
            browser.start()
            start_s = time.monotonic() - t0
            page = f"{airflow.base}/pledgewatch/"

            # 1. Anonymous: Airflow's login is required.
            browser.clear_cookies()
            status = browser.open(page)
            text = browser.evaluate("document.body.innerText")
            checks.check("anonymous: HTTP 401", status == 401, str(status))
            checks.check("anonymous: login page", "Log in" in text and "c2a.7.4" not in text, text[:200])

            # 2. Logged in with the JWT from POST /auth/token, in the cookie the UI holds.
            browser.set_cookie(airflow.base, "_token", airflow.token)
            pages = {
                "dashboard": (page, active_ids, len(active_ids)),
                "quiet": (f"{page}?status=quiet", ["c2a.4.2", "show all"], 1),
                "commitment": (f"{page}commitments/c2a.7.4", ["c2a.7.4", "lethal autonomous weapon"], 3),
                "source": (f"{page}sources/ngo-coalition", ["ngo-coalition", "failing"], 3),
            }
            for name, (target, expected, min_rows) in pages.items():
                status = browser.open(target)
                facts = browser.evaluate(DOM_FACTS)
                missing = [e for e in expected if e not in facts["text"]]
                checks.check(f"{name}: HTTP 200", status == 200, str(status))
                checks.check(f"{name}: text", not missing, f"missing {missing[:5]}")
                checks.check(f"{name}: rows", facts["rows"] >= min_rows, str(facts["rows"]))
                checks.check(
                    f"{name}: fits the width",
                    facts["scroll_width"] <= VIEWPORT[0],
                    f"{facts['scroll_width']} px wide",
                )
                if name == "dashboard":
                    shown = set(facts["statuses"])
                    for status_name in ("active", "quiet", "unknown", "muted"):
                        checks.check(
                            f"dashboard: shows {status_name}", status_name in shown, str(sorted(shown))
                        )
                    charted = facts["charted_rows"]
                    checks.check(
                        "dashboard: timelines drawn",
                        facts["charts"] == len(active_ids) and charted == len(charted_ids),
                        f"{facts['charts']} charts, {charted} with bars, {len(charted_ids)} expected",
                    )
                if name == "quiet":
                    checks.check(
                        "quiet: only quiet rows", set(facts["statuses"]) == {"quiet"}, str(facts["statuses"])
                    )
                if name == "commitment":
                    bars = browser.evaluate(
                        "document.querySelectorAll('svg rect[data-count]:not([data-count=\"0\"])').length"
                    )
                    checks.check(
                        "commitment: timeline drawn", facts["charts"] == 1 and bars > 5, f"{bars} bars"
                    )
                png = browser.screenshot(ARTIFACTS / f"{name}.png")
                shots[name] = image_facts(png)
                check_png(checks, name, shots[name], VIEWPORT[1])

            # 3. The real Airflow UI: the nav entry and the dashboard in its frame.
            browser.open(f"{airflow.base}/plugin/commitments")
            framed = browser.wait_for(
                "(() => { const f = document.querySelector('iframe');"
                " const t = f && f.contentDocument && f.contentDocument.body && f.contentDocument.body.innerText;"
                " return t && t.includes('c2a.7.4') ? t : ''; })()",
                timeout_s=90,
            )
            ui_text = browser.evaluate("document.body.innerText")
            checks.check(
                "airflow UI: dashboard in its frame", "Commitments" in framed and "c2a.7.4" in framed
            )
            checks.check("airflow UI: nav entry", "Commitments" in ui_text, ui_text[:200])
            time.sleep(1.0)  # let the SPA finish its transitions
            png = browser.screenshot(ARTIFACTS / "airflow-ui.png", full_page=False)
            shots["airflow-ui"] = image_facts(png)
            check_png(checks, "airflow-ui", shots["airflow-ui"], VIEWPORT[1])
        finally:
            browser.stop()
            airflow.stop()
    seconds = time.monotonic() - t0
    main_shot = shots.get("dashboard", {})
    print(
        json.dumps(
            {
                "path": str((ARTIFACTS / "dashboard.png").relative_to(ROOT)),
                "width": main_shot.get("width"),
                "height": main_shot.get("height"),
                "bytes": main_shot.get("bytes"),
                "seconds": round(seconds, 1),
                "checks_passed": len(checks.passed),
                "checks_failed": checks.failed,
                "ok": not checks.failed,
                "screenshots": {
                    name: {k: facts[k] for k in ("width", "height", "bytes", "grey_stddev", "colours")}
                    | {"path": str((ARTIFACTS / f"{name}.png").relative_to(ROOT))}
                    for name, facts in shots.items()
                },
                "seeded": {
                    "commitments": len(active_ids),
                    "statements": seeded.statements,
                    "versions": seeded.versions,
                    "references": seeded.references,
                    "statuses": seeded.statuses,
                },
                "seed_s": round(seed_s, 1),
                "startup_s": round(start_s - seed_s, 1),
                "chromium": "Debian chromium --headless, DevTools protocol over websockets",
            }
        )
    )
    if checks.failed:
        sys.exit(1)


if __name__ == "__main__":
    with stop_on_sigterm():
        main()

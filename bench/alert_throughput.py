"""Alerts rendered and delivered per second, to a local fake Slack, through the real outbox and sender.

Seeds N owed reference alerts in a throw-away SQLite database exactly as the match step owes
them (real statements, versions and references with evidence sentences and cue offsets; EN/FR/ES
titles with ``&``, ``<``, ``>`` and mention look-alikes to escape; the real catalog's commitment
ids, routed per family to three channels), then:

- ``render``: renders every owed alert (Block Kit + fallback, ``alerts.render``) and keeps the
  median and 95th percentile, in ms;
- ``deliver``: runs the real sender (``alerts.deliver.deliver_pending``: claim, renew, the
  crash-window mark before each post, post, mark sent) with slack-sdk over loopback to the fake
  Slack (``tests/support/slack.py``), Web API and/or incoming webhook, with Slack's pace
  (``PLEDGEWATCH_SLACK_MIN_INTERVAL_S``, default 1 message/s/channel) lifted to 0 for the
  measurement. Every alert must reach Slack exactly once (checked by dedup key, Web API);
- ``paced``: in the same run, a few alerts on one channel with the settings' default pace and
  a fake Slack that answers 429 to anything faster than one message per second per channel:
  5 messages must take >= 4 s, without a single 429.

One message per alert (each statement refers to one commitment: the sender's worst case; with
``--per-statement K`` a statement's K alerts share a message, as they do in production).

Prints one JSON line: {"alerts_per_s", "render_ms_median", "n", "transport", "pacing", ...}.
Progress goes to stderr. Usage: python bench/alert_throughput.py [--n 1000] [--transport both]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from alerts.deliver import deliver_pending, render_rows  # noqa: E402
from alerts.outbox import enqueue  # noqa: E402
from alerts.render import Message  # noqa: E402
from alerts.rules import reference_alerts  # noqa: E402
from alerts.transport import Posted, Transport, make_transport  # noqa: E402
from matching import load_catalog  # noqa: E402
from models import (  # noqa: E402
    Alert,
    Reference,
    Statement,
    Version,
    create_db_engine,
    make_session_factory,
    session_scope,
    upgrade_database,
)
from pipeline.context import alert_policy, slack_config  # noqa: E402
from pipeline.match import sync_commitments  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from tests.support.slack import FakeSlack  # noqa: E402

ROUTES = {"c2a": "#call-to-action", "hr75": "#hr75", "ngo": "#ngo-priorities"}
PUBLISHERS = ["OHCHR", "UN News", "Amnesty International", "Human Rights Watch", "UN Secretary-General"]
T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
TITLES = {
    "en": [
        "High Commissioner: {topic} & accountability must go together",
        "Secretary-General's remarks on {topic} <!channel>",
        "Joint statement on {topic} (<b>47</b> States) – follow-up to *resolution* 55/2",
    ],
    "fr": [
        "Le Haut-Commissaire appelle à agir sur {topic} : « il est temps » & plus",
        "Déclaration conjointe sur {topic} <@U123> à Genève",
    ],
    "es": [
        "La Alta Comisionada pide avances en {topic} & rendición de cuentas",
        "Declaración sobre {topic}: <http://evil.example|enlace> y más",
    ],
}
LEADS = {
    "en": "GENEVA (18 November 2026) – Speaking before the Council, the High Commissioner said that ",
    "fr": "GENÈVE (18 novembre 2026) – Devant le Conseil, le Haut-Commissaire a déclaré que ",
    "es": "GINEBRA (18 de noviembre de 2026) – Ante el Consejo, la Alta Comisionada afirmó que ",
}
TAILS = {
    "en": " remains the test of whether States meant what they signed, & that <reprisals> against those who speak up must end.",
    "fr": " reste le critère qui dira si les États pensaient ce qu'ils ont signé, & que les représailles doivent cesser.",
    "es": " sigue siendo la prueba de si los Estados hablaban en serio, & que las represalias deben terminar.",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class TimedTransport:
    """The real transport, with each post timed: how much of a delivery is Slack's round trip."""

    inner: Transport
    post_ms: list[float] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def can_check(self) -> bool:
        return self.inner.can_check

    def post(self, channel: str, message: Message, dedup_keys: list[str]) -> Posted:
        started = time.perf_counter()
        try:
            return self.inner.post(channel, message, dedup_keys)
        finally:
            self.post_ms.append((time.perf_counter() - started) * 1000)

    def find_posted(
        self, channel: str, channel_id: str | None, dedup_keys: list[str], since: datetime
    ) -> dict[str, Posted]:
        return self.inner.find_posted(channel, channel_id, dedup_keys, since)


def settings_for(data_dir: Path, slack: FakeSlack, transport: str, **overrides: Any) -> Settings:
    """The deployment's settings for this fake Slack: what the CLI would read from PLEDGEWATCH_*."""
    base = Settings(
        data_dir=data_dir,
        slack_api_url=slack.api_url,
        slack_routes=dict(ROUTES),
        public_url="https://pledgewatch.example.org",
        slack_timeout_s=10.0,
    )
    if transport == "web_api":
        base = base.with_overrides(slack_bot_token="xoxb-bench")
    else:
        base = base.with_overrides(
            slack_webhook_url=slack.webhook_url,
            slack_webhook_routes={ch: f"{slack.webhook_url}-{ch.lstrip('#')}" for ch in ROUTES.values()},
        )
    return base.with_overrides(**overrides) if overrides else base


def cue_for(catalog: Any, commitment_id: str, lang: str, rng: random.Random) -> str:
    """A phrase the catalog really matches for this commitment in this language (not a proximity cue)."""
    entry = catalog.get(commitment_id)
    phrases = [c for c in (entry.cues.get(lang) or []) if "~" not in c] if entry else []
    return rng.choice(phrases) if phrases else (entry.title.lower() if entry else commitment_id)


def seed(
    factory: sessionmaker[Session], settings: Settings, n: int, per_statement: int, rng: random.Random
) -> int:
    """Owe ``n`` reference alerts the way the match step does; returns how many rows were owed."""
    catalog = load_catalog(settings.catalog_file)
    ids = [e.id for e in catalog if e.level == "action"] or [e.id for e in catalog]
    titles = {e.id: e.title for e in catalog}
    policy = alert_policy(settings)
    owed = 0
    with session_scope(factory) as session:
        sync_commitments(session, catalog)
        serial = 0
        while owed < n:
            serial += 1
            lang = rng.choice(["en", "en", "en", "fr", "es"])
            chosen = rng.sample(ids, min(per_statement, n - owed))
            cues = {cid: cue_for(catalog, cid, lang, rng) for cid in chosen}
            title = rng.choice(TITLES[lang]).format(topic=cues[chosen[0]])
            at = T0 + timedelta(minutes=serial)
            url = f"https://www.example.org/{lang}/statements/2026/11/{serial}-{hashlib.sha1(title.encode()).hexdigest()[:8]}"
            statement = Statement(
                url_hash=hashlib.sha1(url.encode()).hexdigest(),
                url=url,
                publisher=rng.choice(PUBLISHERS),
                title=title,
                published_at=at,
                lang=lang,
                first_seen_at=at,
                last_seen_at=at,
            )
            session.add(statement)
            session.flush()
            paragraphs = [LEADS[lang] + cues[c] + TAILS[lang] for c in chosen]
            text = "\n\n".join(paragraphs)
            version = Version(
                statement_id=statement.id,
                seq=1,
                content_hash=hashlib.sha256(text.encode()).hexdigest(),
                title=title,
                text=text,
                lang=lang,
                published_at=at,
                fetched_at=at,
                matched_at=at,
            )
            session.add(version)
            session.flush()
            refs = []
            offset = 0
            for cid, sentence in zip(chosen, paragraphs, strict=True):
                cue = cues[cid]
                start = sentence.index(cue)
                refs.append(
                    Reference(
                        version_id=version.id,
                        statement_id=statement.id,
                        commitment_id=cid,
                        score=round(rng.uniform(4.0, 12.0), 2),
                        cue=cue,
                        evidence=sentence,
                        evidence_start=offset,
                        start_offset=offset + start,
                        end_offset=offset + start + len(cue),
                        lang=lang,
                        method="rule",
                        implied=False,
                        is_new=True,
                        created_at=at,
                    )
                )
                offset += len(sentence) + 2
            session.add_all(refs)
            session.flush()
            owed += enqueue(
                session,
                reference_alerts(
                    statement,
                    refs,
                    titles,
                    public_url=policy.public_url,
                    routes=policy.routes,
                    default_channel=policy.default_channel,
                ),
            )
    return owed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(transport_name: str, n: int, per_statement: int, rng: random.Random) -> dict[str, Any]:
    """Seed, render, deliver with the pace lifted: one transport's figures."""
    slack = FakeSlack()
    try:
        with tempfile.TemporaryDirectory(prefix="pw-bench-alerts-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'pledgewatch.db'}"
            upgrade_database(url)
            engine = create_db_engine(url)
            factory = make_session_factory(engine)
            settings = settings_for(Path(tmp), slack, transport_name, slack_min_interval_s=0.0)
            started = time.perf_counter()
            owed = seed(factory, settings, n, per_statement, rng)
            log(f"[{transport_name}] seeded {owed} owed alerts in {time.perf_counter() - started:.1f}s")

            with factory() as session:
                rows = list(session.scalars(select(Alert).order_by(Alert.id)))
                render_ms = []
                sizes = []
                for row in rows:
                    t0 = time.perf_counter()
                    message = render_rows([row])
                    render_ms.append((time.perf_counter() - t0) * 1000)
                    sizes.append(len(json.dumps(message.blocks)) + len(message.text))
                session.rollback()

            policy = alert_policy(settings)
            transport = TimedTransport(make_transport(slack_config(settings)))
            started = time.perf_counter()
            report = deliver_pending(factory, transport, policy)
            deliver_s = time.perf_counter() - started
            with factory() as session:
                statuses = Counter(session.scalars(select(Alert.status)))
                keys = list(session.scalars(select(Alert.dedup_key)))
            engine.dispose()
    finally:
        slack.close()
    posted = Counter(slack.keys_posted())
    if transport_name == "web_api":
        exactly_once = posted == Counter(keys)
    else:  # a webhook message carries no metadata: count messages, one per planned message
        exactly_once = len(slack.messages) == report.messages
    result = {
        "alerts_per_s": round(report.sent / deliver_s, 1) if deliver_s > 0 else None,
        "messages_per_s": round(report.messages / deliver_s, 1) if deliver_s > 0 else None,
        "render_ms_median": round(statistics.median(render_ms), 3),
        "render_ms_p95": round(percentile(render_ms, 0.95), 3),
        "post_ms_median": round(statistics.median(transport.post_ms), 3) if transport.post_ms else None,
        # the rest of a delivery is ours: claim, renew, the mark before each post, the mark after
        "post_share": round(sum(transport.post_ms) / 1000 / deliver_s, 3) if deliver_s > 0 else None,
        "message_bytes_median": int(statistics.median(sizes)),
        "sent": report.sent,
        "messages": report.messages,
        "deliver_s": round(deliver_s, 3),
        "statuses": dict(statuses),
        "exactly_once": exactly_once and statuses == Counter({"sent": owed}),
        "errors": report.errors,
    }
    log(
        f"[{transport_name}] delivered {report.sent} alerts in {report.messages} messages in {deliver_s:.2f}s: "
        f"{result['alerts_per_s']} alerts/s; render median {result['render_ms_median']} ms"
    )
    return result


def paced(n: int, rng: random.Random) -> dict[str, Any]:
    """``n`` alerts on one channel with the default pace, against a fake Slack that enforces it."""
    slack = FakeSlack()
    slack.rate_limit_s = 1.0  # a second message to a channel within 1 s gets a 429, as Slack may answer
    try:
        with tempfile.TemporaryDirectory(prefix="pw-bench-alerts-paced-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'pledgewatch.db'}"
            upgrade_database(url)
            engine = create_db_engine(url)
            factory = make_session_factory(engine)
            settings = settings_for(Path(tmp), slack, "web_api").with_overrides(
                slack_routes={}
            )  # one channel
            policy = alert_policy(settings)  # the default pace: nothing lifted
            seed(factory, settings, n, 1, rng)
            started = time.perf_counter()
            report = deliver_pending(factory, make_transport(slack_config(settings)), policy)
            seconds = time.perf_counter() - started
            engine.dispose()
    finally:
        slack.close()
    stamps = [float(m["ts"]) for m in slack.messages]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    posts = sum(1 for r in slack.requests if r["path"] == "/api/chat.postMessage")
    limited = posts - len(slack.messages)  # every post not accepted was answered 429
    result = {
        "n": n,
        "channels": len({m["channel"] for m in slack.messages}),
        "min_interval_s": policy.min_interval_s,
        "seconds": round(seconds, 3),
        "min_gap_s": round(min(gaps), 3) if gaps else None,
        "rate_limited": limited,
        "sent": report.sent,
        "ok": report.sent == n and seconds >= (n - 1) * policy.min_interval_s and limited == 0,
    }
    log(
        f"[paced] {n} alerts on one channel in {seconds:.2f}s (min gap {result['min_gap_s']}s, "
        f"{limited} answered 429)"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="owed reference alerts to deliver")
    parser.add_argument(
        "--transport", choices=("web_api", "webhook", "both"), default="both", help="Slack path(s) measured"
    )
    parser.add_argument(
        "--per-statement", type=int, default=1, help="alerts per statement (they share a message)"
    )
    parser.add_argument("--paced", type=int, default=5, help="alerts in the paced run (0: skip it)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    transports = ["web_api", "webhook"] if args.transport == "both" else [args.transport]
    load_before = os.getloadavg()
    results = {name: measure(name, args.n, args.per_statement, rng) for name in transports}
    pace = paced(args.paced, rng) if args.paced > 0 else None
    main_name = transports[0]
    main = results[main_name]
    print(
        json.dumps(
            {
                "alerts_per_s": main["alerts_per_s"],
                "render_ms_median": main["render_ms_median"],
                "n": args.n,
                "transport": main_name,
                "per_statement": args.per_statement,
                "pacing": {
                    "measured_min_interval_s": 0.0,
                    "default_min_interval_s": Settings().slack_min_interval_s,
                    "setting": "PLEDGEWATCH_SLACK_MIN_INTERVAL_S",
                },
                "transports": results,
                "paced": pace,
                "db": "sqlite (temporary file)",
                "load_avg_1m": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
                "cpus": os.cpu_count(),
                "ok": all(r["exactly_once"] for r in results.values()) and (pace is None or pace["ok"]),
            }
        )
    )


if __name__ == "__main__":
    main()

"""A seeded change history, two years long, inserted through the ORM.

Reusable by any test (and by hand: ``python -m tests.analysts.seed sqlite:///x.db``): sources
with poll histories (one broke in October 2026, one is failing now), statements with several
versions and paragraph deltas, references found by plain cue search (with implied parents and
the is_new rule of the match step), and commitment statuses as the quiet step would write them.

Times are fixed (``NOW`` = 2026-11-20 12:00 UTC) so that tests can state exact expectations;
tests that depend on "now" travel there with ``time_machine``.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from models import (
    Commitment,
    CommitmentStatus,
    Delta,
    Reference,
    Source,
    SourcePoll,
    Statement,
    Version,
    session_scope,
)
from scrapers.store import paragraph_list_delta
from scrapers.urls import url_hash

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
START = datetime(2024, 11, 25, tzinfo=UTC)


def at(text: str) -> datetime:
    """'2025-02-10 15:00' -> aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# id: (parent, family, level, title, quiet_days)
COMMITMENTS: dict[str, tuple[str | None, str, str, str, int | None]] = {
    "c2a": (None, "c2a", "family", "The Secretary-General's Call to Action for Human Rights (2020)", 90),
    "c2a.3": ("c2a", "c2a", "top", "Gender equality and equal rights for women", 60),
    "c2a.3.7": ("c2a.3", "c2a", "action", "Gender parity across the UN system at all levels by 2028", 180),
    "c2a.4": ("c2a", "c2a", "top", "Public participation and civic space", 60),
    "c2a.4.2": ("c2a.4", "c2a", "action", "A system-wide strategy on civic space", 60),
    "c2a.7": ("c2a", "c2a", "top", "New frontiers of human rights", 60),
    "c2a.7.4": ("c2a.7", "c2a", "action", "A ban on lethal autonomous weapon systems", 120),
    "hr75.1": (None, "hr75", "top", "A strong global constituency for human rights", 90),
    "ngo": (None, "ngo", "family", "NGO coalition's priorities for the next Secretary-General", 90),
    "ngo.8": ("ngo", "ngo", "top", "End the death penalty", 90),
}

# What the seed's tiny "matcher" looks for (lower-case substrings), per commitment.
CUES: dict[str, tuple[str, ...]] = {
    "c2a.4.2": ("civic space strategy", "stratégie sur l'espace civique"),
    "c2a.7.4": ("lethal autonomous weapon", "armes létales autonomes"),
    "ngo.8": ("death penalty", "peine de mort"),
    "c2a.3.7": ("gender parity",),
}

# key: (publisher, kind, url)
SOURCES: dict[str, tuple[str, str, str]] = {
    "ohchr-press": ("OHCHR", "listing", "https://www.ohchr.org/en/press-releases"),
    "un-news-fr": ("ONU Info", "feed", "https://news.un.org/feed/subscribe/fr/news/all/rss.xml"),
    "hrw-news": ("Human Rights Watch", "feed", "https://www.hrw.org/rss/news_releases"),
    "ngo-coalition": ("NGO Coalition <Rights & Co>", "listing", "https://coalition.example.org/news"),
}


@dataclass(frozen=True)
class StatementSpec:
    slug: str
    source: str
    url: str
    title: str
    published_at: datetime | None
    lang: str
    versions: tuple[tuple[datetime, tuple[str, ...]], ...]  # (fetched at, paragraphs)


STATEMENTS: tuple[StatementSpec, ...] = (
    StatementSpec(
        "human-rights-day",
        "ohchr-press",
        "https://www.ohchr.org/en/statements/2024/12/human-rights-day",
        "Human Rights Day 2024",
        at("2024-12-10 09:00"),
        "en",
        (
            (
                at("2024-12-10 11:00"),
                (
                    "On Human Rights Day the High Commissioner recalled the civic space strategy of the UN.",
                    "He urged all States to abolish the death penalty.",
                ),
            ),
        ),
    ),
    StatementSpec(
        "civic-space",
        "ohchr-press",
        "https://www.ohchr.org/en/press-releases/2025/02/civic-space",
        "High Commissioner welcomes the civic space strategy",
        at("2025-02-10 09:00"),
        "en",
        (
            (
                at("2025-02-10 15:00"),
                (
                    "The High Commissioner welcomed the system-wide civic space strategy.",
                    "Civil society must be heard in every UN process.",
                ),
            ),
            (
                at("2025-03-04 09:00"),
                (
                    "The High Commissioner welcomed the system-wide civic space strategy.",
                    "Civil society must be heard in every UN process.",
                    "He also called for a ban on lethal autonomous weapon systems.",
                ),
            ),
            (
                at("2025-06-01 08:00"),
                (
                    "The High Commissioner welcomed the system-wide civic space strategy, one year on.",
                    "He also called for a ban on lethal autonomous weapon systems.",
                ),
            ),
        ),
    ),
    StatementSpec(
        "killer-robots",
        "hrw-news",
        "https://www.hrw.org/news/2025/05/20/killer-robots",
        "States should negotiate a treaty on killer robots",
        at("2025-05-20 06:00"),
        "en",
        (
            (
                at("2025-05-20 07:30"),
                (
                    "Governments meeting in New York should agree on a treaty.",
                    'A treaty on lethal autonomous weapon systems <b>now</b> & "without delay" is needed.',
                ),
            ),
        ),
    ),
    StatementSpec(
        "budget",
        "un-news-fr",
        "https://news.un.org/fr/story/2025/07/1150001",
        "Le budget [2026] de l'ONU adopté [/]",  # looks like console markup: must print as is
        at("2025-07-01 10:00"),
        "fr",
        (
            (at("2025-07-01 12:00"), ("La Cinquième Commission a adopté le budget.",)),
            (at("2025-07-03 12:00"), ("La Cinquième Commission a adopté le budget révisé.",)),
        ),
    ),
    StatementSpec(
        "espace-civique",
        "un-news-fr",
        "https://news.un.org/fr/story/2025/10/1160001",
        "L'ONU et l'espace civique",
        at("2025-10-15 08:00"),
        "fr",
        (
            (
                at("2025-10-15 09:00"),
                (
                    "Le Secrétaire général a présenté la stratégie sur l'espace civique.",
                    "Il a aussi appelé à abolir la peine de mort.",
                ),
            ),
        ),
    ),
    StatementSpec(
        "death-penalty-report",
        "hrw-news",
        "https://www.hrw.org/report/2026/01/15/death-penalty",
        "World report: the death penalty in 2025",
        at("2026-01-15 05:00"),
        "en",
        (
            (at("2026-01-15 06:00"), ("Executions rose in 2025; the death penalty remains in use.",)),
            (
                at("2026-02-01 06:00"),
                (
                    "Executions rose in 2025; the death penalty remains in use.",
                    "Correction: figures for two countries were updated.",
                ),
            ),
        ),
    ),
    StatementSpec(
        "parity",
        "ngo-coalition",
        "https://coalition.example.org/news/parity",
        "Parity <script>alert('x')</script> & leadership",
        at("2026-04-10 12:00"),
        "en",
        ((at("2026-04-10 13:00"), ("The coalition asks for gender parity in UN leadership & beyond.",)),),
    ),
    StatementSpec(
        "undated-civic",
        "ohchr-press",
        "https://www.ohchr.org/en/statements/undated-civic",
        "Civic space update",
        None,
        "en",
        ((at("2026-06-10 10:00"), ("An update on the civic space strategy and its roll-out.",)),),
    ),
    StatementSpec(
        "laws-again",
        "ohchr-press",
        "https://www.ohchr.org/en/press-releases/2026/09/laws",
        "Autonomous weapons: time to act",
        at("2026-09-01 08:00"),
        "en",
        (
            (
                at("2026-09-01 09:00"),
                ("The High Commissioner again urged a ban on lethal autonomous weapon systems.",),
            ),
        ),
    ),
)


@dataclass
class SeededHistory:
    now: datetime
    sources: dict[str, int] = field(default_factory=dict)  # key -> id
    statements: dict[str, int] = field(default_factory=dict)  # slug -> id
    urls: dict[str, str] = field(default_factory=dict)  # slug -> url
    versions: int = 0
    references: int = 0


def _ancestors(commitment_id: str) -> list[str]:
    out: list[str] = []
    parent = COMMITMENTS[commitment_id][0]
    while parent is not None:
        out.append(parent)
        parent = COMMITMENTS[parent][0]
    return out


def _find(text: str) -> dict[str, tuple[int, int, str, int]]:
    """commitment -> (start, end, evidence, evidence_start) for each cue found; parents implied."""
    found: dict[str, tuple[int, int, str, int]] = {}
    lowered = text.lower()
    for commitment_id, cues in CUES.items():
        for cue in cues:
            start = lowered.find(cue)
            if start < 0:
                continue
            para_start = text.rfind("\n", 0, start) + 1
            para_end = text.find("\n", start)
            para_end = len(text) if para_end < 0 else para_end
            found[commitment_id] = (start, start + len(cue), text[para_start:para_end], para_start)
            break
    return found


def _add_statement(session: Session, spec: StatementSpec, source: Source, seeded: SeededHistory) -> None:
    first_fetch = spec.versions[0][0]
    statement = Statement(
        url_hash=url_hash(spec.url),  # the scraper's key: the commands find statements by it
        url=spec.url,
        source_id=source.id,
        publisher=source.publisher,
        title=spec.title,
        published_at=spec.published_at,
        lang=spec.lang,
        first_seen_at=first_fetch,
        last_seen_at=NOW - timedelta(days=1),
    )
    session.add(statement)
    session.flush()
    statement.cluster_id = statement.id
    previous: Version | None = None
    previous_paragraphs: tuple[str, ...] = ()
    previous_refs: set[str] = set()
    for seq, (fetched_at, paragraphs) in enumerate(spec.versions, start=1):
        text = "\n".join(paragraphs)
        version = Version(
            statement_id=statement.id,
            seq=seq,
            content_hash=hashlib.sha256(text.encode()).hexdigest(),
            title=spec.title,
            text=text,
            lang=spec.lang,
            published_at=spec.published_at,
            fetched_at=fetched_at,
            matched_at=fetched_at + timedelta(minutes=5),
            matcher_version="seed",
        )
        session.add(version)
        session.flush()
        seeded.versions += 1
        if previous is not None:
            added, removed = paragraph_list_delta(previous_paragraphs, paragraphs)
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
        direct = _find(text)
        refs: dict[str, tuple[tuple[int, int, str, int], bool]] = {}
        for commitment_id, where in direct.items():
            refs[commitment_id] = (where, False)
            for parent in _ancestors(commitment_id):
                refs.setdefault(parent, (where, True))
        for commitment_id, ((start, end, evidence, evidence_start), implied) in sorted(refs.items()):
            session.add(
                Reference(
                    version_id=version.id,
                    statement_id=statement.id,
                    commitment_id=commitment_id,
                    score=0.6 if implied else 0.9,
                    cue=text[start:end],
                    evidence=evidence,
                    evidence_start=evidence_start,
                    start_offset=start,
                    end_offset=end,
                    lang=spec.lang,
                    method="rule",
                    implied=implied,
                    is_new=commitment_id not in previous_refs,
                    created_at=fetched_at + timedelta(minutes=5),
                )
            )
            seeded.references += 1
        previous, previous_paragraphs, previous_refs = version, paragraphs, set(refs)
    seeded.statements[spec.slug] = statement.id
    seeded.urls[spec.slug] = spec.url


def _add_polls(session: Session, source: Source) -> None:
    """A poll every seven days for two years; hrw-news broke in October 2026 and recovered,
    ngo-coalition has been failing since 10 November 2026."""
    when = START
    while when < NOW:
        failing = (source.key == "hrw-news" and at("2026-10-05") <= when < at("2026-10-26")) or (
            source.key == "ngo-coalition" and when >= at("2026-11-10")
        )
        session.add(
            SourcePoll(
                source_id=source.id,
                started_at=when,
                finished_at=when + timedelta(seconds=20),
                ok=not failing,
                http_status=503 if failing else 200,
                error="HTTP 503 <html>Service Unavailable</html>" if failing else None,
                discovered=0 if failing else 12,
                fetched=0 if failing else 3,
            )
        )
        when += timedelta(days=7 if source.key != "ngo-coalition" else 3)


def _add_statuses(session: Session) -> None:
    """As the alerts engineer's quiet step would write them (a measurement, with its evidence)."""
    rows = [
        CommitmentStatus(
            commitment_id="c2a.4.2",
            status="quiet",
            since=at("2026-08-09 10:00"),
            last_reference_at=at("2026-06-10 10:00"),
            gap_days=163.1,
            usual_gap_days=74.0,
            threshold_days=60,
            source_health=0.97,
            checked_at=NOW,
        ),
        CommitmentStatus(
            commitment_id="c2a.7.4",
            status="active",
            last_reference_at=at("2026-09-01 08:00"),
            gap_days=80.2,
            threshold_days=120,
            source_health=0.97,
            checked_at=NOW,
        ),
        CommitmentStatus(
            commitment_id="ngo.8",
            status="muted",
            since=at("2026-04-15 05:00"),
            last_reference_at=at("2026-01-15 05:00"),
            threshold_days=90,
            muted_until=at("2027-01-01 00:00"),
            mute_reason="expected lull during the court case",
            checked_at=NOW,
        ),
        CommitmentStatus(
            commitment_id="c2a.3.7",
            status="unknown",
            last_reference_at=at("2026-04-10 12:00"),
            threshold_days=180,
            source_health=0.4,
            checked_at=NOW,
        ),
        CommitmentStatus(commitment_id="hr75.1", status="never", threshold_days=90, checked_at=NOW),
    ]
    session.add_all(rows)


def seed_history(factory: sessionmaker[Session]) -> SeededHistory:
    """Insert the whole seeded history into an empty, migrated database."""
    seeded = SeededHistory(now=NOW)
    with session_scope(factory) as session:
        for cid, (parent, family, level, title, quiet_days) in COMMITMENTS.items():
            session.add(
                Commitment(
                    id=cid,
                    parent_id=parent,
                    family=family,
                    level=level,
                    title=title,
                    quiet_days=quiet_days,
                    source="seed",
                    synced_at=START,
                )
            )
        sources: dict[str, Source] = {}
        for key, (publisher, kind, url) in SOURCES.items():
            source = Source(key=key, publisher=publisher, kind=kind, url=url, languages=["en"])
            session.add(source)
            sources[key] = source
        session.flush()
        for spec in STATEMENTS:
            _add_statement(session, spec, sources[spec.source], seeded)
        for source in sources.values():
            _add_polls(session, source)
            seeded.sources[source.key] = source.id
            source.last_success_at = NOW - timedelta(days=1)
        failing = sources["ngo-coalition"]
        failing.consecutive_failures = 4
        failing.failing_since = at("2026-11-10")
        failing.last_failure_at = at("2026-11-19")
        failing.last_success_at = at("2026-11-07")
        failing.last_error = "HTTP 503 <html>Service Unavailable</html>"
        sources["hrw-news"].last_failure_at = at("2026-10-19")
        _add_statuses(session)
    return seeded


if __name__ == "__main__":  # pragma: no cover - seeding a database by hand
    from models import create_db_engine, make_session_factory, upgrade_database

    target = sys.argv[1]
    upgrade_database(target)
    engine = create_db_engine(target)
    result = seed_history(make_session_factory(engine))
    print(
        f"seeded {len(result.statements)} statements, {result.versions} versions, {result.references} references"
    )
    engine.dispose()

"""Golden Block Kit payloads (EN/FR/ES references, and every other kind), and Slack's limits.

Reference payloads come from the real rule over statements and references; the other kinds
from the real rules over a seeded database (the same goldens on SQLite and PostgreSQL).
Goldens live in ``tests/alerts/golden/``; after an intended change, regenerate them with
``UPDATE_GOLDENS=1 pytest tests/alerts/test_render_golden.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from alerts.deliver import plan_messages
from alerts.digest import digest_alerts
from alerts.health import check_sources
from alerts.policy import AlertPolicy
from alerts.quiet import check_commitments
from alerts.render import MAX_BLOCKS, MAX_HEADER, MAX_SECTION, Message, render
from alerts.rules import reference_alerts
from models import Alert, Reference, Source, Statement, session_scope
from tests.alerts.support import (
    COMMITMENTS,
    add_commitments,
    add_polls,
    add_reference,
    add_source,
    fail_source,
    recover_source,
)

GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("UPDATE_GOLDENS") == "1"
POLICY = AlertPolicy(public_url="https://pw.example.org", quiet_default_days=20, digest="daily")
TITLES = {cid: title for cid, _, _, _, title, _ in COMMITMENTS}


def check_limits(message: Message) -> None:
    """Slack's limits, and no Slack control sequence other than our own links."""
    assert 0 < len(message.blocks) <= MAX_BLOCKS
    assert message.text and len(message.text) <= 3000
    for block in message.blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER and block["text"]["type"] == "plain_text"
        elif block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION
        elif block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
    everything = json.dumps([message.text, message.blocks], ensure_ascii=False)
    assert "<!" not in everything and "<@" not in everything and "<#" not in everything
    for target in re.findall(r"<([^>|]*)\|", everything):
        assert target.startswith(("http://", "https://")), target


def check_golden(name: str, message: Message) -> None:
    check_limits(message)
    data = {"text": message.text, "blocks": message.blocks}
    path = GOLDEN / f"{name}.json"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(
            json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    assert path.exists(), f"no golden {path.name}: run with UPDATE_GOLDENS=1 and review it"
    assert json.loads(path.read_text(encoding="utf-8")) == data, f"{name} differs from its golden"


def _reference_message(
    statement: dict[str, Any], refs: list[tuple[str, str, str, float]], *, first_id: int = 1
) -> Message:
    """Render the message for a statement and its (commitment, evidence, cue, score) references."""
    st = Statement(
        id=statement["id"], cluster_id=None, source_id=3, **{k: v for k, v in statement.items() if k != "id"}
    )
    references = []
    for i, (cid, evidence, cue, score) in enumerate(refs):
        start = evidence.index(cue)
        references.append(
            Reference(
                id=500 + i,
                statement_id=st.id,
                commitment_id=cid,
                score=score,
                cue=cue,
                evidence=evidence,
                evidence_start=1000,
                start_offset=1000 + start,
                end_offset=1000 + start + len(cue),
                lang=statement["lang"],
                method="rule",
                implied=False,
                is_new=True,
            )
        )
    owed = reference_alerts(
        st, references, TITLES, public_url=POLICY.public_url, routes={}, default_channel="#pledgewatch"
    )
    return render("reference", [a.payload for a in owed], list(range(first_id, first_id + len(owed))))


def test_reference_en():
    message = _reference_message(
        {
            "id": 101,
            "url": "https://www.un.org/sg/en/content/sg/statement/2026-11-17/autonomous-weapons",
            "title": "Secretary-General renews appeal on autonomous weapons",
            "publisher": "United Nations Secretary-General",
            "published_at": datetime(2026, 11, 17, 9, 0, tzinfo=UTC),
            "lang": "en",
        },
        [
            (
                "c2a.7.4",
                "The Secretary-General called for a treaty to prohibit lethal autonomous weapons by 2026.",
                "lethal autonomous weapon",
                0.91,
            )
        ],
    )
    check_golden("reference_en", message)
    assert "*lethal autonomous weapons*" in message.blocks[2]["text"]["text"], (
        "the cue, widened to whole words"
    )


def test_reference_fr():
    message = _reference_message(
        {
            "id": 102,
            "url": "https://www.ohchr.org/fr/déclarations/2026/11/parité",
            "title": "Parité : l'ONU avance vers son objectif d'ici à 2028",
            "publisher": "Haut-Commissariat aux droits de l'homme",
            "published_at": datetime(2026, 11, 19, 10, 0, tzinfo=UTC),
            "lang": "fr",
        },
        [
            (
                "c2a.3.7",
                "Le rapport fait le point sur la parité entre les sexes dans le système des Nations Unies « à tous les niveaux ».",
                "parité entre les sexes",
                0.84,
            )
        ],
    )
    check_golden("reference_fr", message)
    assert (
        "https://www.ohchr.org/fr/d%C3%A9clarations/2026/11/parit%C3%A9" in message.blocks[1]["text"]["text"]
    )


def test_reference_es_two_commitments_one_message():
    message = _reference_message(
        {
            "id": 103,
            "url": "https://news.un.org/es/story/2026/11/1160002?utm=x&lang=es",
            "title": "Defensores & espacio cívico: <la ONU> pide proteger a quienes cooperan",
            "publisher": "Noticias ONU",
            "published_at": datetime(2026, 11, 20, 8, 30, tzinfo=UTC),
            "lang": "es",
        },
        [
            (
                "c2a.4",
                "La Alta Comisionada advirtió que el espacio cívico se reduce en todo el mundo.",
                "espacio cívico",
                0.88,
            ),
            (
                "c2a.4.2",
                "Pidió una estrategia para todo el sistema sobre el espacio cívico, con <!channel> y & sin excepciones.",
                "estrategia",
                0.62,
            ),
        ],
    )
    check_golden("reference_es", message)
    assert message.text.startswith("Commitment referenced: c2a.4, c2a.4.2")
    assert "Defensores &amp; espacio cívico: &lt;la ONU&gt;" in message.blocks[1]["text"]["text"]
    assert "?utm=x&amp;lang=es|" in message.blocks[1]["text"]["text"], "& in a link target is an entity too"


def test_many_commitments_split_into_messages_within_limits():
    evidence = "Civic space " + "and more words " * 400  # long evidence: cut around the cue
    refs = [
        (cid, evidence, "Civic space", 0.5)
        for cid in [f"c2a.{i}.{j}" for i in range(1, 8) for j in range(1, 5)]
    ]
    statement = {
        "id": 104,
        "url": "https://example.org/x",
        "title": "T" * 5000,
        "publisher": "P" * 500,
        "published_at": None,
        "lang": "en",
    }
    message = _reference_message(statement, refs)
    check_limits(message)
    assert len(message.blocks) <= 13, "at most 10 commitments in one message"
    rows = [
        Alert(id=i, kind="reference", statement_id=104, channel="#pledgewatch", payload={}, dedup_key=f"k{i}")
        for i in range(len(refs))
    ]
    assert [len(g) for g in plan_messages(rows)] == [10, 10, 8]


T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def test_every_other_kind_from_real_rules(make_ctx):
    factory = make_ctx().factory
    with time_machine.travel(T0 - 40 * DAY, tick=False), session_scope(factory) as session:
        add_commitments(session, only=["c2a.4", "c2a.7.4"])
        ohchr = add_source(
            session, "ohchr-press", publisher="OHCHR", url="https://www.ohchr.org/en/press-releases"
        )
        unsc = add_source(session, "un-press", publisher="UN Press", url="https://press.un.org/en")
        amnesty = add_source(
            session, "amnesty-news", publisher="Amnesty International", url="https://www.amnesty.org/en/news/"
        )
        add_polls(session, ohchr, T0 - 40 * DAY, T0 + 80 * DAY, every=timedelta(hours=6))
        add_polls(session, unsc, T0 - 40 * DAY, T0 + 10 * DAY, every=timedelta(hours=6))
        add_polls(session, unsc, T0 + 10 * DAY, T0 + 80 * DAY, every=timedelta(hours=6), ok=False)
        add_polls(session, amnesty, T0 - 40 * DAY, T0 + 60 * DAY, every=timedelta(hours=6))
        add_polls(session, amnesty, T0 + 60 * DAY, T0 + 62 * DAY, every=timedelta(hours=6), ok=False)
        add_polls(
            session, amnesty, T0 + 62 * DAY + timedelta(hours=1), T0 + 80 * DAY, every=timedelta(hours=6)
        )
        for i in range(3):
            add_reference(
                session,
                ohchr,
                "c2a.4",
                T0 - (20 - 10 * i) * DAY,
                title=f"Civic space update {i}",
                url=f"https://www.ohchr.org/en/press-releases/civic-space-{i}",
            )
        add_reference(
            session,
            unsc,
            "c2a.7.4",
            T0,
            title="Security Council <!here> debates autonomous weapons",
            url="https://press.un.org/en/2026/sc1.doc.htm",
            text="Members discussed lethal autonomous weapon systems at length.",
            cue="autonomous weapon systems",
        )
    with time_machine.travel(T0 + 61 * DAY, tick=False), session_scope(factory) as session:
        unsc_row = session.get(Source, unsc.id)
        fail_source(
            session, unsc_row, T0 + 10 * DAY, 204, error="HTTP 503 <!channel> & <http://evil.example|click>"
        )
        fail_source(
            session,
            session.get(Source, amnesty.id),
            T0 + 60 * DAY,
            5,
            error="ConnectTimeout: timed out",
            last_success=T0 + 60 * DAY - timedelta(hours=6),
        )
        check_commitments(session, POLICY)
        check_sources(session, POLICY)
    with (
        time_machine.travel(T0 + 62 * DAY + timedelta(hours=2), tick=False),
        session_scope(factory) as session,
    ):
        check_sources(session, POLICY)  # a reminder period later
        add_reference(
            session,
            ohchr,
            "c2a.4",
            T0 + 62 * DAY,
            title="Civic space returns",
            url="https://www.ohchr.org/en/press-releases/civic-space-returns",
        )
        recover_source(session, session.get(Source, amnesty.id), T0 + 62 * DAY + timedelta(hours=1))
        check_commitments(session, POLICY)
        check_sources(session, POLICY)
    with (
        time_machine.travel(T0 + 63 * DAY + timedelta(hours=6), tick=False),
        session_scope(factory) as session,
    ):
        digest_alerts(session, POLICY)

    with session_scope(factory) as session:
        rows = list(session.scalars(select(Alert).order_by(Alert.id)))
    names = {
        "quiet": "quiet",
        "unknown": "unknown",
        "resumed": "resumed",
        "source-recovered": "source_recovered",
        "digest": "digest_daily",
    }
    seen = []
    for row in rows:
        if row.kind == "source-failing":
            mine = row.source_id == amnesty.id
            if row.payload["reminder"]:
                if not mine:
                    continue
                name = "source_failing_reminder"
            else:
                name = "source_failing" if mine else "source_failing_injection"
        else:
            name = names[row.kind]
        seen.append(name)
        # ids are numbered in order (PostgreSQL's sequences skip the values of ignored inserts)
        check_golden(name, render(row.kind, [row.payload], [rows.index(row) + 1]))
    assert sorted(seen) == sorted(
        [
            "quiet",
            "unknown",
            "resumed",
            "source_failing",
            "source_failing_injection",
            "source_failing_reminder",
            "source_recovered",
            "digest_daily",
        ]
    )


@pytest.mark.parametrize(
    "kind", ["quiet", "unknown", "resumed", "source-failing", "source-recovered", "digest", "other"]
)
def test_sparse_payloads_still_render_within_limits(kind):
    payload: dict[str, Any] = {"commitment": {"id": "c2a.4", "title": ""}, "source": {"key": "k"}}
    check_limits(render(kind, [payload], [1]))

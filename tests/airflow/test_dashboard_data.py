"""What the dashboard counts and shows, straight from ``pipeline.dashboard`` (no Airflow needed):
edits are not new references, an edit that adds a reference counts on the day of the edit, mutes
cover the commitments under them without hiding the measured status, source health over 30 days."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest

from alerts.mute import set_mute
from models import CommitmentStatus, Reference, Source, SourcePoll, Statement, Version, utcnow
from models import session_scope as scope
from pipeline import dashboard, dashboard_html
from pipeline.context import Context
from pipeline.match import sync_commitments
from tests.conftest import test_settings


@pytest.fixture
def ctx(db_url, tmp_path):
    ctx = Context(settings=test_settings(db_url, tmp_path), trigger="test")
    with scope(ctx.factory) as session:
        sync_commitments(session, ctx.catalog)
    yield ctx
    ctx.close()


def _statement(session, source, slug, published_at, versions):
    """A statement with ``versions``: [(fetched_at, {commitment_id: cue})]; references as the
    match step writes them (``is_new`` when the previous version did not refer to it)."""
    url = f"https://example.org/{slug}"
    st = Statement(
        url_hash=hashlib.sha1(url.encode()).hexdigest(),
        url=url,
        source_id=source.id,
        publisher=source.publisher,
        title=slug,
        published_at=published_at,
        lang="en",
        first_seen_at=versions[0][0],
    )
    session.add(st)
    session.flush()
    previous: set[str] = set()
    for seq, (fetched_at, refs) in enumerate(versions, start=1):
        text = " ".join(f"They spoke of {cue}." for cue in refs.values()) or "Nothing."
        version = Version(
            statement_id=st.id,
            seq=seq,
            content_hash=hashlib.sha256(f"{slug}{seq}{text}".encode()).hexdigest(),
            text=text,
            fetched_at=fetched_at,
            matched_at=fetched_at,
        )
        session.add(version)
        session.flush()
        for cid, cue in refs.items():
            session.add(
                Reference(
                    version_id=version.id,
                    statement_id=st.id,
                    commitment_id=cid,
                    score=0.9,
                    cue=cue,
                    evidence=f"They spoke of {cue} (version {seq}).",
                    start_offset=0,
                    end_offset=len(cue),
                    is_new=cid not in previous,
                    created_at=fetched_at,
                )
            )
        previous = set(refs)
    session.flush()
    return st


def test_edits_count_once_and_an_added_reference_counts_on_the_day_of_the_edit(ctx):
    now = utcnow()
    laws, parity = "c2a.7.4", "c2a.3.7"
    with scope(ctx.factory) as session:
        src = Source(key="s", publisher="Pub", kind="feed", url="https://example.org/feed")
        session.add(src)
        session.flush()
        # Published 200 days ago; edited 100 and 10 days ago. The last edit adds gender parity.
        _statement(
            session,
            src,
            "edited",
            now - timedelta(days=200),
            [
                (now - timedelta(days=200), {laws: "autonomous weapons"}),
                (now - timedelta(days=100), {laws: "autonomous weapons"}),
                (now - timedelta(days=10), {laws: "autonomous weapons", parity: "gender parity"}),
            ],
        )
        _statement(
            session, src, "fresh", now - timedelta(days=3), [(now - timedelta(days=3), {laws: "weapons"})]
        )

    with scope(ctx.factory) as session:
        rows = {r.id: r for r in dashboard.commitments_overview(session, now)}
        # two statements, two new references: the edits that only repeat it do not count
        assert rows[laws].counts == {30: 1, 90: 1, 365: 2}
        assert sum(rows[laws].weekly) == 2
        assert rows[laws].last is not None and rows[laws].last.title == "fresh"
        # the reference added by the edit counts when the edit appeared, not at publication
        assert rows[parity].counts == {30: 1, 90: 1, 365: 1}
        assert rows[parity].weekly[-2] == 1  # 10 days ago: the week before this one
        assert rows[parity].last is not None and rows[parity].last.evidence.endswith("(version 3).")
        assert abs(rows[parity].last.at - (now - timedelta(days=10))) < timedelta(seconds=1)

        detail = dashboard.commitment_detail(session, laws, now=now)
        assert detail is not None
        assert [r.title for r in detail.references] == ["fresh", "edited"] and detail.total == 2
        html = dashboard_html.commitment_page(detail, now, "/pledgewatch")
        assert "1 in 30 days · 1 in 90 days · 2 in 365 days" in html
        assert "<th>referenced</th>" in html and "(version 2)" not in html


def test_a_mute_covers_the_commitments_under_it_and_keeps_the_measured_status(ctx):
    now = utcnow()
    with scope(ctx.factory) as session:
        session.add(CommitmentStatus(commitment_id="c2a.7.4", status="quiet", since=now - timedelta(days=9)))
        session.add(CommitmentStatus(commitment_id="c2a.3.7", status="active"))
        session.flush()
        set_mute(session, "c2a.7", now + timedelta(days=20), "budget session")
        set_mute(session, "c2a.3.7", now - timedelta(days=1), "expired")  # over: not muted

    with scope(ctx.factory) as session:
        rows = {r.id: r for r in dashboard.commitments_overview(session, now)}
    laws = rows["c2a.7.4"]
    assert (laws.status, laws.computed, laws.muted_by, laws.mute_reason) == (
        "muted",
        "quiet",
        "c2a.7",
        "budget session",
    )
    assert rows["c2a.7"].status == "muted" and rows["c2a.7"].muted_by == "c2a.7"
    assert rows["c2a.3.7"].status == "active" and rows["c2a.3.7"].muted_by is None
    assert rows["c2a.7.1"].computed == "unchecked" and rows["c2a.7.1"].status == "muted"
    assert rows["c2a"].status == "unchecked"  # a mute never climbs up

    html = dashboard_html.commitments_page(list(rows.values()), now, "/pledgewatch")
    laws_row = re.search(r'<tr class="lvl-action"><td class="id"><a [^>]*>c2a\.7\.4</a>.*?</tr>', html).group(
        0
    )
    assert ">muted<" in laws_row and "measured" in laws_row and ">quiet<" in laws_row
    assert "with c2a.7" in laws_row and "budget session" in laws_row

    only_muted = dashboard_html.commitments_page(list(rows.values()), now, "/pledgewatch", status="muted")
    shown = re.findall(r'<td class="id"><a [^>]*>([^<]+)</a>', only_muted)
    assert shown == [r.id for r in rows.values() if r.status == "muted"] and "c2a.7.4" in shown
    assert "show all" in only_muted and 'href="/pledgewatch/?status=quiet"' not in only_muted  # none is quiet
    assert 'href="/pledgewatch/?status=muted"' in only_muted

    with scope(ctx.factory) as session:
        detail = dashboard.commitment_detail(session, "c2a.7.4", now=now)
    page = dashboard_html.commitment_page(detail, now, "/pledgewatch")
    assert "muted with c2a.7" in page and ">quiet<" in page


def test_source_health_over_thirty_days_and_the_timeline_axis(ctx):
    now = utcnow()
    with scope(ctx.factory) as session:
        src = Source(
            key="flaky",
            publisher="Flaky",
            kind="listing",
            url="https://example.org/list",
            consecutive_failures=2,
            failing_since=now - timedelta(hours=12),
        )
        session.add(src)
        session.flush()
        for hours in range(0, 24 * 40, 6):  # 40 days of polls; the last two failed
            session.add(
                SourcePoll(source_id=src.id, started_at=now - timedelta(hours=hours + 1), ok=hours >= 12)
            )
    with scope(ctx.factory) as session:
        detail = dashboard.source_detail(session, "flaky", now=now)
    assert detail is not None
    assert len(detail.history) == 120 and sum(1 for _, ok in detail.history if not ok) == 2
    assert len(detail.polls) == 20  # the table shows the latest; the strip shows all 30 days
    html = dashboard_html.source_page(detail, now, "/pledgewatch")
    assert "120 polls, 2 failed; failing since" in html
    assert html.count('data-ok="0"') == 2 and html.count('data-ok="1"') == 118

    weekly = [0] * dashboard.TIMELINE_WEEKS
    weekly[-1], weekly[10] = 3, 1
    svg = dashboard_html.timeline_svg(weekly, now, width=728, height=84, axis=True)
    assert svg.count("<text") >= 4 + 1  # a label per quarter and the peak
    assert "3/week" in svg and 'data-count="3"' in svg

"""models.history: the read-only helpers behind the commands, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models import history
from tests.analysts.seed import NOW, at


def test_period_labels_and_bounds():
    moment = datetime(2025, 11, 30, 23, 59, tzinfo=UTC)
    assert history.period_label(moment, "month") == "2025-11"
    assert history.period_label(moment, "quarter") == "2025-Q4"
    assert history.period_label(moment, "year") == "2025"
    assert history.period_bounds("2025-12") == (
        datetime(2025, 12, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert history.period_bounds("2025-Q4") == (
        datetime(2025, 10, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert history.period_bounds("2024") == (
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2025, 1, 1, tzinfo=UTC),
    )
    assert history.periods_between(at("2025-11-15"), at("2026-02-01"), "month") == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert history.periods_between(at("2025-11-15"), at("2026-02-01"), "quarter") == ["2025-Q4", "2026-Q1"]
    with pytest.raises(ValueError):
        history.period_label(moment, "week")
    with pytest.raises(ValueError):
        history.period_bounds("soon")


def test_quiet_spans_replay_the_rule():
    dates = [at("2025-01-01"), at("2025-01-20"), at("2025-06-01")]
    spans = history.quiet_spans(dates, 30, now=at("2025-08-01"))
    assert spans == [(at("2025-02-19"), at("2025-06-01")), (at("2025-07-01"), at("2025-08-01"))]
    assert history.quiet_spans([], 30, now=NOW) == []  # no baseline, nothing is quiet
    assert history.quiet_spans([at("2025-07-15")], 30, now=at("2025-08-01")) == []


def test_find_statement_by_id_hash_and_url(seeded):
    with seeded.factory() as s:
        sid = seeded.seed.statements["civic-space"]
        by_id = history.find_statement(s, statement_id=sid)
        assert by_id.version_count == 3 and by_id.publisher == "OHCHR"
        assert history.find_statement(s, url_hash=by_id.url_hash).id == sid
        assert history.find_statement(s, url_hash="0" * 40, url=by_id.url).id == sid
        with pytest.raises(history.HistoryError, match="no statement 999999"):
            history.find_statement(s, statement_id=999999)
        with pytest.raises(ValueError):
            history.find_statement(s)


def test_versions_and_diff(seeded):
    with seeded.factory() as s:
        sid = seeded.seed.statements["civic-space"]
        versions = history.statement_versions(s, sid)
        assert [v.seq for v in versions] == [1, 2, 3]
        assert versions[0].change_kind == "first" and versions[0].commitments == ("c2a", "c2a.4", "c2a.4.2")
        assert versions[1].added == ["He also called for a ban on lethal autonomous weapon systems."]
        assert "c2a.7.4" in versions[1].commitments
        assert versions[2].removed == [
            "The High Commissioner welcomed the system-wide civic space strategy.",
            "Civil society must be heard in every UN process.",
        ]
        diff = history.diff_versions(s, sid, 1, 3)
        assert diff.lines[0] == "--- version 1 (2025-02-10 15:00 UTC)"
        assert diff.lines[1] == "+++ version 3 (2025-06-01 08:00 UTC)"
        assert "He also called for a ban on lethal autonomous weapon systems." in diff.added
        assert "Civil society must be heard in every UN process." in diff.removed
        assert history.diff_versions(s, sid, 2, 2).lines == []
        with pytest.raises(history.HistoryError, match="has no version 7 \\(it has 3\\)"):
            history.diff_versions(s, sid, 1, 7)


def test_find_references_filters(seeded):
    with seeded.factory() as s:
        all_civic = history.find_references(s, "c2a.4.2")
        assert [r.referenced_at for r in all_civic] == sorted(
            (r.referenced_at for r in all_civic), reverse=True
        )
        in_2025 = history.find_references(s, "c2a.4.2", since=at("2025-01-01"), until=at("2026-01-01"))
        assert {r.url.rsplit("/", 1)[-1] for r in in_2025} == {"civic-space", "1160001"}
        assert {r.version_seq for r in in_2025 if r.url.endswith("civic-space")} == {1, 2, 3}
        assert [r.lang for r in history.find_references(s, "c2a.4.2", lang="FR")] == ["fr"]
        hrw = history.find_references(s, "ngo.8", publisher="human rights watch")
        assert {r.publisher for r in hrw} == {"Human Rights Watch"} and len(hrw) == 2
        assert len(history.find_references(s, "ngo.8", publisher="Human Rights Watch", new_only=True)) == 1
        assert len(history.find_references(s, None, limit=5)) == 5
        ref = in_2025[-1]
        start, end = ref.cue_span or (0, 0)
        assert ref.evidence[start:end].lower() == ref.cue.lower()
        with pytest.raises(history.HistoryError, match=r"did you mean .*c2a\.4\.2"):
            history.find_references(s, "c2a.4.22")


def test_commitment_timeline(seeded):
    with seeded.factory() as s:
        timeline = history.commitment_timeline(s, "c2a.7.4", by="quarter", now=NOW)
    labels = [p.label for p in timeline.periods]
    assert labels[0] == "2025-Q1" and labels[-1] == "2026-Q4" and len(labels) == 8
    by_label = {p.label: p for p in timeline.periods}
    assert by_label["2025-Q2"].by_publisher == {"Human Rights Watch": 1}
    assert (by_label["2025-Q2"].new_references, by_label["2025-Q2"].references) == (1, 2)
    assert by_label["2025-Q4"].new_references == 0 and by_label["2025-Q4"].quiet
    assert not by_label["2025-Q1"].quiet and not by_label["2026-Q4"].quiet
    assert timeline.quiet_spans == [(at("2025-05-20 06:00") + timedelta(days=120), at("2026-09-01 08:00"))]
    assert timeline.publishers == ["OHCHR", "Human Rights Watch"] and timeline.total_new == 3
    assert timeline.threshold_days == 120


def test_commitment_timeline_window_clips_spans(seeded):
    with seeded.factory() as s:
        timeline = history.commitment_timeline(
            s, "c2a.7.4", by="month", since=at("2026-01-01"), until=at("2026-07-01"), now=NOW
        )
    assert [p.label for p in timeline.periods] == [f"2026-0{m}" for m in range(1, 7)]
    assert all(p.quiet for p in timeline.periods) and timeline.total_new == 0
    assert timeline.quiet_spans == [(at("2026-01-01"), at("2026-07-01"))]


def test_unreferenced_commitment_has_an_empty_timeline(seeded):
    with seeded.factory() as s:
        timeline = history.commitment_timeline(s, "hr75.1", now=NOW)
    assert timeline.periods == [] and timeline.quiet_spans == []


def test_commitment_states_and_source_health(seeded):
    with seeded.factory() as s:
        states = {c.commitment_id: c for c in history.commitment_states(s)}
        health = {h.key: h for h in history.source_health(s, since=at("2026-10-01"), until=at("2026-11-01"))}
        counts = history.history_counts(s, since=at("2026-01-01"))
        new = history.new_references_by_commitment(s, since=at("2026-01-01"))
    assert states["c2a.4.2"].status == "quiet" and states["c2a.4"].status == "unchecked"
    assert states["c2a.7.4"].new_reference_count == 3
    assert health["hrw-news"].failed_polls == 3 and health["hrw-news"].polls == 4  # 5, 12, 19, 26 Oct
    assert health["hrw-news"].ok_ratio == pytest.approx(0.25)
    assert health["ohchr-press"].failed_polls == 0 and health["ohchr-press"].last_failed_poll_at is None
    assert health["ngo-coalition"].consecutive_failures == 4
    assert health["hrw-news"].last_failed_poll_at is not None
    assert health["hrw-news"].last_failed_poll_at.tzinfo is not None
    assert counts.statements == 4 and counts.changed_versions == 1
    assert new == {
        "c2a": 3,
        "c2a.3": 1,
        "c2a.3.7": 1,
        "c2a.4": 1,
        "c2a.4.2": 1,
        "c2a.7": 1,
        "c2a.7.4": 1,
        "ngo": 1,
        "ngo.8": 1,
    }


def test_export_batches_stream_in_order(seeded):
    with seeded.factory() as s:
        batches = list(history.export_batches(s, "references", batch_size=7))
        assert [len(b) for b in batches[:-1]] == [7] * (len(batches) - 1)
        ids = [row["reference_id"] for batch in batches for row in batch]
        assert ids == sorted(ids) and len(ids) == seeded.seed.references
        changes = [
            r
            for b in history.export_batches(s, "changes", since=at("2025-03-01"), until=at("2025-07-01"))
            for r in b
        ]
        # civic-space v2 and v3, then the killer-robots release (the budget story came on 1 July, 12:00)
        assert [r["seq"] for r in changes] == [2, 3, 1]
        assert changes[0]["added"] == ["He also called for a ban on lethal autonomous weapon systems."]
        only = [r for b in history.export_batches(s, "references", commitment_id="ngo.8") for r in b]
        assert {r["commitment_id"] for r in only} == {"ngo.8"} and len(only) == 4
        with pytest.raises(ValueError, match="unknown export"):
            list(history.export_batches(s, "alerts"))
        with pytest.raises(ValueError, match="references only"):
            list(history.export_batches(s, "statements", commitment_id="ngo.8"))

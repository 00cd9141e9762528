"""The v_* views: what each answers on the seeded history, identical on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from models import create_db_engine, make_session_factory, upgrade_database
from models.db import alembic_config
from models.history import (
    VIEW_NAMES,
    VIEWS,
    period_label,
    references_query,
    timeline_query,
    v_statement_changes,
)
from models.timeutil import UTCDateTime, as_utc
from tests.analysts.seed import at, seed_history
from tests.conftest import PG_URL

README = Path(__file__).parents[2] / "README.md"


def rows(seeded, sql: str, **params: Any) -> list[dict[str, Any]]:
    with seeded.engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def when(value: Any) -> datetime | None:
    """A view timestamp as aware UTC: SQLite hands back its stored text, PostgreSQL a datetime."""
    if value is None or isinstance(value, datetime):
        return as_utc(value)
    return as_utc(datetime.fromisoformat(value))


def test_every_view_exists(seeded):
    assert set(VIEW_NAMES) == {
        "v_statements",
        "v_references",
        "v_commitment_timeline",
        "v_commitment_status",
        "v_statement_changes",
        "v_source_health",
    }
    assert set(inspect(seeded.engine).get_view_names()) >= set(VIEW_NAMES)


def test_v_references_dates_and_flags(seeded):
    got = rows(
        seeded,
        "SELECT * FROM v_references WHERE commitment_id = :c ORDER BY referenced_at, reference_id",
        c="c2a.7.4",
    )
    summary = [(when(r["referenced_at"]), r["publisher"], r["version_seq"], bool(r["is_new"])) for r in got]
    assert summary == [
        # second version of the civic-space release: dated when that edit was fetched
        (at("2025-03-04 09:00"), "OHCHR", 2, True),
        # a first version: dated by its publication
        (at("2025-05-20 06:00"), "Human Rights Watch", 1, True),
        # the third version still refers: kept, but not new
        (at("2025-06-01 08:00"), "OHCHR", 3, False),
        (at("2026-09-01 08:00"), "OHCHR", 1, True),
    ]
    hrw = got[1]
    assert hrw["source_key"] == "hrw-news" and hrw["lang"] == "en"
    assert hrw["cue"] == "lethal autonomous weapon" and not hrw["implied"]
    assert hrw["evidence"][hrw["start_offset"] - hrw["evidence_start"] :].startswith(hrw["cue"])
    assert hrw["commitment_title"] == "A ban on lethal autonomous weapon systems"
    undated = rows(seeded, "SELECT referenced_at FROM v_references WHERE url LIKE '%undated-civic'")
    assert {when(r["referenced_at"]) for r in undated} == {at("2026-06-10 10:00")}  # fetched at
    assert rows(seeded, "SELECT COUNT(*) AS n FROM v_references")[0]["n"] == seeded.seed.references


def test_v_statements(seeded):
    got = {r["url"].rsplit("/", 1)[-1]: r for r in rows(seeded, "SELECT * FROM v_statements")}
    civic = got["civic-space"]
    assert civic["version_count"] == 3
    assert when(civic["last_changed_at"]) == at("2025-06-01 08:00")
    assert civic["commitment_count"] == 5  # c2a, c2a.4, c2a.4.2, c2a.7, c2a.7.4
    assert civic["reference_count"] == 3 + 5 + 5
    assert civic["source_key"] == "ohchr-press" and civic["publisher"] == "OHCHR"
    assert got["1150001"]["reference_count"] == 0 and got["1150001"]["lang"] == "fr"
    assert got["undated-civic"]["published_at"] is None


def test_v_commitment_timeline_grains(seeded):
    sql = (
        "SELECT period, publisher, reference_count, new_reference_count, direct_reference_count, "
        "statement_count FROM v_commitment_timeline WHERE commitment_id = :c AND grain = :g "
        "ORDER BY period, publisher"
    )
    quarters = [tuple(r.values()) for r in rows(seeded, sql, c="c2a.7.4", g="quarter")]
    assert quarters == [
        ("2025-Q1", "OHCHR", 1, 1, 1, 1),
        ("2025-Q2", "Human Rights Watch", 1, 1, 1, 1),
        ("2025-Q2", "OHCHR", 1, 0, 1, 1),
        ("2026-Q3", "OHCHR", 1, 1, 1, 1),
    ]
    months = [r["period"] for r in rows(seeded, sql, c="c2a.7.4", g="month")]
    assert months == ["2025-03", "2025-05", "2025-06", "2026-09"]
    years = [
        (r["period"], r["publisher"], r["statement_count"]) for r in rows(seeded, sql, c="c2a.7", g="year")
    ]
    # distinct statements: the civic-space release's two versions that refer count once
    assert years == [("2025", "Human Rights Watch", 1), ("2025", "OHCHR", 1), ("2026", "OHCHR", 1)]
    # the parent is implied by its child: references counted, none of them direct
    implied = rows(seeded, sql, c="c2a.7", g="year")
    assert sum(r["reference_count"] for r in implied) == 4
    assert sum(r["direct_reference_count"] for r in implied) == 0


def test_timeline_periods_match_python(seeded):
    """The SQL buckets and models.history.period_label agree on every reference date."""
    got = rows(seeded, "SELECT reference_id, referenced_at FROM v_references")
    stamp = {r["reference_id"]: when(r["referenced_at"]) for r in got}
    for grain in ("month", "quarter", "year"):
        counted = rows(
            seeded,
            "SELECT period, SUM(reference_count) AS n FROM v_commitment_timeline "
            "WHERE grain = :g GROUP BY period",
            g=grain,
        )
        expected: dict[str, int] = {}
        for moment in stamp.values():
            assert moment is not None
            expected[period_label(moment, grain)] = expected.get(period_label(moment, grain), 0) + 1
        assert {r["period"]: r["n"] for r in counted} == expected


def test_v_commitment_status(seeded):
    got = {r["commitment_id"]: r for r in rows(seeded, "SELECT * FROM v_commitment_status")}
    assert len(got) == 10
    assert got["c2a.4.2"]["status"] == "quiet" and when(got["c2a.4.2"]["status_since"]) == at(
        "2026-08-09 10:00"
    )
    assert got["c2a.4"]["status"] == "unchecked"  # the quiet step never wrote it
    assert got["c2a.4"]["threshold_days"] == 60  # from the catalog when the status has none
    assert got["ngo.8"]["status"] == "muted" and got["ngo.8"]["mute_reason"].startswith("expected lull")
    assert got["hr75.1"]["reference_count"] == 0 and got["hr75.1"]["last_referenced_at"] is None
    laws = got["c2a.7.4"]
    assert (laws["reference_count"], laws["new_reference_count"]) == (4, 3)
    assert when(laws["first_referenced_at"]) == at("2025-03-04 09:00")
    assert when(laws["last_referenced_at"]) == at("2026-09-01 08:00")
    # ngo.8: the revised report (not new) does not move the last new reference
    assert when(got["ngo.8"]["last_referenced_at"]) == at("2026-01-15 05:00")


def test_v_statement_changes(seeded):
    got = rows(
        seeded,
        "SELECT * FROM v_statement_changes WHERE url = :u ORDER BY seq",
        u="https://www.ohchr.org/en/press-releases/2025/02/civic-space",
    )
    assert [r["change_kind"] for r in got] == ["first", "changed", "changed"]
    assert got[0]["added"] is None and got[0]["previous_version_id"] is None
    second, third = got[1], got[2]
    added = second["added"]
    added = added if isinstance(added, list) else json.loads(added)  # SQLite: JSON text
    assert added == ["He also called for a ban on lethal autonomous weapon systems."]
    assert second["previous_seq"] == 1 and second["added_chars"] == len(added[0])
    assert third["removed_chars"] == len(
        "The High Commissioner welcomed the system-wide civic space strategy."
    ) + len("Civil society must be heard in every UN process.")
    assert third["text_chars"] > 0 and when(third["previous_fetched_at"]) == at("2025-03-04 09:00")


def test_v_source_health_which_sources_broke_last_month(seeded):
    broke = rows(
        seeded,
        "SELECT source_key, polls, failed_polls, ok_ratio FROM v_source_health "
        "WHERE period = '2026-10' AND failed_polls > 0",
    )
    assert [(r["source_key"], r["failed_polls"]) for r in broke] == [("hrw-news", 3)]
    assert 0 < broke[0]["ok_ratio"] < 1
    now = rows(
        seeded,
        "SELECT DISTINCT source_key, consecutive_failures, failing_since, last_error FROM v_source_health "
        "WHERE consecutive_failures > 0",
    )
    assert [r["source_key"] for r in now] == ["ngo-coalition"]
    assert when(now[0]["failing_since"]) == at("2026-11-10")
    months = rows(
        seeded, "SELECT period FROM v_source_health WHERE source_key = 'ohchr-press' ORDER BY period"
    )
    assert months[0]["period"] == "2024-11" and months[-1]["period"] == "2026-11" and len(months) == 25


def _readme_queries() -> list[str]:
    """The example SQL in the README's analysts section."""
    body = README.read_text(encoding="utf-8")
    section = body.split("<!-- analysts:start -->", 1)[1].split("<!-- analysts:end -->", 1)[0]
    return [q.strip() for q in re.findall(r"```sql\n(.*?)```", section, re.DOTALL)]


def test_readme_queries_run_and_answer(seeded):
    queries = _readme_queries()
    assert len(queries) >= 6
    for query in queries:
        for statement in filter(None, (s.strip() for s in query.split(";"))):
            result = rows(seeded, statement)
            assert result, f"README query answered nothing on {seeded.dialect}:\n{statement}"


def test_downgrade_drops_the_views_and_upgrade_restores_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'down.db'}"
    upgrade_database(url)
    command.downgrade(alembic_config(url), "0001")
    engine = create_db_engine(url)
    assert not set(inspect(engine).get_view_names()) & set(VIEW_NAMES)
    engine.dispose()
    upgrade_database(url)
    engine = create_db_engine(url)
    assert set(inspect(engine).get_view_names()) >= set(VIEW_NAMES)
    engine.dispose()


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every view's rows, normalised (times to aware UTC, JSON text to lists, floats rounded)."""
    engine = create_db_engine(url)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for view in VIEW_NAMES:
            result = conn.execute(text(f"SELECT * FROM {view}"))
            normal = []
            for row in result:
                values = []
                for key, value in zip(result.keys(), row, strict=True):
                    if isinstance(VIEWS.tables[view].c[key].type, UTCDateTime):
                        value = when(value)
                    elif key in {"added", "removed"} and isinstance(value, str):
                        value = json.loads(value)
                    elif isinstance(value, bool):
                        value = int(value)
                    elif isinstance(value, float):
                        value = round(value, 6)
                    values.append(value)
                normal.append(tuple(values))
            out[view] = sorted(normal, key=repr)
    engine.dispose()
    return out


@pytest.mark.skipif(not PG_URL, reason="PLEDGEWATCH_TEST_DATABASE_URL not set")
def test_views_identical_on_sqlite_and_postgresql(tmp_path):
    name = f"pw_views_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    pg = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    lite = f"sqlite:///{tmp_path / 'same.db'}"
    try:
        for url in (lite, pg):
            upgrade_database(url)
            engine = create_db_engine(url)
            seed_history(make_session_factory(engine))
            engine.dispose()
        a, b = _dump(lite), _dump(pg)
        for view in VIEW_NAMES:
            assert a[view], f"{view} is empty"
            assert a[view] == b[view], f"{view} differs between SQLite and PostgreSQL"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _plan(seeded, query) -> str:
    sql = str(query.compile(dialect=seeded.engine.dialect, compile_kwargs={"literal_binds": True}))
    with seeded.engine.connect() as conn:
        if seeded.dialect == "postgresql":
            # A handful of rows is cheaper to scan than to look up: forbid scans to show that the
            # planner *can* reach the index through the view (the bench shows it does at scale).
            conn.execute(text("SET enable_seqscan = off"))
            return "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {sql}")))
        return "\n".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))


def test_common_questions_reach_the_indexes_through_the_views(seeded):
    timeline = _plan(seeded, timeline_query("c2a.7.4", "month"))
    assert "ix_references_commitment_referenced" in timeline, timeline
    refs = _plan(seeded, references_query("c2a.7.4", limit=50))
    assert "ix_references_commitment_referenced" in refs, refs
    changes = _plan(
        seeded, v_statement_changes.select().where(v_statement_changes.c.statement_id == 2).order_by("seq")
    )
    # SQLite names the index of a table's unique constraint itself (sqlite_autoindex_versions_1)
    assert re.search(
        r"uq_versions_statement_id_seq|ix_versions_statement_fetched|v USING INDEX \S+ \(statement_id=",
        changes,
    ), changes

"""references.referenced_at and references.publisher: stamped by the database, for every writer."""

from __future__ import annotations

from sqlalchemy import select, update

from models import Reference, Statement, Version, create_db_engine, make_session_factory, upgrade_database
from models.db import insert_ignore
from tests.analysts.seed import at, seed_history


def _ref_row(version: Version, commitment_id: str, **extra) -> dict:
    return {
        "version_id": version.id,
        "statement_id": version.statement_id,
        "commitment_id": commitment_id,
        "score": 0.5,
        "cue": "cue",
        "evidence": "evidence",
        "start_offset": 0,
        "end_offset": 3,
        "created_at": at("2026-11-20 10:00"),
        **extra,
    }


def test_insert_ignore_rows_are_stamped(seeded):
    """The match step's way of writing (Core insert, on conflict do nothing) gets both stamps."""
    with seeded.factory() as s:
        sid = seeded.seed.statements["civic-space"]
        v1, v3 = (
            s.scalars(select(Version).where(Version.statement_id == sid, Version.seq == n)).one()
            for n in (1, 3)
        )
        inserted = insert_ignore(
            s, Reference, [_ref_row(v1, "hr75.1"), _ref_row(v3, "hr75.1")], ["version_id", "commitment_id"]
        )
        s.commit()
        assert inserted == 2
        stamps = {
            r.version_id: (r.referenced_at, r.publisher)
            for r in s.scalars(select(Reference).where(Reference.commitment_id == "hr75.1"))
        }
    assert stamps[v1.id] == (at("2025-02-10 09:00"), "OHCHR")  # first version: published
    assert stamps[v3.id] == (at("2025-06-01 08:00"), "OHCHR")  # a revision: when it was fetched


def test_orm_rows_are_stamped_and_explicit_values_kept(seeded):
    with seeded.factory() as s:
        version = s.scalars(
            select(Version).where(Version.statement_id == seeded.seed.statements["killer-robots"])
        ).one()
        plain = Reference(**_ref_row(version, "hr75.1"))
        given = Reference(**_ref_row(version, "c2a.3"), referenced_at=at("2020-01-01"), publisher="Someone")
        s.add_all([plain, given])
        s.commit()
        # FetchedValue: the ORM knows the database filled these and reads them back
        assert (plain.referenced_at, plain.publisher) == (at("2025-05-20 06:00"), "Human Rights Watch")
        assert (given.referenced_at, given.publisher) == (at("2020-01-01"), "Someone")


def test_statement_changes_follow_into_references(seeded):
    """A date found later, or a publisher renamed, re-stamps the statement's references."""
    sid = seeded.seed.statements["undated-civic"]
    with seeded.factory() as s:
        s.execute(update(Statement).where(Statement.id == sid).values(published_at=at("2026-06-01 07:00")))
        s.commit()
        dated = set(s.scalars(select(Reference.referenced_at).where(Reference.statement_id == sid)))
        statement = s.get(Statement, sid)
        assert statement is not None
        statement.publisher = "OHCHR Geneva"
        s.commit()
        publishers = set(s.scalars(select(Reference.publisher).where(Reference.statement_id == sid)))
        civic = seeded.seed.statements["civic-space"]
        s.execute(update(Statement).where(Statement.id == civic).values(published_at=at("2025-02-09 00:00")))
        s.commit()
        civic_dates = sorted(
            (seq, when)
            for seq, when in s.execute(
                select(Version.seq, Reference.referenced_at)
                .join(Version, Version.id == Reference.version_id)
                .where(Reference.statement_id == civic, Reference.commitment_id == "c2a.4.2")
            )
        )
    assert dated == {at("2026-06-01 07:00")}
    assert publishers == {"OHCHR Geneva"}
    # only the first version moves with the publication date; revisions keep their fetch time
    assert civic_dates == [(1, at("2025-02-09")), (2, at("2025-03-04 09:00")), (3, at("2025-06-01 08:00"))]


def test_upgrade_backfills_references_stored_before_the_triggers(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade_database(url, "0001")
    engine = create_db_engine(url)
    seed_history(make_session_factory(engine))  # at 0001: no triggers, stamps left empty
    with engine.connect() as conn:
        assert conn.scalar(select(Reference.id).where(Reference.referenced_at.is_(None)).limit(1)) is not None
    engine.dispose()
    upgrade_database(url)
    engine = create_db_engine(url)
    with make_session_factory(engine)() as s:
        missing = s.scalars(
            select(Reference).where(Reference.referenced_at.is_(None) | Reference.publisher.is_(None))
        )
        assert list(missing) == []
        laws = s.scalars(
            select(Reference.referenced_at)
            .where(Reference.commitment_id == "c2a.7.4")
            .order_by(Reference.referenced_at)
        ).all()
    engine.dispose()
    assert laws[0] == at("2025-03-04 09:00")

"""The pipeline's match step with the real matcher: stored references, and only new text alerts."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from models import Reference, Statement, Version, session_scope
from pipeline.match import run_match

CIVIC = (
    "GENEVA – The High Commissioner warned that restrictions on civic space are spreading.\n"
    "Human rights defenders who cooperate with the United Nations face reprisals, she said."
)


def _add_version(ctx, statement_id: int | None, seq: int, text: str) -> int:
    with session_scope(ctx.factory) as session:
        if statement_id is None:
            statement = Statement(
                url_hash=hashlib.sha1(b"https://example.org/s/1").hexdigest(),
                url="https://example.org/s/1",
                title="Civic space must be protected",
                lang="en",
            )
            session.add(statement)
            session.flush()
            statement_id = statement.id
        session.add(
            Version(
                statement_id=statement_id,
                seq=seq,
                content_hash=hashlib.sha256(text.encode()).hexdigest(),
                title="Civic space must be protected",
                text=text,
                lang="en",
            )
        )
    return statement_id


def _refs(ctx, seq: int) -> dict[str, Reference]:
    with session_scope(ctx.factory) as session:
        version = session.scalars(select(Version).where(Version.seq == seq)).one()
        rows = session.scalars(select(Reference).where(Reference.version_id == version.id)).all()
        session.expunge_all()
        return {r.commitment_id: r for r in rows}


def test_changed_statement_keeps_old_references_but_flags_them_not_new(make_ctx):
    ctx = make_ctx()
    statement_id = _add_version(ctx, None, 1, CIVIC)
    first = run_match(ctx)
    assert first.versions == 1
    v1 = _refs(ctx, 1)
    assert {"c2a.4", "hr75.1", "ngo.5"} <= set(v1)
    assert all(r.is_new for r in v1.values())
    civic = v1["c2a.4"]
    assert CIVIC[civic.start_offset : civic.end_offset].lower() == "civic space"

    _add_version(
        ctx, statement_id, 2, CIVIC + "\nShe also called on all States to abolish the death penalty."
    )
    second = run_match(ctx)
    assert second.versions == 1
    v2 = _refs(ctx, 2)
    assert v2["ngo.8"].is_new is True
    assert v2["c2a.4"].is_new is False and v2["ngo.5"].is_new is False
    assert second.new_references == 1

    again = run_match(ctx)  # idempotent: nothing pending, nothing stored twice
    assert again.versions == 0 and len(_refs(ctx, 2)) == len(v2)

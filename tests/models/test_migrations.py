"""Alembic owns the schema: migrations build it from empty, on both databases, and match the models."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from models import Base, upgrade_database
from models.db import create_db_engine, current_revision
from tests.conftest import PG_URL

TABLES = {
    "sources",
    "source_polls",
    "fetch_state",
    "statements",
    "versions",
    "deltas",
    "commitments",
    "commitment_status",
    "references",
    "alerts",
    "runs",
}


def _check_schema(url: str) -> None:
    upgrade_database(url)
    upgrade_database(url)  # idempotent
    engine = create_db_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert current_revision(engine) is not None
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
    finally:
        engine.dispose()


def test_sqlite_from_empty(tmp_path):
    _check_schema(f"sqlite:///{tmp_path / 'sub' / 'fresh.db'}")
    assert (tmp_path / "sub" / "fresh.db").exists()


def test_sqlite_uses_wal(tmp_path):
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    upgrade_database(url)
    engine = create_db_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="PLEDGEWATCH_TEST_DATABASE_URL not set")
def test_postgresql_from_empty():
    name = f"pw_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _check_schema(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

"""Fixtures for the analysts' suite: the seeded history on each database, the CLI pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import time_machine
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from models import create_db_engine, make_session_factory
from tests.analysts.seed import NOW, SeededHistory, seed_history


@dataclass
class SeededDb:
    url: str
    engine: Engine
    factory: sessionmaker[Session]
    seed: SeededHistory

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


@pytest.fixture
def seeded(db_url: str) -> Iterator[SeededDb]:
    """The two-year seeded history in a fresh database (SQLite, and PostgreSQL when configured)."""
    engine = create_db_engine(db_url)
    factory = make_session_factory(engine)
    seed = seed_history(factory)
    yield SeededDb(db_url, engine, factory, seed)
    engine.dispose()


@pytest.fixture
def at_now() -> Iterator[None]:
    """The clock at the seed's NOW (2026-11-20 12:00 UTC), still ticking."""
    with time_machine.travel(NOW):
        yield


@pytest.fixture
def cli(seeded: SeededDb, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Callable[..., Result]:
    """Run ``pledgewatch ...`` against the seeded database, the clock at NOW."""
    import pipeline.commands  # noqa: F401  (registers every command)
    from pipeline.cli import app

    monkeypatch.setenv("PLEDGEWATCH_DATABASE_URL", seeded.url)
    monkeypatch.setenv("PLEDGEWATCH_DATA_DIR", str(tmp_path))
    runner = CliRunner()

    def run(*args: str) -> Result:
        with time_machine.travel(NOW):
            return runner.invoke(app, list(args), env={"COLUMNS": "220"})

    return run

"""Shared fixtures: both databases, a local site, a fake Slack, a ready Context.

The suite runs every database test on SQLite, and again on PostgreSQL when
``PLEDGEWATCH_TEST_DATABASE_URL`` is set (``.ci/run`` always sets it).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile
from collections.abc import Iterator

# Airflow reads its configuration at import time: set it before anything imports airflow.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="pw-airflow-home-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(pathlib.Path(__file__).parents[1] / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(pathlib.Path(__file__).parents[1] / "plugins")
# Never let a developer's own settings leak into tests.
for _key in list(os.environ):
    if _key.startswith("PLEDGEWATCH_") and _key != "PLEDGEWATCH_TEST_DATABASE_URL":
        del os.environ[_key]

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from models import Base, upgrade_database  # noqa: E402
from pipeline.context import Context  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from tests.support.site import LocalSite  # noqa: E402
from tests.support.slack import FakeSlack  # noqa: E402

PG_URL = os.environ.get("PLEDGEWATCH_TEST_DATABASE_URL", "")
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])


def pytest_report_header(config: pytest.Config) -> str:
    where = make_url(PG_URL).render_as_string(hide_password=True) if PG_URL else "not set (SQLite only)"
    return f"pledgewatch databases: {', '.join(DATABASES)}; PostgreSQL: {where}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    upgrade_database(PG_URL)
    return PG_URL


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[str]:
    """A migrated, empty database: SQLite, and PostgreSQL when configured."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "pledgewatch.db"
        shutil.copy(template, target)
        yield f"sqlite:///{target}"
    else:
        url = request.getfixturevalue("postgres_migrated")
        _truncate_all(url)
        yield url


@pytest.fixture
def site() -> Iterator[LocalSite]:
    server = LocalSite()
    yield server
    server.close()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    server = FakeSlack()
    yield server
    server.close()


def test_settings(db_url: str, data_dir: pathlib.Path, **overrides: object) -> Settings:
    base = Settings(
        data_dir=data_dir,
        database_url=db_url,
        builtin_sources=False,
        allow_private_addresses=True,
        min_delay_s=0.0,
        delay_jitter_s=0.0,
        retry_backoff_s=0.01,
        connect_timeout_s=2.0,
        read_timeout_s=3.0,
        slack_min_interval_s=0.0,
        public_url="https://pledgewatch.example.org",
    )
    return base.with_overrides(**overrides) if overrides else base


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.fixture
def make_ctx(db_url: str, tmp_path: pathlib.Path) -> Iterator[object]:
    """Build Contexts on the test database; each closed at teardown."""
    made: list[Context] = []

    def build(**overrides: object) -> Context:
        ctx = Context(settings=test_settings(db_url, tmp_path, **overrides), trigger="test")
        made.append(ctx)
        return ctx

    yield build
    for ctx in made:
        ctx.close()

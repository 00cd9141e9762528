"""Airflow fixtures: a migrated metadata DB in the session's AIRFLOW_HOME, the parsed DagBag, and
the PLEDGEWATCH_* environment a task reads (tasks run in-process under ``dag.test()``)."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable, Iterator

import pytest

DAGS = pathlib.Path(__file__).parents[2] / "dags"


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A fresh Airflow metadata DB (SQLite under the temporary AIRFLOW_HOME set in tests/conftest.py)."""
    from airflow.utils import db

    db.resetdb()


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


@pytest.fixture
def pipeline_env(
    db_url: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., pathlib.Path]:
    """Point the tasks' settings at the test database; returns a writer for the source registry."""

    def configure(registry: str, **settings: str) -> pathlib.Path:
        path = tmp_path / "sources.yaml"
        path.write_text(registry)
        values = {
            "DATABASE_URL": db_url,
            "DATA_DIR": str(tmp_path),
            "SOURCES_FILE": str(path),
            "BUILTIN_SOURCES": "false",
            "ALLOW_PRIVATE_ADDRESSES": "true",
            "MIN_DELAY_S": "0",
            "DELAY_JITTER_S": "0",
            "SLACK_MIN_INTERVAL_S": "0",
            "PUBLIC_URL": "https://pledgewatch.example.org",
            **settings,
        }
        for key, value in values.items():
            monkeypatch.setenv(f"PLEDGEWATCH_{key}", value)
        return path

    return configure


@pytest.fixture
def slack_connection(monkeypatch: pytest.MonkeyPatch, slack) -> Iterator[str]:
    """The Airflow Connection ``pledgewatch_slack`` (webhook) pointing at the fake Slack."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_PLEDGEWATCH_SLACK",
        json.dumps({"conn_type": "slackwebhook", "password": slack.webhook_url}),
    )
    yield "pledgewatch_slack"

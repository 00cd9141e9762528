"""The demo runs offline: statements stored, references found, alerts printed, second pass quiet."""

from __future__ import annotations

import sqlite3

from typer.testing import CliRunner


def test_demo_command(tmp_path):
    import pipeline.commands  # noqa: F401
    from pipeline.cli import app

    result = CliRunner().invoke(app, ["demo", "--data-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "pass 1" in out and "5 new statements" in out
    assert "pass 2" in out and "0 new statements, 0 new versions, 0 new references, 0 alerts" in out
    assert "c2a.7.4" in out and "ngo.8" in out and "c2a.3.7" in out
    db = sqlite3.connect(tmp_path / "demo.db")
    assert db.execute("select count(*) from statements").fetchone()[0] == 5
    assert db.execute("select count(*) from alerts where status = 'console'").fetchone()[0] >= 4
    db.close()

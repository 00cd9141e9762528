"""The analyst commands end to end through the real CLI, on both databases."""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models.history import v_references, v_statement_changes, v_statements


def ok(result):
    assert result.exit_code == 0, result.output
    return result.stdout


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- history ------------------------------------------------------------------------------


def test_history_table_and_diff(cli, seeded):
    sid = seeded.seed.statements["civic-space"]
    out = ok(cli("history", str(sid), "--diff", "1..3"))
    assert "High Commissioner welcomes the civic space strategy" in out
    assert "3 versions" in out and "Versions" in out
    assert "+1 / -2 paragraphs" in out  # version 3
    assert "c2a.7.4" in out
    assert "--- version 1 (2025-02-10 15:00 UTC)" in out
    assert "+He also called for a ban on lethal autonomous weapon systems." in out
    assert "-Civil society must be heard in every UN process." in out


def test_history_by_url_as_linked(cli, seeded):
    """A URL as found in the wild (http, trailing slash, tracking parameter) finds the statement."""
    out = ok(
        cli("history", "http://www.ohchr.org/en/press-releases/2025/02/civic-space/?utm_source=x", "--json")
    )
    data = json.loads(out)
    assert data["statement"]["id"] == seeded.seed.statements["civic-space"]
    assert [v["seq"] for v in data["versions"]] == [1, 2, 3]
    assert data["versions"][1]["added"] == ["He also called for a ban on lethal autonomous weapon systems."]
    assert data["diff"] is None and data["text"] is None


def test_history_json_diff_and_show(cli, seeded):
    sid = seeded.seed.statements["death-penalty-report"]
    data = json.loads(ok(cli("history", str(sid), "--diff", "1..2", "--show", "2", "--json")))
    assert data["diff"]["added"] == ["Correction: figures for two countries were updated."]
    assert data["diff"]["removed"] == []
    assert data["text"].endswith("Correction: figures for two countries were updated.")


def test_history_prints_markup_lookalikes_literally(cli, seeded):
    out = ok(cli("history", str(seeded.seed.statements["budget"])))
    assert "Le budget [2026] de l'ONU adopté [/]" in out


def test_history_errors_are_clear(cli, seeded):
    missing = cli("history", "999999")
    assert missing.exit_code == 2 and "no statement 999999" in missing.output
    nowhere = cli("history", "https://example.org/never-seen")
    assert nowhere.exit_code == 2 and "example.org/never-seen" in nowhere.output
    bad = cli("history", str(seeded.seed.statements["civic-space"]), "--diff", "1-3")
    assert bad.exit_code == 2 and "1..3" in bad.output
    beyond = cli("history", str(seeded.seed.statements["civic-space"]), "--diff", "1..9")
    assert beyond.exit_code == 2 and "has no version 9" in beyond.output


# --- references ---------------------------------------------------------------------------


def test_references_json_with_filters(cli):
    rows = json_lines(ok(cli("references", "-c", "c2a.7.4", "--since", "2025", "--until", "2025", "--json")))
    assert [r["referenced_at"][:10] for r in rows] == ["2025-06-01", "2025-05-20", "2025-03-04"]
    assert [r["is_new"] for r in rows] == [False, True, True]
    assert rows[1]["evidence"].startswith("A treaty on lethal autonomous weapon systems <b>now</b>")
    hrw = json_lines(ok(cli("references", "-c", "ngo.8", "--publisher", "human rights watch", "--json")))
    assert len(hrw) == 2 and {r["publisher"] for r in hrw} == {"Human Rights Watch"}
    french = json_lines(ok(cli("references", "-c", "c2a.4.2", "--lang", "fr", "--json")))
    assert [r["url"] for r in french] == ["https://news.un.org/fr/story/2025/10/1160001"]
    newest = json_lines(ok(cli("references", "-c", "c2a.4.2", "--new-only", "--limit", "2", "--json")))
    assert [r["referenced_at"][:10] for r in newest] == ["2026-06-10", "2025-10-15"]


def test_references_table(cli):
    out = ok(cli("references", "-c", "c2a.7.4"))
    assert "c2a.7.4 — A ban on lethal autonomous weapon systems: 4 references" in out
    assert "Human Rights Watch" in out and "<b>now</b>" in out and "again" in out


def test_references_unknown_commitment(cli):
    result = cli("references", "-c", "c2a.7.44")
    assert result.exit_code == 2 and "unknown commitment 'c2a.7.44'" in result.output
    assert "c2a.7.4" in result.output  # the suggestion
    bad_date = cli("references", "-c", "c2a.7.4", "--since", "last tuesday")
    assert bad_date.exit_code == 2 and "not a date" in bad_date.output


# --- timeline -----------------------------------------------------------------------------


def test_timeline_json(cli):
    data = json.loads(ok(cli("timeline", "-c", "c2a.7.4", "--by", "quarter", "--json")))
    assert data["threshold_days"] == 120 and data["publishers"] == ["OHCHR", "Human Rights Watch"]
    periods = {p["label"]: p for p in data["periods"]}
    labels = [p["label"] for p in data["periods"]]
    assert labels[0] == "2025-Q1" and labels[-1] == "2026-Q4"
    assert periods["2025-Q2"]["by_publisher"] == {"Human Rights Watch": 1}
    assert periods["2026-Q1"]["quiet"] and not periods["2025-Q1"]["quiet"]
    assert data["quiet_spans"] == [["2025-09-17T06:00:00+00:00", "2026-09-01T08:00:00+00:00"]]


def test_timeline_table_by_month_in_window(cli):
    out = ok(cli("timeline", "-c", "ngo.8", "--by", "month", "--since", "2025-10", "--until", "2026-02"))
    lines = out.splitlines()
    assert "2025-10" in out and "2026-02" in out and "2026-03" not in out
    assert "ONU Info" in out and "Human Rights Watch" in out
    october = next(line for line in lines if "2025-10" in line)
    november = next(line for line in lines if "2025-11" in line)
    assert " 1 " in october and " 1 " not in november


def test_timeline_rejects_bad_options(cli):
    assert cli("timeline", "-c", "c2a.7.4", "--by", "week").exit_code == 2
    bad_plot = cli("timeline", "-c", "c2a.7.4", "--plot", "chart.txt")
    assert bad_plot.exit_code == 2 and ".png or .html" in bad_plot.output


# --- export -------------------------------------------------------------------------------


def test_export_csv_to_stdout(cli, seeded):
    out = ok(cli("export", "--what", "references", "--format", "csv"))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [c.name for c in v_references.columns]
    assert len(rows) == seeded.seed.references
    assert [int(r["reference_id"]) for r in rows] == sorted(int(r["reference_id"]) for r in rows)
    hrw = next(r for r in rows if r["url"].endswith("killer-robots") and r["commitment_id"] == "c2a.7.4")
    assert (
        hrw["evidence"]
        == 'A treaty on lethal autonomous weapon systems <b>now</b> & "without delay" is needed.'
    )
    assert hrw["is_new"] == "true" and hrw["referenced_at"] == "2025-05-20T06:00:00+00:00"


def test_export_jsonl_file_in_small_batches(cli, seeded, tmp_path):
    target = tmp_path / "out" / "changes.jsonl"
    result = cli(
        "export", "--what", "changes", "--format", "jsonl", "--out", str(target), "--batch-size", "2"
    )
    assert result.exit_code == 0, result.output
    assert f"exported {seeded.seed.versions} changes rows" in result.stderr
    rows = json_lines(target.read_text(encoding="utf-8"))
    assert len(rows) == seeded.seed.versions and list(rows[0]) == [
        c.name for c in v_statement_changes.columns
    ]
    changed = [r for r in rows if r["change_kind"] == "changed"]
    assert len(changed) == 4 and all(isinstance(r["added"], list) for r in changed)
    assert not list(tmp_path.glob("out/*.part"))
    same = ok(cli("export", "--what", "changes", "--format", "jsonl"))
    assert json_lines(same) == rows  # batch size does not change the output


def test_export_parquet(cli, seeded, tmp_path):
    target = tmp_path / "statements.parquet"
    ok(cli("export", "--what", "statements", "--format", "parquet", "-o", str(target), "--since", "2025"))
    table = pq.read_table(target)
    assert table.schema.names == [c.name for c in v_statements.columns]
    assert table.schema.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("version_count").type == pa.int64()
    titles = table.column("title").to_pylist()
    assert "Human Rights Day 2024" not in titles  # published in 2024
    assert "Parity <script>alert('x')</script> & leadership" in titles
    assert table.num_rows == 7  # dated 2025 or later; the undated statement is left out
    changes = tmp_path / "changes.parquet"
    ok(cli("export", "--what", "changes", "--format", "parquet", "-o", str(changes)))
    added = pq.read_table(changes).column("added")
    assert added.type == pa.list_(pa.string())
    assert ["Correction: figures for two countries were updated."] in added.to_pylist()


def test_export_references_of_one_commitment(cli):
    rows = json_lines(ok(cli("export", "--what", "references", "--format", "jsonl", "-c", "c2a.3.7")))
    assert [(r["commitment_id"], r["publisher"]) for r in rows] == [
        ("c2a.3.7", "NGO Coalition <Rights & Co>")
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--what", "alerts"], "--what is one of"),
        (["--what", "references", "--format", "xlsx"], "--format is one of"),
        (["--what", "references", "--format", "parquet"], "give a file with --out"),
        (["--what", "statements", "-c", "ngo.8"], "references only"),
    ],
)
def test_export_errors(cli, args, message):
    result = cli("export", *args)
    assert result.exit_code == 2 and message in result.output


def test_commands_say_when_the_views_are_missing(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import pipeline.commands  # noqa: F401
    from models import upgrade_database
    from pipeline.cli import app

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade_database(url, "0001")
    monkeypatch.setenv("PLEDGEWATCH_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["references", "-c", "c2a.7.4"])
    assert result.exit_code == 2 and "pledgewatch db upgrade" in result.output

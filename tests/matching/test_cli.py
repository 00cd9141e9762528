"""``pledgewatch match`` and ``pledgewatch eval``: files and pipes, output shapes, bad lines, streaming."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

import pipeline.commands  # noqa: F401  (registers every command)
from matching.normalize import phrase_keys
from pipeline.cli import app

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_KEYS = {"commitment", "score", "cue", "evidence", "start", "end"}
FIGURES = {"precision", "recall", "f1"}

ROWS = [
    {
        "id": "en-1",
        "lang": "en",
        "title": "Executions at a ten-year high",
        "text": "GENEVA – The number of executions rose again.\n\nThe report urges every State to abolish "
        "the Death Penalty and to establish a moratorium on executions.",
    },
    {
        "id": "fr-1",
        "lang": "fr",
        "text": "Le Secrétaire général a renouvelé son appel à interdire les systèmes d’armes létales "
        "autonomes, « politiquement inacceptables et moralement répugnantes ».",
    },
    {
        "id": "es-1",
        "text": "La Oficina pidió proteger el espacio cívico y liberar a las personas defensoras de "
        "derechos humanos detenidas por participar en protestas pacíficas.",
    },
    {"id": "none", "lang": "en", "text": "The committee approved the budget for conference services."},
]


def runner() -> CliRunner:
    return CliRunner(env={"COLUMNS": "200"})


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def contiguous(needle: list[str], hay: list[str]) -> bool:
    return any(hay[i : i + len(needle)] == needle for i in range(len(hay) - len(needle) + 1))


def check_output(rows: list[dict], lines: list[str]) -> dict[str, list[dict]]:
    """Every line has the documented shape; every offset points at the cue in the input text."""
    by_id = {row["id"]: row for row in rows}
    out: dict[str, list[dict]] = {}
    for line in lines:
        result = json.loads(line)
        assert set(result) == {"id", "references"}, result
        row = by_id[result["id"]]
        lang = row.get("lang") or "es"
        for ref in result["references"]:
            assert set(ref) >= REFERENCE_KEYS, ref
            assert isinstance(ref["score"], (int, float)) and ref["score"] > 0
            span = row["text"][ref["start"] : ref["end"]]
            assert span and span in ref["evidence"], (span, ref["evidence"])
            assert ref["evidence"] in row["text"]
            # the span holds every part of the cue, as the matcher reads them (stems, any case)
            keys = phrase_keys(span, lang)
            for part in ref["cue"].split("~"):
                assert contiguous(phrase_keys(part, lang), keys), (part, span)
        out[result["id"]] = result["references"]
    return out


def test_match_reads_a_file_and_writes_a_file(tmp_path):
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(jsonl(ROWS), encoding="utf-8")
    result = runner().invoke(app, ["match", "--input", str(source), "--output", str(target)])
    assert result.exit_code == 0, result.output
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [r["id"] for r in ROWS]
    refs = check_output(ROWS, lines)
    assert {r["commitment"] for r in refs["en-1"]} == {"ngo.8"}
    death = refs["en-1"][0]
    assert ROWS[0]["text"][death["start"] : death["end"]] == "Death Penalty"
    assert {"c2a.7", "c2a.7.4"} <= {r["commitment"] for r in refs["fr-1"]}
    assert {"c2a.4", "hr75.1", "ngo.5"} <= {r["commitment"] for r in refs["es-1"]}  # language detected
    assert refs["none"] == []


def test_match_dash_means_stdin_and_stdout():
    result = runner().invoke(app, ["match", "--input", "-", "--output", "-"], input=jsonl(ROWS))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(ROWS)
    check_output(ROWS, lines)
    default = runner().invoke(app, ["match", "-i", "-"], input=jsonl(ROWS[:1]))  # stdout by default
    assert default.exit_code == 0 and json.loads(default.stdout)["id"] == "en-1"


def test_a_bad_line_is_reported_clearly_and_the_rest_still_matched():
    text = (
        jsonl(ROWS[:1])
        + "this is not json\n"
        + "\n"  # blank lines are skipped silently
        + json.dumps({"id": "no-text", "body": "..."})
        + "\n"
        + json.dumps({"id": "bad-lang", "text": "x", "lang": 3})
        + "\n"
        + "[1, 2]\n"
        + jsonl(ROWS[1:2])
    )
    result = runner().invoke(app, ["match", "--input", "-"], input=text)
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["en-1", None, "no-text", "bad-lang", None, "fr-1"]
    errors = {o["line"]: o["error"] for o in out if "error" in o}
    assert errors[2].startswith("not valid JSON")
    assert errors[4] == "the object has no string 'text'"
    assert errors[5] == "'lang' must be a string or absent"
    assert errors[6].startswith("expected a JSON object")
    assert all(o["references"] == [] for o in out if "error" in o)
    assert out[0]["references"] and out[-1]["references"]
    assert "line 2: not valid JSON" in result.stderr and "4 line(s) could not be matched" in result.stderr


def test_a_missing_input_file_is_an_error(tmp_path):
    result = runner().invoke(app, ["match", "--input", str(tmp_path / "absent.jsonl")])
    assert result.exit_code != 0


def test_match_streams_each_result_before_the_input_ends():
    """Fed through a pipe, the first result comes out while the input is still open: the command
    never reads the whole input first (and so its memory does not grow with the input)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from pipeline.cli import main; main()", "match", "--input", "-"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},  # block-buffered, as in a pipe
    )
    lines: queue.Queue[bytes] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(b) for b in iter(proc.stdout.readline, b"")], daemon=True
    ).start()
    try:
        assert proc.stdin is not None
        for row in ROWS[:2]:
            proc.stdin.write((json.dumps(row) + "\n").encode())
            proc.stdin.flush()
            first = json.loads(lines.get(timeout=120))  # input still open: no EOF yet
            assert first["id"] == row["id"] and first["references"]
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


# ---------------------------------------------------------------------------------------- eval

GOLD = [
    {**ROWS[0], "labels": ["ngo.8"]},  # found
    {**ROWS[1], "labels": ["c2a.7.4"]},  # found, and c2a.7 implied on both sides
    {**ROWS[2], "labels": ["c2a.4", "hr75.1", "ngo.5", "ngo.8"], "lang": "es"},  # ngo.8 missed
    {**ROWS[3], "labels": []},
    {
        "id": "named",
        "lang": "en",
        "text": "Five years after the Call to Action for Human Rights.",
        "labels": ["c2a"],
    },
]


def test_eval_json_has_the_documented_shape(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(jsonl(GOLD), encoding="utf-8")
    result = runner().invoke(app, ["eval", "--gold", str(gold), "--json"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert {"micro", "top", "action", "family", "by_lang", "by_id"} <= set(data)
    for scope in ("micro", "top", "action", "family"):
        assert set(data[scope]) == FIGURES
    assert set(data["by_lang"]) == {"en", "fr", "es"}
    assert all(set(v) == FIGURES for v in data["by_lang"].values())
    assert all(set(v) == FIGURES for v in data["by_id"].values())
    # the figures themselves: one id missed (ngo.8 in the Spanish text), none wrongly predicted
    assert data["by_id"]["ngo.8"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667}
    assert data["action"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert data["family"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert data["micro"]["precision"] == 1.0 and data["micro"]["recall"] < 1.0
    assert data["by_lang"]["fr"]["f1"] == 1.0 and data["by_lang"]["es"]["recall"] == 0.75


def test_eval_prints_tables(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(jsonl(GOLD), encoding="utf-8")
    result = runner().invoke(app, ["eval", "--gold", str(gold), "--errors"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for label in ("micro (all ids)", "top level", "actions", "families", "language en", "language fr"):
        assert label in out
    assert "per commitment" in out and "c2a.7.4" in out and "ngo.8" in out
    assert "gold.jsonl: 5 statements" in out
    assert "es-1: missed ngo.8" in out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not JSON"),
        ('{"id": "x", "text": "t"}', "'labels' must be a list"),
        ("[1]", "needs 'text'"),
    ],
)
def test_eval_refuses_a_bad_gold_file(tmp_path, line, message):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(jsonl(GOLD[:1]) + line + "\n", encoding="utf-8")
    result = runner().invoke(app, ["eval", "--gold", str(gold)])
    assert result.exit_code == 2
    assert message in result.output and "gold.jsonl:2" in result.output

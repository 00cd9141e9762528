"""Matching commands: run the matcher over JSON lines, and score it against a labelled set.

Both read the catalog the pipeline uses (``PLEDGEWATCH_CATALOG_FILE`` or the built-in one), so
what ``pledgewatch eval`` measures is exactly what the match step stores.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import typer
from rich.table import Table

from matching import Matcher, load_catalog
from matching.evaluate import Counts, evaluate, matcher_predictor
from pipeline.cli import app, console, err_console
from pipeline.settings import load_settings


def _matcher(catalog: Path | None) -> Matcher:
    return Matcher(load_catalog(catalog or load_settings().catalog_file))


@contextlib.contextmanager
def _open(path: str, mode: str) -> Iterator[TextIO]:
    """A file, or stdin/stdout for '-'; UTF-8 either way."""
    if path == "-":
        stream = sys.stdin if "r" in mode else sys.stdout
        if hasattr(stream, "reconfigure"):  # whatever the locale says
            stream.reconfigure(encoding="utf-8")
        yield stream
        if "w" in mode:
            stream.flush()
        return
    with open(path, mode, encoding="utf-8") as handle:
        yield handle


def _reference(match: Any) -> dict[str, Any]:
    return {
        "commitment": match.commitment,
        "score": match.score,
        "cue": match.cue,
        "evidence": match.evidence,
        "start": match.start,
        "end": match.end,
        "method": match.method,
        "implied": match.implied,
    }


def _parse_line(line: str) -> dict[str, Any]:
    """One input line as a row, or a ValueError that says plainly what is wrong with it."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(row, dict):
        raise ValueError(
            f"expected a JSON object {{id, text, lang?, title?, url?}}, got {type(row).__name__}"
        )
    if not isinstance(row.get("text"), str):
        raise ValueError("the object has no string 'text'")
    for key in ("lang", "title"):
        if row.get(key) is not None and not isinstance(row[key], str):
            raise ValueError(f"'{key}' must be a string or absent")
    return row


def _id_of(line: str) -> Any:
    """The 'id' of a line that could not be matched, when it has one."""
    try:
        row = json.loads(line)
    except ValueError:
        return None
    return row.get("id") if isinstance(row, dict) else None


@app.command("match")
def match_cmd(
    input_path: str = typer.Option(
        ..., "--input", "-i", help="JSON lines {id, text, lang?, title?, url?}; '-' for stdin."
    ),
    output_path: str = typer.Option("-", "--output", "-o", help="Where to write JSON lines; '-' for stdout."),
    catalog: Path | None = typer.Option(
        None, "--catalog", help="Another catalog YAML (default: the configured one)."
    ),
) -> None:
    """Match statements line by line (streams: memory stays flat however large the file).

    Each output line is written and flushed as soon as its input line is matched, so the command
    can sit in a pipe. A bad line is reported on stderr with its number, written out with an
    'error' key, and the run goes on; the exit status is 1 if any line was bad.
    """
    matcher = _matcher(catalog)
    bad = 0
    with _open(input_path, "r") as source, _open(output_path, "w") as sink:
        for number, line in enumerate(source, 1):
            if not line.strip():
                continue
            try:
                row = _parse_line(line)
                matches = matcher.match(row["text"], lang=row.get("lang"), title=row.get("title"))
                out: dict[str, Any] = {"id": row.get("id"), "references": [_reference(m) for m in matches]}
            except ValueError as exc:
                bad += 1
                err_console.print(f"[red]line {number}:[/red] {exc}", markup=True, highlight=False)
                out = {"id": _id_of(line), "line": number, "error": str(exc), "references": []}
            sink.write(json.dumps(out, ensure_ascii=False) + "\n")
            sink.flush()
    if bad:
        err_console.print(f"{bad} line(s) could not be matched; they are marked with 'error' in the output")
        raise typer.Exit(1)


def _read_gold(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise typer.BadParameter(f"{path}:{number}: not JSON ({exc})") from exc
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise typer.BadParameter(f"{path}:{number}: needs 'text' (string) and 'labels' (list)")
            if not isinstance(row.get("labels"), list):
                raise typer.BadParameter(f"{path}:{number}: 'labels' must be a list of commitment ids")
            rows.append(row)
    return rows


def _figures_row(name: str, counts: Counts) -> list[str]:
    figures = counts.figures()
    return [
        name,
        f"{figures['precision']:.3f}",
        f"{figures['recall']:.3f}",
        f"{figures['f1']:.3f}",
        str(counts.tp),
        str(counts.fp),
        str(counts.fn),
    ]


@app.command("eval")
def eval_cmd(
    gold: Path = typer.Option(
        ..., "--gold", exists=True, dir_okay=False, help="JSON lines {id, text, lang, labels}."
    ),
    as_json: bool = typer.Option(False, "--json", help="One machine-readable JSON line."),
    errors: bool = typer.Option(False, "--errors", help="Also list each statement's missed and extra ids."),
    catalog: Path | None = typer.Option(
        None, "--catalog", help="Another catalog YAML (default: the configured one)."
    ),
) -> None:
    """Precision, recall and F1 of the matcher on a labelled set (micro, per level, language and id)."""
    matcher = _matcher(catalog)
    result = evaluate(_read_gold(gold), matcher.catalog, matcher_predictor(matcher))
    if as_json:
        print(json.dumps(result.as_dict()))
        return
    figures = result.scopes()
    table = Table(
        "scope",
        "precision",
        "recall",
        "F1",
        "tp",
        "fp",
        "fn",
        title=f"{gold.name}: {result.statements} statements",
    )
    table.add_row(*_figures_row("micro (all ids)", figures["micro"]))
    for level, label in (("top", "top level"), ("action", "actions"), ("family", "families")):
        table.add_row(*_figures_row(label, figures[level]))
    for lang, values in figures["by_lang"].items():
        table.add_row(*_figures_row(f"language {lang}", values))
    console.print(table)
    per_id = Table("id", "precision", "recall", "F1", "tp", "fp", "fn", title="per commitment")
    for cid, values in figures["by_id"].items():
        per_id.add_row(*_figures_row(cid, values))
    console.print(per_id)
    if errors:
        for err in result.errors:
            console.print(
                f"{err['id']}: missed {', '.join(err['missed']) or '-'}; extra {', '.join(err['extra']) or '-'}"
            )

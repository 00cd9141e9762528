"""Exports of the analyst views as CSV, JSON lines or Parquet, streamed batch by batch.

Rows come from ``models.history.export_batches`` (a server-side cursor on PostgreSQL) and
leave as soon as their batch is written, so exporting millions of rows holds one batch in
memory. The columns, their names and their order are those of the view, in every format.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Integer
from sqlalchemy.orm import Session

from models.history import EXPORTS, export_batches
from models.timeutil import UTCDateTime

FORMATS = ("csv", "jsonl", "parquet")


@dataclass(frozen=True)
class ExportResult:
    what: str
    format: str
    rows: int
    path: Path | None  # None: written to the given stream


def _plain(value: Any) -> Any:
    """One value as JSON/CSV see it: ISO 8601 times, JSON text for lists."""
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return _plain(value)


def arrow_schema(what: str) -> Any:
    """The Parquet schema of one export, from the view's column types."""
    import pyarrow as pa

    fields = []
    for column in EXPORTS[what].view.columns:
        kind = column.type
        if isinstance(kind, UTCDateTime):
            arrow = pa.timestamp("us", tz="UTC")
        elif isinstance(kind, Boolean):
            arrow = pa.bool_()
        elif isinstance(kind, BigInteger | Integer):
            arrow = pa.int64()
        elif isinstance(kind, Float):
            arrow = pa.float64()
        elif isinstance(kind, JSON):
            arrow = pa.list_(pa.string())
        else:
            arrow = pa.string()
        fields.append(pa.field(column.name, arrow))
    return pa.schema(fields)


@contextmanager
def _atomic(path: Path, mode: str) -> Iterator[IO[Any]]:
    """Write beside the target and rename at the end: a failed export leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    kwargs: dict[str, Any] = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
    try:
        with open(partial, mode, **kwargs) as handle:
            yield handle
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _write_text(
    batches: Iterator[list[dict[str, Any]]], fmt: str, stream: IO[str], columns: list[str]
) -> int:
    rows = 0
    if fmt == "csv":
        writer = csv.writer(stream)
        writer.writerow(columns)
        for batch in batches:
            writer.writerows([_csv_cell(row[c]) for c in columns] for row in batch)
            rows += len(batch)
    else:
        for batch in batches:
            stream.writelines(
                json.dumps({c: _plain(row[c]) for c in columns}, ensure_ascii=False) + "\n" for row in batch
            )
            rows += len(batch)
    return rows


def _write_parquet(batches: Iterator[list[dict[str, Any]]], what: str, handle: IO[bytes]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(what)
    rows = 0
    with pq.ParquetWriter(handle, schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            rows += len(batch)
    return rows


def export(
    session: Session,
    what: str,
    fmt: str,
    *,
    out: Path | None = None,
    stream: IO[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    commitment_id: str | None = None,
    batch_size: int = 10_000,
) -> ExportResult:
    """Export one view (``references``, ``statements``, ``changes``) to ``out`` or ``stream``."""
    if what not in EXPORTS:
        raise ValueError(f"unknown export {what!r}: choose one of {', '.join(EXPORTS)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fmt == "parquet" and out is None:
        raise ValueError("Parquet is binary: give a file with --out")
    columns = [c.name for c in EXPORTS[what].view.columns]
    batches = export_batches(
        session, what, since=since, until=until, commitment_id=commitment_id, batch_size=batch_size
    )
    if out is None:
        assert stream is not None
        return ExportResult(what, fmt, _write_text(batches, fmt, stream, columns), None)
    if fmt == "parquet":
        with _atomic(out, "wb") as handle:
            rows = _write_parquet(batches, what, handle)
    else:
        with _atomic(out, "w") as handle:
            rows = _write_text(batches, fmt, handle, columns)
    return ExportResult(what, fmt, rows, out)

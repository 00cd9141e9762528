"""The commitment catalog: one YAML entry per commitment, with cues in English, French and Spanish."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BUILTIN = Path(__file__).with_name("catalog.yaml")
LANGS = ("en", "fr", "es")
ID_PATTERN = re.compile(r"^(c2a|hr75|ngo)(\.\d+){0,2}$")


class CatalogError(ValueError):
    """The catalog file is invalid; the message names the entry."""


@dataclass(frozen=True)
class Entry:
    id: str
    parent: str | None
    title: str
    level: str  # family | top | action
    family: str
    source: str = ""
    quiet_days: int | None = None
    cues: dict[str, list[str]] = field(default_factory=dict)
    negatives: dict[str, list[str]] = field(default_factory=dict)
    rules: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    entries: dict[str, Entry]
    digest: str

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, commitment_id: str) -> Entry | None:
        return self.entries.get(commitment_id)

    def ancestors(self, commitment_id: str) -> list[str]:
        out: list[str] = []
        entry = self.entries.get(commitment_id)
        while entry is not None and entry.parent:
            out.append(entry.parent)
            entry = self.entries.get(entry.parent)
        return out


def level_of(commitment_id: str) -> str:
    depth = commitment_id.count(".")
    return ("family", "top", "action")[min(depth, 2)]


def _source_text(raw: Any) -> str:
    if isinstance(raw, dict):
        return " / ".join(str(v) for v in raw.values() if v)
    return str(raw or "")


def parse_catalog(data: dict[str, Any], *, digest: str = "") -> Catalog:
    entries: dict[str, Entry] = {}
    raw_entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(raw_entries, list):
        raise CatalogError("catalog needs a top-level 'entries:' list")
    for raw in raw_entries:
        cid = str(raw.get("id", ""))
        if not ID_PATTERN.match(cid):
            raise CatalogError(f"invalid commitment id {cid!r}")
        if cid in entries:
            raise CatalogError(f"duplicate commitment id {cid!r}")
        cues = {lang: [str(c) for c in (raw.get("cues") or {}).get(lang) or []] for lang in LANGS}
        negatives = {lang: [str(c) for c in (raw.get("negatives") or {}).get(lang) or []] for lang in LANGS}
        entries[cid] = Entry(
            id=cid,
            parent=raw.get("parent"),
            title=str(raw.get("title", "")),
            level=level_of(cid),
            family=cid.split(".")[0],
            source=_source_text(raw.get("source")),
            quiet_days=raw.get("quiet_days"),
            cues=cues,
            negatives=negatives,
            rules=dict(raw.get("rules") or {}),
        )
    for entry in entries.values():
        if entry.parent and entry.parent not in entries:
            raise CatalogError(f"{entry.id}: parent {entry.parent!r} is not in the catalog")
    return Catalog(entries=entries, digest=digest)


def load_catalog(path: Path | None = None) -> Catalog:
    path = path or BUILTIN
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc}") from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog {path} is not valid YAML: {exc}") from exc
    return parse_catalog(data, digest=hashlib.sha256(raw).hexdigest()[:16])

"""The source registry: ``scrapers/sources.yaml``, optionally merged with the user's own file.

A user file may add sources, or override a built-in one by using its ``key`` (for example
``{key: hrw-news, enabled: false}`` switches one off).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Source, utcnow
from scrapers.discover import Discoverer

BUILTIN = Path(__file__).with_name("sources.yaml")
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{1,98}$")
# Keys of a source entry that are stored as columns; every other key lands in ``config``.
COLUMNS = {"key", "publisher", "kind", "url", "languages", "poll_interval_minutes", "enabled"}


class RegistryError(ValueError):
    """The registry file is invalid; the message names the file and the entry."""


@dataclass(frozen=True)
class SourceSpec:
    key: str
    publisher: str
    kind: str
    url: str
    languages: list[str] = field(default_factory=list)
    poll_interval_minutes: int = 30
    enabled: bool = True
    config: dict[str, Any] = field(default_factory=dict)


def _validate(entry: dict[str, Any], where: str) -> SourceSpec:
    missing = [k for k in ("key", "publisher", "kind", "url") if not entry.get(k)]
    if missing:
        raise RegistryError(f"{where}: missing {', '.join(missing)}")
    if not KEY.match(str(entry["key"])):
        raise RegistryError(f"{where}: key {entry['key']!r} must be lower-case letters, digits and dashes")
    if entry["kind"] not in Discoverer.registry:
        raise RegistryError(f"{where}: unknown kind {entry['kind']!r}; known: {sorted(Discoverer.registry)}")
    if not str(entry["url"]).startswith(("http://", "https://")):
        raise RegistryError(f"{where}: url must be http(s)")
    pattern = entry.get("pattern")
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise RegistryError(f"{where}: invalid pattern {pattern!r}: {exc}") from exc
    config = {k: v for k, v in entry.items() if k not in COLUMNS}
    return SourceSpec(
        key=str(entry["key"]),
        publisher=str(entry["publisher"]),
        kind=str(entry["kind"]),
        url=str(entry["url"]),
        languages=[str(x) for x in entry.get("languages") or []],
        poll_interval_minutes=int(entry.get("poll_interval_minutes", 30)),
        enabled=bool(entry.get("enabled", True)),
        config=config,
    )


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise RegistryError(f"cannot read source registry {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RegistryError(f"source registry {path} is not valid YAML: {exc}") from exc
    entries = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RegistryError(f"{path}: expected a top-level 'sources:' list")
    return entries


def load_registry(user_file: Path | None = None, *, include_builtin: bool = True) -> list[SourceSpec]:
    """The effective source list: built-ins, then the user's entries merged by key."""
    merged: dict[str, dict[str, Any]] = {}
    files = ([BUILTIN] if include_builtin else []) + ([user_file] if user_file else [])
    for path in files:
        for i, entry in enumerate(_read(path)):
            if not isinstance(entry, dict) or "key" not in entry:
                raise RegistryError(f"{path}: entry {i + 1} needs a 'key'")
            merged.setdefault(str(entry["key"]), {}).update(entry)
    return [_validate(entry, f"source {key!r}") for key, entry in merged.items()]


def sync_sources(session: Session, specs: list[SourceSpec], *, exclusive: bool = False) -> list[Source]:
    """Upsert the registry into the ``sources`` table (health columns are left alone).

    With ``exclusive``, sources no longer in the registry are disabled (never deleted: their
    statements and history stay).
    """
    existing = {s.key: s for s in session.scalars(select(Source))}
    rows: list[Source] = []
    for spec in specs:
        row = existing.get(spec.key)
        if row is None:
            row = Source(key=spec.key)
            session.add(row)
        row.publisher = spec.publisher
        row.kind = spec.kind
        row.url = spec.url
        row.languages = spec.languages
        row.poll_interval_s = spec.poll_interval_minutes * 60
        row.enabled = spec.enabled
        row.config = spec.config
        row.updated_at = utcnow()
        rows.append(row)
    if exclusive:
        keys = {spec.key for spec in specs}
        for key, row in existing.items():
            if key not in keys:
                row.enabled = False
    session.flush()
    return rows

"""The source registry: ``scrapers/sources.yaml``, optionally merged with the user's own file.

A user file may add sources, or override a built-in one key by key (for example
``{key: hrw-news, enabled: false}`` switches one off, ``{key: hrw-news, poll_interval_minutes:
120}`` polls it less often); the merged entry is validated as a whole.

Every entry is checked when loaded, so a typo fails at start-up with the file and the key
named, not in the middle of a pass: required fields, known kinds, a compilable URL pattern
(required where links are chosen from a whole document: listings and sitemaps), CSS selectors
that parse, an ``example`` statement URL that the pattern accepts, and no unknown keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Source, utcnow
from scrapers.discover import Discoverer

BUILTIN = Path(__file__).with_name("sources.yaml")
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{1,98}$")
# Keys of a source entry that are stored as columns; every other key lands in ``config``.
COLUMNS = {"key", "publisher", "kind", "url", "languages", "poll_interval_minutes", "enabled"}
SELECTORS = {
    "link_selector",
    "next_selector",
    "content_selector",
    "title_selector",
    "date_selector",
    "drop_selector",
}
CONFIG_KEYS = SELECTORS | {
    "urls",
    "pattern",
    "allowed_hosts",
    "example",
    "notes",
    "min_text_chars",
    "max_age_days",
}
PATTERN_REQUIRED = {"listing", "sitemap"}

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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

    @property
    def entry_urls(self) -> list[str]:
        return [self.url, *self.config.get("urls", [])]

    @property
    def allowed_hosts(self) -> frozenset[str]:
        return frozenset(self.config.get("allowed_hosts") or [])


def _check_selector(selector: Any, where: str, name: str) -> None:
    from cssselect import GenericTranslator, SelectorError

    if not isinstance(selector, str) or not selector.strip():
        raise RegistryError(f"{where}: {name} must be a CSS selector string")
    try:
        GenericTranslator().css_to_xpath(selector)
    except SelectorError as exc:
        raise RegistryError(f"{where}: {name} {selector!r} is not valid CSS: {exc}") from exc


def _validate(entry: dict[str, Any], where: str) -> SourceSpec:
    missing = [k for k in ("key", "publisher", "kind", "url") if not entry.get(k)]
    if missing:
        raise RegistryError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(entry) - COLUMNS - CONFIG_KEYS)
    if unknown:
        raise RegistryError(f"{where}: unknown field(s) {', '.join(unknown)}")
    if not KEY.match(str(entry["key"])):
        raise RegistryError(f"{where}: key {entry['key']!r} must be lower-case letters, digits and dashes")
    kind = entry["kind"]
    if kind not in Discoverer.registry:
        raise RegistryError(f"{where}: unknown kind {kind!r}; known: {sorted(Discoverer.registry)}")
    urls = [entry["url"], *(entry.get("urls") or [])]
    for url in urls:
        if (
            not isinstance(url, str)
            or not url.startswith(("http://", "https://"))
            or not urlsplit(url).hostname
        ):
            raise RegistryError(f"{where}: {url!r} is not an absolute http(s) URL")
    languages = entry.get("languages") or []
    if not isinstance(languages, list) or not all(isinstance(x, str) and len(x) in {2, 3} for x in languages):
        raise RegistryError(f"{where}: languages must be a list of ISO 639 codes like [en, fr]")
    try:
        poll = int(entry.get("poll_interval_minutes", 30))
    except (TypeError, ValueError):
        raise RegistryError(f"{where}: poll_interval_minutes must be a whole number") from None
    if poll < 1:
        raise RegistryError(f"{where}: poll_interval_minutes must be at least 1")
    pattern = entry.get("pattern")
    compiled = None
    if pattern:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise RegistryError(f"{where}: invalid pattern {pattern!r}: {exc}") from exc
    elif kind in PATTERN_REQUIRED:
        raise RegistryError(f"{where}: a {kind} source needs a 'pattern' (the URL shape of a statement)")
    example = entry.get("example")
    if example and compiled is not None and not compiled.search(example):
        raise RegistryError(f"{where}: example {example!r} does not match pattern {pattern!r}")
    for name in SELECTORS & set(entry):
        _check_selector(entry[name], where, name)
    allowed = entry.get("allowed_hosts")
    if allowed is None:
        allowed = sorted({(urlsplit(u).hostname or "").lower() for u in urls})
    if not isinstance(allowed, list) or not all(isinstance(h, str) and h for h in allowed):
        raise RegistryError(f"{where}: allowed_hosts must be a list of host names")
    allowed = [h.lower() for h in allowed]
    for url in urls:
        host = (urlsplit(url).hostname or "").lower()
        if not any(host == h or host.endswith("." + h) for h in allowed):
            raise RegistryError(f"{where}: {url} is outside allowed_hosts {allowed}")
    config = {k: v for k, v in entry.items() if k not in COLUMNS}
    config["allowed_hosts"] = allowed
    return SourceSpec(
        key=str(entry["key"]),
        publisher=str(entry["publisher"]),
        kind=str(kind),
        url=str(entry["url"]),
        languages=[str(x).lower() for x in languages],
        poll_interval_minutes=poll,
        enabled=bool(entry.get("enabled", True)),
        config=config,
    )


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}
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
    specs = [_validate(entry, f"source {key!r}") for key, entry in merged.items()]
    _check_shared_statements(specs)
    return specs


# How a statement page is read; two sources that reach the same page must read it alike.
EXTRACTION_KEYS = ("content_selector", "title_selector", "date_selector", "drop_selector", "min_text_chars")


def _check_shared_statements(specs: list[SourceSpec]) -> None:
    """Refuse two sources that reach the same statements but extract them differently.

    A statement is one row whichever source found it (un.org/sg's feed and its listing,
    OHCHR's listings and its sitemap). If the two read the page with different selectors,
    each re-validation stores the other's text as a new version, and the history flaps
    between them for ever. Overlap is judged by each source's ``example`` URL against the
    other's ``pattern``: the example is the registry's own statement of what a source finds.
    """
    for a in specs:
        example = a.config.get("example")
        if not example:
            continue
        for b in specs:
            pattern = b.config.get("pattern")
            if b is a or not pattern or not re.search(pattern, example):
                continue
            differ = [k for k in EXTRACTION_KEYS if a.config.get(k) != b.config.get(k)]
            if differ:
                raise RegistryError(
                    f"sources {a.key!r} and {b.key!r} reach the same statements ({example}) but "
                    f"extract them differently ({', '.join(differ)}); give both the same settings"
                )


def sync_sources(session: Session, specs: list[SourceSpec], *, exclusive: bool = False) -> list[Source]:
    """Upsert the registry into the ``sources`` table (health columns are left alone).

    Only what changed is written (a pass over hundreds of unchanged sources writes nothing).
    With ``exclusive``, sources no longer in the registry are disabled (never deleted: their
    statements and history stay).
    """
    existing = {s.key: s for s in session.scalars(select(Source))}
    rows: list[Source] = []
    now = utcnow()
    for spec in specs:
        row = existing.get(spec.key)
        if row is None:
            row = Source(key=spec.key, created_at=now)
            session.add(row)
        values = {
            "publisher": spec.publisher,
            "kind": spec.kind,
            "url": spec.url,
            "languages": spec.languages,
            "poll_interval_s": spec.poll_interval_minutes * 60,
            "enabled": spec.enabled,
            "config": spec.config,
        }
        changed = {k: v for k, v in values.items() if getattr(row, k, None) != v}
        if changed:
            for name, value in changed.items():
                setattr(row, name, value)
            row.updated_at = now
        rows.append(row)
    if exclusive:
        keys = {spec.key for spec in specs}
        for key, row in existing.items():
            if key not in keys and row.enabled:
                row.enabled = False
                row.updated_at = now
    session.flush()
    return rows
